// The TickerClient over real HTTP against the devticker (port 0). The devticker runs on the same fake time as the
// client's limiter, so "30 POSTs a minute" is checked without waiting a minute, and the service's own fixed-window
// counter is what says whether the client stayed under the limit.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import { fromIstWallClock } from '../calendar';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import { HttpTickerClient, type TickerClientOptions } from './client';
import { FakeScheduler } from '../../testing/clock';
import { TickerError } from './types';

const T0 = fromIstWallClock('2025-11-04T11:00:00');
let time: FakeScheduler;
let dt: DevTicker;
let client: HttpTickerClient;
let recorded: { endpoint: string; status: number | string }[];

const telemetry: Telemetry = { ...noopTelemetry, tickerRequest: (endpoint, status) => recorded.push({ endpoint, status }) };

function makeClient(extra: Partial<TickerClientOptions> = {}): HttpTickerClient {
  return new HttpTickerClient({ baseUrl: dt.url, scheduler: time, telemetry, random: () => 0.5, retryBaseMs: 100, ...extra });
}

const optionTokens = (n: number): number[] =>
  dt.registry.live
    .filter((i) => i.kind === 'option')
    .slice(0, n)
    .map((i) => i.token);
const served = (route: string, status: number): number => dt.sim.counters().requests[route]?.[String(status)] ?? 0;

async function expectTickerError(promise: Promise<unknown>, kind: string): Promise<TickerError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TickerError);
  expect((err as TickerError).kind).toBe(kind);
  return err as TickerError;
}

beforeEach(async () => {
  time = new FakeScheduler(T0);
  recorded = [];
  dt = await startDevTicker({ port: 0, clock: time, autoTick: false });
  client = makeClient();
});
afterEach(async () => {
  await client.close();
  await dt.close();
});

describe('endpoints', () => {
  it('subscribes (201), lists, unsubscribes and reads health with typed results', async () => {
    const [token] = optionTokens(1);
    const created = await client.subscribe(token);
    expect(created).toMatchObject({ instrument_token: token, status: 'active', requested_mode: 'FULL', account_id: null }); // no account sent: the real service answers null
    expect(served('POST /subscriptions', 201)).toBe(1);
    const active = await client.listSubscriptions({ status: 'active' });
    expect(active.map((s) => s.instrument_token)).toEqual([token]);
    const health = await client.health();
    // The real service reports the count at the last stream start: no reload has run yet, so still 0.
    expect(health.ticker?.active_subscriptions).toBe(0);
    const removed = await client.unsubscribe(token);
    expect(removed?.status).toBe('inactive');
    expect(await client.listSubscriptions({ status: 'active' })).toEqual([]);
    expect(recorded.map((r) => `${r.endpoint} ${r.status}`)).toEqual([
      'subscriptions.create 201',
      'subscriptions.list 200',
      'health 200',
      'subscriptions.delete 200',
      'subscriptions.list 200',
    ]);
  });

  it('turns 404s into not_found, and DELETE of an unknown subscription into null (already gone)', async () => {
    const err = await expectTickerError(client.subscribe(999_999_999), 'not_found');
    expect(err.message).toContain('Instrument token not found or inactive in registry');
    expect(err.status).toBe(404);
    expect(await client.unsubscribe(999_999_999)).toBeNull();
  });

  it('reads every page as one snapshot sorted by token', async () => {
    const tokens = optionTokens(2150);
    dt.sim.subscribe(tokens);
    const all = await client.listAllSubscriptions('active');
    expect(all.map((s) => s.instrument_token)).toEqual([...tokens].sort((a, b) => a - b));
    expect(served('GET /subscriptions', 200)).toBe(3);
  });

  it('sends /history times as naive IST wall-clock', async () => {
    const inst = dt.registry.chain('NIFTY', dt.registry.expiries('NIFTY')[0])[60];
    const from = fromIstWallClock('2025-11-04T09:15:00');
    const res = await client.history({ token: inst.token, from, to: from + 30 * 60_000, interval: 'minute', oi: true });
    expect(res.from_ts).toBe('2025-11-04T09:15:00');
    expect(res.to_ts).toBe('2025-11-04T09:45:00');
    expect(res.candles.length).toBeGreaterThan(0);
    // Candles are the IST window asked for (a +05:30 offset on the wire would have shifted it 5h30m earlier).
    for (const c of res.candles) expect(c.date >= '2025-11-04T09:15:00+05:30' && c.date <= '2025-11-04T09:45:00+05:30').toBe(true);
    expect(typeof res.candles[0].oi).toBe('number');
  });
});

