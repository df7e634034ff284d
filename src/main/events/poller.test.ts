// The poll reconciler against a real devticker over HTTP: baseline on first run, subscriptions made directly at the
// devticker (HTTP POST or its sim) turned into immediate backfills, removals released, a restart diffing against the
// persisted set, a failed listing never read as "nothing subscribed", and the devticker's own signed webhook.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import type { TickerSubscription } from '../ticker/types';
import { HealthRegistry } from '../metrics/health';
import type { InboxRow } from './inbox';
import { httpLister, startTestIntake, tempStatePath, TEST_SECRET, type TestIntake } from './testing/support';
import { WEBHOOK_PATH } from './webhook';

let dt: DevTicker;
let tokens: number[];

beforeAll(async () => {
  dt = await startDevTicker({ port: 0, clockMode: 'always-open', autoTick: false });
  const expiry = dt.registry.expiries('NIFTY')[0];
  tokens = dt.registry
    .chain('NIFTY', expiry)
    .slice(0, 8)
    .map((i) => i.token);
});
afterAll(async () => dt?.close());

const pollRows = (t: TestIntake): InboxRow[] => t.state.db.prepare("SELECT * FROM event_inbox WHERE source = 'poll' ORDER BY id").all() as InboxRow[];
const settledAll = (t: TestIntake) => expect.poll(() => t.intake.inbox.pending(), { message: 'inbox drained' }).toBe(0);

