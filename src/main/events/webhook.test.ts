// The webhook over real HTTP (HttpServer on port 0, a real SQLite file): every bad input, authentication (signature,
// tolerance, replay, plain header), both body schemas, duplicates processed once, actions and their outcomes.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackfillJob, BackfillScope } from '../../shared/api';
import { DomainError } from '../../shared/result';
import { HealthRegistry } from '../metrics/health';
import { eventHandlers } from '../api/events';
import { FlagService } from '../flags/flags';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import type { InboxRow } from './inbox';
import { openState, planBody, postEvent, redisBody, signedHeaders, startTestIntake, tempStatePath, TEST_SECRET, type TestIntake } from './testing/support';
import { signDelivery } from './webhook-auth';

const rows = (t: TestIntake): InboxRow[] => t.state.db.prepare('SELECT * FROM event_inbox ORDER BY id').all() as InboxRow[];
const rowCount = (t: TestIntake): number => (t.state.db.prepare('SELECT count(*) AS n FROM event_inbox').get() as { n: number }).n;
const settled = (t: TestIntake, id: number) =>
  vi.waitFor(
    () => {
      const row = t.intake.inbox.get(id);
      if (!row || (row.state !== 'done' && row.state !== 'failed')) throw new Error(`event #${id} not processed yet (${row?.state ?? 'no row'})`);
      return row;
    },
    { timeout: 10_000, interval: 10 },
  );

let t: TestIntake;
const counted: { source: string; type: string; outcome: string }[] = [];
const telemetry: Telemetry = { ...noopTelemetry, intakeEvent: (source, type, outcome) => counted.push({ source, type, outcome }) };
const health = new HealthRegistry('test');

beforeAll(async () => {
  t = await startTestIntake({ telemetry, health });
});
afterAll(async () => t?.close());