describe('limits', () => {
  it('keeps 35 POSTs under 30 per minute by waiting, and the service never answers 429', async () => {
    const tokens = optionTokens(35);
    const done: number[] = [];
    const all = Promise.all(tokens.map((t, i) => client.subscribe(t).then(() => done.push(i))));
    await time.advance(0);
    await vi.waitFor(() => expect(done.length).toBe(30));
    expect(client.limiter.estimateWaitMs('create')).toBeGreaterThan(55_000);
    await time.advance(59_000);
    expect(done.length).toBe(30);
    await time.advance(1_200);
    await all;
    expect(done.length).toBe(35);
    expect(served('POST /subscriptions', 201)).toBe(35);
    expect(served('POST /subscriptions', 429)).toBe(0);
  });

  it('obeys a 429: the bucket is held, idempotent calls retry after the hold, POST is not re-sent', async () => {
    client = makeClient({ rateLimitHoldMs: { list: 5_000, create: 5_000 } });
    dt.sim.setFaults({ rateLimitStorm: true });
    await expectTickerError(client.subscribe(optionTokens(1)[0]), 'rate_limited');
    expect(served('POST /subscriptions', 429)).toBe(1);
    expect(client.limiter.view().find((b) => b.bucket === 'create')?.blockedUntil).toBe(T0 + 5_000);

    const listing = client.listSubscriptions();
    await vi.waitFor(() => expect(served('GET /subscriptions', 429)).toBe(1));
    dt.sim.setFaults({ rateLimitStorm: false });
    await time.advance(5_000);
    expect(await listing).toEqual([]);
    expect(served('GET /subscriptions', 200)).toBe(1);
    expect(client.stats().rateLimited).toBe(2);
  });

  it('does not count a POST the service rejects with 422 against the POST budget', async () => {
    client = makeClient({ limits: { create: { limit: 2, windowMs: 60_000 } } });
    const [a, b] = optionTokens(2);
    const err = await expectTickerError(client.subscribe(0), 'bad_request');
    expect(err.status).toBe(422);
    expect(err.message).toContain('body.instrument_token');
    await client.subscribe(a);
    expect(client.mutationEtaMs()).toBe(0); // one of two used: the 422 gave its grant back
    await client.subscribe(b);
    expect(client.mutationEtaMs()).toBeGreaterThan(59_000);
    expect(served('POST /subscriptions', 422)).toBe(1);
    expect(served('POST /subscriptions', 201)).toBe(2);
  });

  it('gives each DELETE token path its own budget: deleting 3 tokens under a limit of 2 does not wait', async () => {
    client = makeClient({ limits: { delete: { limit: 2, windowMs: 60_000 } } });
    const tokens = optionTokens(3);
    dt.sim.subscribe(tokens);
    const removed = await Promise.all(tokens.map((t) => client.unsubscribe(t)));
    expect(removed.map((r) => r?.status)).toEqual(['inactive', 'inactive', 'inactive']);
    expect(time.now()).toBe(T0);
    expect(client.limiter.estimateWaitMs('delete', 0, String(tokens[0]))).toBe(0);
    expect(client.mutationEtaMs()).toBe(0); // DELETEs do not draw from the POST budget
  });

  it("reads Kite's 502 'Too many requests' on /history as rate_limited", async () => {
    client = makeClient({ retries: 0 });
    dt.sim.setFaults({ rateLimitStorm: true });
    const inst = dt.registry.chain('NIFTY', dt.registry.expiries('NIFTY')[0])[0];
    const err = await expectTickerError(client.history({ token: inst.token, from: T0 - 3_600_000, to: T0 }), 'rate_limited');
    expect(err.status).toBe(502);
  });
});

describe('failures', () => {
  it('opens the circuit after consecutive 5xx, fails fast, and closes after a successful half-open trial', async () => {
    client = makeClient({ retries: 0, breaker: { failureThreshold: 3, coolDownMs: 10_000 } });
    dt.sim.setFaults({ errorRate: 1 });
    for (let i = 0; i < 3; i++) await expectTickerError(client.listSubscriptions(), 'server');
    expect(client.breaker.state).toBe('open');
    await expectTickerError(client.listSubscriptions(), 'circuit_open');
    expect(served('GET /subscriptions', 500)).toBe(3);

    await time.advance(10_000);
    expect(client.breaker.state).toBe('half_open');
    await expectTickerError(client.listSubscriptions(), 'server'); // the trial fails: open again, longer cool-down
    expect(client.breaker.view().retryAt).toBe(T0 + 10_000 + 20_000);
    dt.sim.setFaults({ errorRate: 0 });
    await time.advance(20_000);
    expect(await client.listSubscriptions()).toEqual([]);
    expect(client.breaker.state).toBe('closed');
    expect(recorded.filter((r) => r.status === 'circuit_open')).toHaveLength(1);
  });

  it('retries idempotent calls on 5xx with backoff', async () => {
    dt.sim.setFaults({ errorRate: 1 });
    const listing = client.listSubscriptions();
    await vi.waitFor(() => expect(served('GET /subscriptions', 500)).toBe(1));
    dt.sim.setFaults({ errorRate: 0 });
    await time.advance(1_000);
    expect(await listing).toEqual([]);
    expect(recorded.map((r) => r.status)).toEqual([500, 200]);
  });

  it('times out a slow answer and says so', async () => {
    client = makeClient({ retries: 0, timeoutMs: 100 });
    dt.sim.setFaults({ latencyMs: 1_000 });
    await expectTickerError(client.health(), 'timeout');
  });

  it('reports a refused connection as network', async () => {
    const url = dt.url;
    await dt.close();
    dt = await startDevTicker({ port: 0, clock: time, autoTick: false });
    client = new HttpTickerClient({ baseUrl: url, scheduler: time, retries: 0 });
    await expectTickerError(client.health(), 'network');
  });
});