async function subscribeOverHttp(token: number): Promise<void> {
  const res = await fetch(`${dt.url}/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instrument_token: token }),
  });
  expect(res.status).toBe(201);
  dt.sim.applyNow();
}

describe('poll reconciler', () => {
  const path = tempStatePath();
  const health = new HealthRegistry('test');

  it('records a baseline on the first run: pre-existing subscriptions emit nothing', async () => {
    dt.sim.subscribe([tokens[0], tokens[1]]);
    const t = await startTestIntake({ statePath: path, ticker: () => httpLister(dt.url), health });
    try {
      expect(await t.intake.poller.runNow('test')).toEqual({ kind: 'baseline', active: 2 });
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', active: 2, created: 0, removed: 0 });
      expect(t.intake.poller.status().baselineAt).not.toBeNull();
      expect(pollRows(t)).toEqual([]);
      expect(t.backfill.calls).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('turns a subscription made directly at the devticker into an immediate backfill, and a removal into a release', async () => {
    const t = await startTestIntake({ statePath: path, ticker: () => httpLister(dt.url), health });
    try {
      await subscribeOverHttp(tokens[2]);
      dt.sim.unsubscribe(tokens[0]);
      // One listing without a row is not a removal (the service's paging can skip a row): the next one confirms it.
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', active: 2, created: 1, removed: 0 });
      await settledAll(t);
      expect(t.subscriptions.released).toEqual([]);
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', active: 2, created: 0, removed: 1 });
      await settledAll(t);
      expect(t.backfill.calls).toEqual([
        { scope: { kind: 'instrument', token: tokens[2] }, createdBy: 'event:poll', reason: expect.stringContaining('poll event appeared') },
      ]);
      expect(t.subscriptions.released).toEqual([{ token: tokens[0], reason: 'poll event vanished' }]);
      const rows = pollRows(t);
      expect(rows.map((r) => [r.type, r.token, r.state, r.outcome_code])).toEqual([
        ['created', tokens[2], 'done', 'backfill_queued'],
        ['removed', tokens[0], 'done', 'released'],
      ]);
      expect(rows[0].tradingsymbol).toBe(dt.registry.byToken(tokens[2])!.tradingsymbol);
      const probe = health.report().components.intake_poller;
      expect(probe).toMatchObject({ status: 'ok', lastEventAt: expect.any(String) });
      expect(probe.detail).toMatch(/^2 active subscriptions/);
    } finally {
      await t.close();
    }
  });

  it('after a restart, diffs against the persisted set: changes made while down get events', async () => {
    dt.sim.subscribe(tokens[3]);
    const t = await startTestIntake({ statePath: path, ticker: () => httpLister(dt.url), poll: true });
    try {
      // The start-up cycle finds the one change, and only it.
      await expect.poll(() => pollRows(t).some((r) => r.token === tokens[3] && r.state === 'done'), { message: 'the start-up cycle event' }).toBeTruthy();
      expect(
        pollRows(t)
          .filter((r) => r.type === 'created')
          .map((r) => r.token),
      ).toEqual([tokens[2], tokens[3]]);
      expect(t.backfill.calls.map((c) => c.scope)).toEqual([{ kind: 'instrument', token: tokens[3] }]);
    } finally {
      await t.close();
    }
  });

  it('never reads a failed listing as "nothing subscribed"', async () => {
    const t = await startTestIntake({ statePath: path, ticker: () => httpLister(dt.url), health });
    try {
      dt.sim.setFaults({ errorRate: 1 });
      const result = await t.intake.poller.runNow('test');
      expect(result).toMatchObject({ kind: 'failed', error: expect.stringContaining('500') });
      expect(pollRows(t).filter((r) => r.type === 'removed')).toHaveLength(1);
      expect(health.report().components.intake_poller).toMatchObject({ status: 'degraded', detail: expect.stringMatching(/^last poll failed/) });
      dt.sim.setFaults({ errorRate: 0 });
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', created: 0, removed: 0, active: 3 });
      expect(health.report().components.intake_poller.status).toBe('ok');
    } finally {
      dt.sim.reset();
      await t.close();
    }
  });

  it("does not queue a second backfill when a push event already did (the devticker's own signed webhook)", async () => {
    const t = await startTestIntake({ statePath: path, ticker: () => httpLister(dt.url) });
    const pusher = await startDevTicker({
      port: 0,
      clockMode: 'always-open',
      autoTick: false,
      webhookUrl: `${t.url}${WEBHOOK_PATH}`,
      webhookSecret: TEST_SECRET,
    });
    try {
      // The second devticker is the one that signs deliveries; the subscription itself is mirrored at the first.
      pusher.sim.subscribe(tokens[4]);
      await expect
        .poll(
          () =>
            (t.state.db.prepare("SELECT state FROM event_inbox WHERE source = 'webhook' AND token = ?").get(tokens[4]) as { state: string } | undefined)?.state,
          { message: 'signed devticker webhook processed' },
        )
        .toBe('done');
      expect(pusher.sim.counters().webhookFailures).toBe(0);
      dt.sim.subscribe(tokens[4]);
      await t.intake.poller.runNow('test');
      await settledAll(t);
      const row = pollRows(t).find((r) => r.token === tokens[4])!;
      expect(row).toMatchObject({ state: 'done', outcome_code: 'already_handled' });
      expect(row.outcome).toMatch(/already queued by webhook event #\d+/);
      expect(t.backfill.calls.filter((c) => c.scope.kind === 'instrument' && c.scope.token === tokens[4])).toHaveLength(1);
    } finally {
      await pusher.close();
      await t.close();
    }
  });

  it('survives the real service\'s rows: null and "" accounts, a repeated row, a row skipped by one pass', async () => {
    // The service's own example answer (fixtures/ticker-service), listed in passes that page an unordered table.
    const rows = JSON.parse(readFileSync(join(process.cwd(), 'fixtures/ticker-service/subscriptions-list.json'), 'utf8')) as TickerSubscription[];
    const active = rows.filter((r) => r.status === 'active');
    const passes: TickerSubscription[][] = [
      active,
      [...active, active[0], active[1]], // repeated rows
      active.slice(1), // active[0] skipped by one pass
      active, // ... and back: no event either way
      active.slice(1), // gone ...
      active.slice(1), // ... confirmed
    ];
    const lister = { listAllSubscriptions: async () => passes.shift() ?? [] };
    const t = await startTestIntake({ statePath: tempStatePath(), ticker: () => lister });
    try {
      expect(await t.intake.poller.runNow('test')).toEqual({ kind: 'baseline', active: 3 });
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', active: 3, created: 0, removed: 0 });
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', created: 0, removed: 0 });
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', created: 0, removed: 0 });
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', created: 0, removed: 0 });
      expect(await t.intake.poller.runNow('test')).toMatchObject({ kind: 'diff', created: 0, removed: 1 });
      await settledAll(t);
      expect(pollRows(t).map((r) => [r.type, r.token])).toEqual([['removed', active[0].instrument_token]]);
      expect(t.subscriptions.released).toEqual([{ token: active[0].instrument_token, reason: 'poll event vanished' }]);
    } finally {
      await t.close();
    }
  });

  it('is disabled in health without a ticker client, and makes no events', async () => {
    const h = new HealthRegistry('test');
    const t = await startTestIntake({ statePath: tempStatePath(), health: h, poll: true });
    try {
      expect(await t.intake.poller.runNow('test')).toEqual({ kind: 'unavailable', reason: 'ticker client not running' });
      expect(h.report().components.intake_poller).toMatchObject({ status: 'disabled', detail: 'ticker client not running' });
    } finally {
      await t.close();
    }
  });
});
