// Backfill inside the composed console (startApp, embedded devticker, PGlite): a signed subscription webhook queues an
// immediate job through context.backfill, the job runs against the devticker and shows in backfill:jobs; the plan and
// the coverage grid answer over HTTP; /internal/health reports the queue.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackfillJob, BackfillPlanView, CoverageGrid, HealthReport, IntakeEvent, SettingsView } from '../../shared/api';
import { istDate } from '../calendar';
import { planBody, postEvent } from '../events/testing/support';
import { startTestConsole, type TestConsole } from '../../testing/console';

let app: TestConsole;
const call = <T>(channel: string, body?: unknown): Promise<T> => app.call<T>(channel, body);

beforeAll(async () => {
  app = await startTestConsole({ name: 'backfill-app', env: { STRIKEDESK_BACKFILL_LOOKBACK: '30' } });
}, 90_000);
afterAll(async () => app?.close());

describe('backfill in the console', () => {
  it('a subscription webhook queues an immediate backfill of both legs, which completes against the devticker', async () => {
    const registry = app.services.registry;
    if (!registry) throw new Error('no registry');
    const [expiry] = await registry.expiries('NIFTY', istDate(Date.now()));
    const chain = await registry.chain('NIFTY', expiry);
    const leg = chain[Math.floor(chain.length / 2)];
    const settings = await call<SettingsView>('settings:get');
    const res = await postEvent(app.url, { body: planBody(leg.token, 'created', new Date().toISOString()), secret: settings.webhook.secret ?? '' });
    expect(res.status).toBe(202);
    const event = await vi.waitFor(
      async () => {
        const done = (await call<IntakeEvent[]>('events:list', { limit: 10 })).find((e) => e.id === res.body.event_id && e.state === 'done');
        if (!done) throw new Error(`event #${res.body.event_id} not processed yet`);
        return done;
      },
      { timeout: 10_000, interval: 50 },
    );
    const jobId = Number(/immediate backfill job #(\d+)/.exec(event.outcome ?? '')?.[1]);
    expect(jobId).toBeGreaterThan(0);
    const job = await vi.waitFor(
      async () => {
        const done = (await call<BackfillJob[]>('backfill:jobs', { state: 'all' })).find((j) => j.id === jobId && j.state === 'done');
        if (!done) throw new Error(`backfill job #${jobId} not done yet`);
        return done;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(job).toMatchObject({ priority: 'immediate', createdBy: 'event:webhook', instruments: 2, requestsPlanned: 2, requestsDone: 2 });

    const grid = await call<CoverageGrid>('backfill:coverage', { symbol: 'NIFTY', expiry, strikeRange: 100, lookbackMinutes: 30, slotMinutes: 15 });
    const legRow = grid.rows.find((r) => r.token === leg.token);
    expect(legRow?.cells.length).toBe(2);
    for (const cell of legRow?.cells ?? []) expect(['filled', 'no_trades']).toContain(cell);
  }, 60_000);

  it('plans before starting, and reports the queue in /internal/health', async () => {
    const plan = await call<BackfillPlanView>('backfill:plan', { scope: { kind: 'chain', symbol: 'BANKNIFTY', strikeRange: 2 } });
    expect(plan).toMatchObject({ instruments: 11, plannedRequests: 11, etaSeconds: 4 });
    const report = (await (await fetch(`${app.url}/internal/health`)).json()) as HealthReport;
    expect(report.components.backfill).toMatchObject({ status: 'ok', detail: expect.stringMatching(/job\(s\) queued or running/) });
    const bad = await fetch(`${app.url}/api/backfill:cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiToken}` },
      body: JSON.stringify({ id: 999 }),
    });
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