describe('webhook: bad input gets a clear 4xx and writes nothing', () => {
  it('405 with Allow for a wrong method', async () => {
    const res = await fetch(`${t.url}/internal/subscription-events`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('415 for a body that is not JSON', async () => {
    const res = await postEvent(t.url, { body: 'event_type=created', contentType: 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.body.detail).toMatch(/application\/json/);
  });

  it('400 for malformed JSON', async () => {
    const res = await postEvent(t.url, { body: '{"event_type": "created",' });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/malformed JSON/);
  });

  it('422 naming the field for a schema error', async () => {
    const body = JSON.stringify({ event_type: 'created', instrument_token: '13660418', tradingsymbol: 'NIFTY25NOV24500CE', timestamp: '2025-11-04T09:15:00Z' });
    const res = await postEvent(t.url, { body });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('instrument_token');
    expect(res.body.detail).toMatch(/^instrument_token: /);
    const badTime = await postEvent(t.url, { body: planBody(5, 'created', 'yesterday') });
    expect(badTime.status).toBe(422);
    expect(badTime.body.errors[0].field).toBe('timestamp');
    const missing = await postEvent(t.url, { body: JSON.stringify({ event_type: 'subscription_created', instrument_token: 5, timestamp: 1762247700 }) });
    expect(missing.status).toBe(422);
    expect(missing.body.errors[0].field).toBe('metadata');
    const millis = await postEvent(t.url, { body: redisBody(5, 'subscription_created', 1762247700123) });
    expect(millis.status).toBe(422);
    expect(millis.body.detail).toMatch(/timestamp: expected epoch seconds/);
  });

  it('422 for an unknown event_type, naming event_type', async () => {
    const res = await postEvent(t.url, { body: planBody(5, 'paused') });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('event_type');
    expect(res.body.detail).toMatch(/created/);
  });

  it('413 for a body over 64 KiB, declared or streamed', async () => {
    const big = planBody(5, 'created', new Date().toISOString(), { metadata: { pad: 'x'.repeat(65 * 1024) } });
    const declared = await postEvent(t.url, { body: big });
    expect(declared.status).toBe(413);
    // Chunked, no Content-Length: the limit is enforced while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${t.url}/internal/subscription-events`,
        { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(big) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 8192) req.write(big.slice(i, i + 8192));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('401 for missing, malformed or wrong credentials', async () => {
    const body = planBody(5);
    const none = await fetch(`${t.url}/internal/subscription-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { detail: string }).detail).toMatch(/missing/);
    const wrongSecret = await postEvent(t.url, { body, secret: 'another-secret-another-secret' });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.detail).toBe('invalid signature');
    const ts = Math.floor(Date.now() / 1000);
    const tampered = await postEvent(t.url, {
      body: planBody(6),
      headers: { 'x-strikedesk-timestamp': String(ts), 'x-strikedesk-signature': signDelivery(TEST_SECRET, ts, body) },
    });
    expect(tampered.status).toBe(401);
    const malformed = await postEvent(t.url, { body, headers: { 'x-strikedesk-signature': 'md5=abc' } });
    expect(malformed.status).toBe(401);
    expect(malformed.body.detail).toMatch(/malformed credentials/);
    const plain = await postEvent(t.url, { body, headers: { 'x-webhook-secret': TEST_SECRET, 'x-strikedesk-signature': '' } });
    expect(plain.status).toBe(401);
  });

  it('401 for the plain X-Webhook-Secret header unless configured', async () => {
    const body = planBody(5);
    const res = await fetch(`${t.url}/internal/subscription-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': TEST_SECRET },
      body,
    });
    expect(res.status).toBe(401);
  });

  it('401 for a stale or far-future timestamp (5-minute tolerance), even correctly signed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = await postEvent(t.url, { body: planBody(5), timestamp: now - 302 });
    expect(stale.status).toBe(401);
    expect(stale.body.detail).toMatch(/stale timestamp/);
    const future = await postEvent(t.url, { body: planBody(5), timestamp: now + 302 });
    expect(future.status).toBe(401);
    const edge = await postEvent(t.url, { body: planBody(7, 'created', '2025-11-04T09:15:07Z'), timestamp: now - 290 });
    expect(edge.status).toBe(202);
  });

  it('none of the rejected requests wrote anything', () => {
    // Only the in-tolerance delivery of the previous test is a row.
    expect(rows(t).map((r) => r.token)).toEqual([7]);
    expect(counted.filter((c) => c.outcome.startsWith('rejected_')).length).toBeGreaterThanOrEqual(8);
  });
});

describe('webhook: accepted events', () => {
  it('accepts the plan body: 202 with the event id, written before the answer, processed asynchronously', async () => {
    const before = t.backfill.calls.length;
    const res = await postEvent(t.url, { body: planBody(13660418, 'created', '2025-11-04T09:15:00Z') });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted', duplicate: false, event_id: expect.any(Number) });
    const row = await settled(t, res.body.event_id);
    expect(row).toMatchObject({
      source: 'webhook',
      type: 'created',
      raw_type: 'created',
      token: 13660418,
      tradingsymbol: 'NIFTY25NOV13660418CE',
      occurred_at: '2025-11-04T09:15:00.000Z',
      state: 'done',
      outcome_code: 'backfill_queued',
    });
    expect(row.outcome).toMatch(/snapshot invalidated; immediate backfill job #\d+ \(queued\)/);
    expect(t.backfill.calls.slice(before)).toEqual([
      { scope: { kind: 'instrument', token: 13660418 }, createdBy: 'event:webhook', reason: 'webhook event created NIFTY25NOV13660418CE' },
    ]);
    expect(counted).toContainEqual({ source: 'webhook', type: 'created', outcome: 'backfill_queued' });
  });

  it('accepts the Redis body on the webhook too (epoch seconds, tradingsymbol in metadata)', async () => {
    const res = await postEvent(t.url, { body: redisBody(256265, 'subscription_removed', 1762247700) });
    expect(res.status).toBe(202);
    const row = await settled(t, res.body.event_id);
    expect(row).toMatchObject({
      type: 'removed',
      raw_type: 'subscription_removed',
      token: 256265,
      tradingsymbol: 'NIFTY25NOV256265PE',
      occurred_at: new Date(1762247700_000).toISOString(),
      outcome_code: 'released',
    });
    expect(t.subscriptions.released).toContainEqual({ token: 256265, reason: 'webhook event subscription_removed' });
  });

  it('maps activated to created and deactivated to removed; reads an offset-less timestamp as UTC', async () => {
    const a = await postEvent(t.url, { body: planBody(111, 'activated', '2025-11-04T09:15:00.123456') });
    const d = await postEvent(t.url, { body: planBody(112, 'deactivated', '2025-11-04T14:45:00+05:30') });
    const ra = await settled(t, a.body.event_id);
    const rd = await settled(t, d.body.event_id);
    expect([ra.type, ra.occurred_at]).toEqual(['created', '2025-11-04T09:15:00.123Z']);
    expect([rd.type, rd.occurred_at]).toEqual(['removed', '2025-11-04T09:15:00.000Z']);
  });

  it('processes the same delivery once: a re-signed repeat answers duplicate with the original id', async () => {
    const body = planBody(4242, 'created', '2025-11-04T10:00:00Z');
    const first = await postEvent(t.url, { body });
    const second = await postEvent(t.url, { body, timestamp: Math.floor(Date.now() / 1000) - 1 });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'accepted', duplicate: true, event_id: first.body.event_id });
    await settled(t, first.body.event_id);
    expect(t.backfill.calls.filter((c) => c.scope.kind === 'instrument' && c.scope.token === 4242)).toHaveLength(1);
    const forToken = rows(t).filter((r) => r.token === 4242);
    expect(forToken.map((r) => r.state)).toEqual(['done', 'duplicate']);
    expect(forToken[1]).toMatchObject({ duplicate_of: first.body.event_id, outcome: expect.stringMatching(/^duplicate of #\d+/) });
    expect(t.intake.list(5).find((e) => e.token === 4242 && e.state === 'duplicate')).toBeTruthy();
  });

  it('rejects a replayed delivery (same signature) with 401, and nothing more is written', async () => {
    const body = planBody(777, 'created', '2025-11-04T10:01:00Z');
    const ts = Math.floor(Date.now() / 1000);
    const first = await postEvent(t.url, { body, timestamp: ts });
    expect(first.status).toBe(202);
    const n = rowCount(t);
    const replay = await postEvent(t.url, { body, timestamp: ts });
    expect(replay.status).toBe(401);
    expect(replay.body.detail).toMatch(/replayed/);
    expect(rowCount(t)).toBe(n);
  });

  it('uses X-Event-Id as the idempotency key when the sender gives one', async () => {
    const a = await postEvent(t.url, { body: planBody(901, 'created', '2025-11-04T10:02:00Z'), headers: { 'x-event-id': 'evt-1' } });
    const b = await postEvent(t.url, { body: planBody(901, 'created', '2025-11-04T10:02:05Z'), headers: { 'x-event-id': 'evt-1' } });
    // Same body, another delivery (the signature covers timestamp and body, so a new timestamp), another sender id.
    const c = await postEvent(t.url, {
      body: planBody(901, 'created', '2025-11-04T10:02:00Z'),
      timestamp: Math.floor(Date.now() / 1000) - 2,
      headers: { 'x-event-id': 'evt-2' },
    });
    expect([a.status, b.status, c.status]).toEqual([202, 200, 202]);
    expect(b.body.event_id).toBe(a.body.event_id);
    const bad = await postEvent(t.url, { body: planBody(901), headers: { 'x-event-id': 'x'.repeat(200) } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe('X-Event-Id');
  });

  it('runs the events of one token in arrival order', async () => {
    const created = await postEvent(t.url, { body: planBody(5555, 'created', '2025-11-04T10:03:00Z') });
    const removed = await postEvent(t.url, { body: planBody(5555, 'deleted', '2025-11-04T10:03:01Z') });
    const rc = await settled(t, created.body.event_id);
    const rr = await settled(t, removed.body.event_id);
    expect(rc.finished_at! <= rr.finished_at!).toBe(true);
  });

  it('reports the webhook path with its last event time in health', () => {
    const report = health.report();
    expect(report.components.intake_webhook.status).toBe('ok');
    expect(Date.now() - Date.parse(report.components.intake_webhook.lastEventAt!)).toBeLessThan(60_000);
    expect(report.components.intake_redis).toMatchObject({ status: 'disabled', detail: 'REDIS_URL is not set' });
    expect(report.components.intake_poller.status).toBe('disabled');
  });
});

describe('webhook: configuration and dependencies', () => {
  it('accepts the plain X-Webhook-Secret header when configured (constant-time compare)', async () => {
    const p = await startTestIntake({ config: { webhookAcceptPlainHeader: true } });
    try {
      const body = planBody(31);
      const post = (secret: string) =>
        fetch(`${p.url}/internal/subscription-events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-secret': secret }, body });
      expect((await post('wrong')).status).toBe(401);
      expect((await post(TEST_SECRET)).status).toBe(202);
      expect((await post(TEST_SECRET)).status).toBe(200);
    } finally {
      await p.close();
    }
  });

  it('keeps replay protection across a restart (signatures persisted with expiry)', async () => {
    const path = tempStatePath();
    const body = planBody(41, 'created', '2025-11-04T11:00:00Z');
    const ts = Math.floor(Date.now() / 1000);
    const a = await startTestIntake({ statePath: path });
    expect((await postEvent(a.url, { body, timestamp: ts })).status).toBe(202);
    await a.close();
    const b = await startTestIntake({ statePath: path });
    try {
      expect((await postEvent(b.url, { body, timestamp: ts })).status).toBe(401);
      expect((await postEvent(b.url, { body, timestamp: ts + 1 })).status).toBe(200);
    } finally {
      await b.close();
    }
  });

  it('says so when the immediate-backfill flag is off or the services are not running', async () => {
    const state = openState(tempStatePath());
    const flags = new FlagService(state, {});
    flags.set('backfill_immediate_on_subscribe', false, 'test', 'off for this test');
    const off = await startTestIntake({ state, flags });
    const absent = await startTestIntake({ withBackfill: false, withSubscriptions: false });
    try {
      const r1 = await postEvent(off.url, { body: planBody(51) });
      const row1 = await settled(off, r1.body.event_id);
      expect(row1).toMatchObject({
        state: 'done',
        outcome_code: 'backfill_off',
        outcome: 'snapshot invalidated; immediate backfill off (flag backfill_immediate_on_subscribe)',
      });
      expect(off.backfill.calls).toHaveLength(0);
      const r2 = await postEvent(absent.url, { body: planBody(52) });
      const row2 = await settled(absent, r2.body.event_id);
      expect(row2).toMatchObject({
        outcome_code: 'backfill_unavailable',
        outcome: 'subscription service not running (no snapshot to invalidate); backfill service not running',
      });
      const r3 = await postEvent(absent.url, { body: planBody(52, 'deleted') });
      expect((await settled(absent, r3.body.event_id)).outcome_code).toBe('release_unavailable');
    } finally {
      await off.close();
      await absent.close();
      state.close();
    }
  });

  it('retries a failing action with backoff, then records it failed with the reason', async () => {
    const f = await startTestIntake({ retryDelaysMs: [20, 20] });
    f.backfill.behaviour = 'fail';
    try {
      const res = await postEvent(f.url, { body: planBody(61) });
      const row = await settled(f, res.body.event_id);
      expect(row).toMatchObject({ state: 'failed', attempts: 3, outcome: 'failed after 3 attempt(s): backfill store unavailable' });
      expect(f.backfill.failures).toBe(3);
      // A permanent refusal is not retried.
      f.backfill.enqueueImmediate = async () => {
        throw new DomainError('NOT_FOUND', 'unknown instrument 62');
      };
      const r2 = await postEvent(f.url, { body: planBody(62) });
      expect(await settled(f, r2.body.event_id)).toMatchObject({ state: 'failed', attempts: 1 });
    } finally {
      await f.close();
    }
  });

  it('processes with bounded concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const backfill = {
      enqueueImmediate: async (scope: BackfillScope): Promise<BackfillJob> => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((r) => gates.push(r));
        inFlight--;
        return { id: scope.kind === 'instrument' ? scope.token : 0, state: 'queued' } as BackfillJob;
      },
    };
    const c = await startTestIntake({ concurrency: 3, backfill: () => backfill });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 10; i++) ids.push((await postEvent(c.url, { body: planBody(700 + i) })).body.event_id);
      await expect.poll(() => gates.length, { message: 'three actions running' }).toBe(3);
      expect(c.intake.inbox.pending()).toBe(10);
      while (ids.some((id) => c.intake.inbox.get(id)?.state !== 'done')) {
        gates.splice(0).forEach((open) => open());
        await expect.poll(() => gates.length > 0 || ids.every((id) => c.intake.inbox.get(id)?.state === 'done'), { message: 'next actions' }).toBeTruthy();
      }
      expect(peak).toBe(3);
      expect(c.intake.inbox.pending()).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('serves events:list and settings:get (the generated secret, stored once)', async () => {
    const path = tempStatePath();
    const g = await startTestIntake({ statePath: path, config: { webhookSecret: undefined } });
    const secret = g.intake.secret.secret;
    expect(g.intake.secret.source).toBe('generated');
    expect(secret.length).toBeGreaterThanOrEqual(40);
    const body = planBody(71);
    expect((await postEvent(g.url, { body, secret })).status).toBe(202);
    const handlers = eventHandlers({
      intake: g.intake,
      webhookBaseUrl: () => g.url,
      config: { redisUrl: undefined, pollIntervalSeconds: 15, home: '/data' },
      market: { backend: 'pglite', timescale: false },
      ticker: { url: 'http://127.0.0.1:8080', embedded: true },
    });
    // A named operator gets everything but the secret (it would let them forge events); the OS user gets it.
    expect((await handlers['settings:get']({}, { actor: 'alice' })).webhook.secret).toBeNull();
    const settings = await handlers['settings:get']({}, { actor: 'os:tester' });
    expect(settings.webhook).toEqual({
      url: `${g.url}/internal/subscription-events`,
      secret,
      secretSource: 'generated',
      acceptPlainHeader: false,
      toleranceSeconds: 300,
    });
    expect(settings).toMatchObject({
      intake: { redis: false, pollIntervalSeconds: 15 },
      ticker: { url: 'http://127.0.0.1:8080', embedded: true },
      market: { backend: 'pglite', timescale: false },
      dataDir: '/data',
    });
    const list = await handlers['events:list']({ limit: 10 }, { actor: 'test' });
    expect(list[0]).toMatchObject({ source: 'webhook', type: 'created', token: 71 });
    await g.close();
    const again = await startTestIntake({ statePath: path, config: { webhookSecret: undefined } });
    expect(again.intake.secret.secret).toBe(secret);
    await again.close();
  });
});
