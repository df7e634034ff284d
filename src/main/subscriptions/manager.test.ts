// SubscriptionManager on a fake clock, everything else real: the devticker over HTTP (running on the same fake time,
// so its fixed 1-minute windows and the client's limiter agree), the real TickerClient, a SQLite state file and
// DataSignals. Time moves only when a test advances it; HTTP answers are awaited with a bounded poll.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import { DomainError } from '../../shared/result';
import { fromIstWallClock } from '../calendar';
import { FlagService } from '../flags/flags';
import { DataSignals } from '../market/data-signals';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import { StateStore } from '../state/store';
import { HttpTickerClient } from '../ticker/client';
import { FakeScheduler } from '../../testing/clock';
import { SubscriptionManager, type SubscriptionManagerOptions } from './manager';

const T0 = fromIstWallClock('2025-11-04T11:00:00');
const IDLE_MS = 30 * 60_000;

let time: FakeScheduler;
let dt: DevTicker;
let client: HttpTickerClient;
let state: StateStore;
let statePath: string;
let flags: FlagService;
let signals: DataSignals;
let manager: SubscriptionManager;
let attempts: { outcome: string; reason: string; token: number }[];
let timeToData: { seconds: number; token: number }[];

const telemetry: Telemetry = {
  ...noopTelemetry,
  autoSubscribeAttempt: (outcome, reason, token) => attempts.push({ outcome, reason, token }),
  timeToData: (seconds, token) => timeToData.push({ seconds, token }),
};

function makeManager(extra: Partial<SubscriptionManagerOptions> = {}): SubscriptionManager {
  const m = new SubscriptionManager({
    ticker: client,
    state,
    flags,
    signals,
    scheduler: time,
    idleMs: () => IDLE_MS,
    telemetry,
    random: () => 0.5,
    maintainEveryMs: 60 * 60_000,
    ...extra,
  });
  m.start();
  return m;
}

/** NIFTY options of the nearest expiry ordered by distance from the centre strike, CE before PE. */
function chainByDistance(n: number): { token: number; rank: number }[] {
  const expiry = dt.registry.expiries('NIFTY')[0];
  const chain = dt.registry.chain('NIFTY', expiry);
  const strikes = [...new Set(chain.map((i) => i.strike))].sort((a, b) => a - b);
  const centre = strikes[Math.floor(strikes.length / 2)];
  return chain
    .map((i) => ({ token: i.token, distance: Math.abs(i.strike - centre) / 50, type: i.instrumentType }))
    .sort((a, b) => a.distance - b.distance || (a.type < b.type ? -1 : 1))
    .slice(0, n)
    .map(({ token }, rank) => ({ token, rank }));
}

const served = (route: string, status: number): number => dt.sim.counters().requests[route]?.[String(status)] ?? 0;
const activeAtTicker = (): Set<number> => new Set(dt.sim.streamingTokens());
const succeeded = () => attempts.filter((a) => a.outcome === 'succeeded').map((a) => a.token);

beforeEach(async () => {
  time = new FakeScheduler(T0);
  attempts = [];
  timeToData = [];
  dt = await startDevTicker({ port: 0, clock: time, autoTick: false });
  client = new HttpTickerClient({ baseUrl: dt.url, scheduler: time, random: () => 0.5, breaker: { failureThreshold: 1000 } });
  statePath = join(mkdtempSync(join(tmpdir(), 'sd-subs-')), 'state.db');
  state = new StateStore(statePath);
  state.migrate();
  flags = new FlagService(state, {});
  signals = new DataSignals();
  manager = makeManager();
});

afterEach(async () => {
  await manager.stop();
  await client.close();
  await dt.close();
  state.close();
});

describe('snapshot', () => {
  it('is one paginated listing per cache TTL, shared by concurrent callers', async () => {
    const tokens = chainByDistance(4).map((c) => c.token);
    dt.sim.subscribe(tokens);
    const results = await Promise.all(tokens.map((t) => manager.ensureSubscribed([t], { waitMs: 0 })));
    expect(results.map((r) => r.already)).toEqual(tokens.map((t) => [t]));
    expect(served('GET /subscriptions', 200)).toBe(1);
    await manager.ensureSubscribed(tokens, { waitMs: 0 });
    expect(served('GET /subscriptions', 200)).toBe(1);

    await time.advance(60_000); // the default TTL (smart_subscription_cache_ttl = 60 s)
    await manager.ensureSubscribed(tokens, { waitMs: 0 });
    expect(served('GET /subscriptions', 200)).toBe(2);
    manager.invalidateSnapshot();
    await manager.ensureSubscribed(tokens, { waitMs: 0 });
    expect(served('GET /subscriptions', 200)).toBe(3);
    expect(served('POST /subscriptions', 201)).toBe(0);
  });

  it('follows the cache-TTL flag at once', async () => {
    flags.set('smart_subscription_cache_ttl', 5, 'test', 'short ttl');
    await manager.activeSnapshot();
    await time.advance(5_000);
    await manager.activeSnapshot();
    expect(served('GET /subscriptions', 200)).toBe(2);
  });

  it('rejects with a TickerError when the listing cannot be had', async () => {
    client = new HttpTickerClient({ baseUrl: dt.url, scheduler: time, retries: 0 });
    await manager.stop();
    manager = makeManager();
    dt.sim.setFaults({ errorRate: 1 });
    await expect(manager.activeSnapshot()).rejects.toMatchObject({ name: 'TickerError', kind: 'server' });
  });
});

describe('subscribing', () => {
  it('subscribes nearest ATM first, in a burst within 30 a minute, and lets a later ATM request jump the queue', async () => {
    const chain = chainByDistance(40);
    const shuffled = [...chain].sort((a, b) => (a.token % 7) - (b.token % 7) || a.token - b.token);
    const rankOf = new Map(chain.map((c) => [c.token, c.rank]));
    const result = await manager.ensureSubscribed(
      shuffled.map((c) => c.token),
      { owner: 'auto:NIFTY x', rank: (t) => rankOf.get(t) as number, waitMs: 0 },
    );
    expect(result.already).toEqual([]);
    await expect.poll(() => succeeded().length, { message: '30 POSTs' }).toBe(30);
    expect(succeeded()).toEqual(chain.slice(0, 30).map((c) => c.token));
    expect(served('POST /subscriptions', 429)).toBe(0);

    // An ATM strike of another chain arrives while 10 far strikes wait for the next window: it goes first.
    const other = dt.registry.chain('NIFTY', dt.registry.expiries('NIFTY')[1])[60];
    await manager.ensureSubscribed([other.token], { owner: 'auto:NIFTY y', rank: () => 0, waitMs: 0 });
    expect(manager.statusOf(other.token)).toBe('pending');
    await time.advance(61_000);
    await expect.poll(() => succeeded().length, { message: 'all POSTs' }).toBe(41);
    expect(succeeded().slice(30)).toEqual([other.token, ...chain.slice(30).map((c) => c.token)]);
    expect(served('POST /subscriptions', 429)).toBe(0);
    expect([...chain.map((c) => c.token), other.token].every((t) => activeAtTicker().has(t) || dt.sim.state().reload_pending)).toBe(true);
    // Already active: nothing more is sent.
    const again = await manager.ensureSubscribed(
      chain.map((c) => c.token),
      { owner: 'auto:NIFTY x', waitMs: 0 },
    );
    expect(again.already).toHaveLength(40);
    expect(served('POST /subscriptions', 201)).toBe(41);
  });

  it('backs off a failing token exponentially, retries it by itself, and never blocks it for good', async () => {
    const [{ token }] = chainByDistance(1);
    await manager.activeSnapshot(); // the fault below is for the POSTs (the listing is cached for its TTL)
    dt.sim.setFaults({ errorRate: 1 });
    await manager.ensureSubscribed([token], { owner: 'auto:NIFTY x', waitMs: 0 });
    await expect.poll(() => attempts.length, { message: 'first attempt' }).toBe(1);
    let result = await manager.ensureSubscribed([token], { owner: 'auto:NIFTY x', waitMs: 0 });
    expect(result.failed).toEqual([{ token, reason: expect.stringContaining('500') as string, retryAt: T0 + 5_000 }]);
    expect(manager.statusOf(token)).toBe('backing_off');
    expect(served('POST /subscriptions', 500)).toBe(1); // a second request does not retry before retryAt

    await time.advance(5_000);
    await manager.maintain();
    await expect.poll(() => attempts.length, { message: 'automatic retry' }).toBe(2);
    expect(manager.store.get(token)).toMatchObject({ attempts: 2, nextRetryAt: T0 + 5_000 + 10_000 });

    dt.sim.setFaults({ errorRate: 0 });
    await time.advance(10_000);
    await manager.maintain();
    await expect.poll(() => succeeded().length, { message: 'success after the outage' }).toBe(1);
    result = await manager.ensureSubscribed([token], { owner: 'auto:NIFTY x', waitMs: 0 });
    expect(result.already).toEqual([token]);
    expect(manager.store.get(token)).toMatchObject({ attempts: 0, failureReason: null, nextRetryAt: null });
    expect(attempts.map((a) => `${a.outcome}:${a.reason}`)).toEqual(['failed:server', 'failed:server', 'succeeded:subscribed']);
  });

  it('retries an unknown token only when asked again after its (long) retry time', async () => {
    const unknown = 123_456_789;
    await manager.ensureSubscribed([unknown], { waitMs: 0 });
    await expect.poll(() => attempts.length, { message: 'attempt' }).toBe(1);
    const first = await manager.ensureSubscribed([unknown], { waitMs: 0 });
    expect(first.failed[0]).toMatchObject({ token: unknown, retryAt: T0 + 60_000 });
    expect(first.failed[0].reason).toContain('Instrument token not found or inactive in registry');
    await time.advance(60_000);
    await manager.maintain();
    expect(attempts).toHaveLength(1);
    await manager.ensureSubscribed([unknown], { waitMs: 0 });
    await expect.poll(() => attempts.length, { message: 'second attempt on request' }).toBe(2);
    expect(manager.store.get(unknown)?.nextRetryAt).toBe(T0 + 60_000 + 120_000);
  });

  it('keeps rate-limited tokens queued and subscribes them once the window resets (a 429 storm)', async () => {
    const chain = chainByDistance(3);
    await manager.activeSnapshot();
    dt.sim.setFaults({ rateLimitStorm: true });
    await manager.ensureSubscribed(
      chain.map((c) => c.token),
      { owner: 'auto:NIFTY x', rank: (t) => chain.findIndex((c) => c.token === t), waitMs: 0 },
    );
    await expect.poll(() => attempts.length, { message: 'first 429' }).toBe(1);
    expect(manager.statusOf(chain[0].token)).toBe('pending');
    dt.sim.setFaults({ rateLimitStorm: false });
    await time.advance(61_000);
    await expect.poll(() => succeeded().length, { message: 'all subscribed after the hold' }).toBe(3);
    expect(succeeded()).toEqual(chain.map((c) => c.token));
    expect(served('POST /subscriptions', 429)).toBe(1);
  });

  it('answers at once when the subscription list is rate limited: every token a failed attempt once per hold, then retried', async () => {
    const chain = chainByDistance(4);
    const tokens = chain.map((c) => c.token);
    dt.sim.setFaults({ rateLimitStorm: true });
    const opts = { owner: 'auto:NIFTY x', rank: (t: number) => chain.findIndex((c) => c.token === t), waitMs: 30_000 };
    // No time passes: the 429 is reported, not waited out behind the held list budget.
    const first = await manager.ensureSubscribed(tokens, opts);
    expect(first.pending).toEqual([]);
    expect(first.failed.map((f) => f.token)).toEqual(tokens);
    expect(first.failed[0].reason).toMatch(/^subscription list unavailable: GET \/subscriptions -> 429/);
    expect(first.failed.every((f) => f.retryAt === T0 + 60_000)).toBe(true);
    expect(first.retryAfterMs).toBe(60_000);
    expect(attempts).toEqual(tokens.map((token) => ({ outcome: 'failed', reason: 'rate_limited', token })));
    expect(tokens.map((t) => manager.statusOf(t))).toEqual(tokens.map(() => 'backing_off'));
    expect(served('GET /subscriptions', 429)).toBe(1);

    // Asking again within the hold neither calls the service nor counts the same failures again.
    await time.advance(10_000);
    const again = await manager.ensureSubscribed(tokens, opts);
    expect(again.failed).toHaveLength(4);
    expect(served('GET /subscriptions', 429)).toBe(1);
    expect(attempts).toHaveLength(4);

    // The storm ends; after the hold the maintenance round lists again and subscribes the still-wanted tokens.
    dt.sim.setFaults({ rateLimitStorm: false });
    await time.advance(51_000);
    await manager.maintain();
    await expect.poll(() => succeeded().length, { message: 'all subscribed after the hold' }).toBe(4);
    expect(succeeded()).toEqual(tokens);
    expect(served('POST /subscriptions', 201)).toBe(4);
  });

  it('refuses more than 3 x 3000 instruments per account with a structured CAPACITY error', async () => {
    await manager.stop();
    await client.close();
    await dt.close();
    dt = await startDevTicker({ port: 0, clock: time, autoTick: false, strikesPerSide: 200 });
    client = new HttpTickerClient({ baseUrl: dt.url, scheduler: time });
    manager = makeManager();
    const options = dt.registry.live.filter((i) => i.kind === 'option').map((i) => i.token);
    dt.sim.subscribe(options.slice(0, 8_990));
    const err = await manager.ensureSubscribed(options.slice(8_990, 9_010), { waitMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'CAPACITY', details: { account: 'primary', used: 8_990, queued: 0, requested: 20, limit: 9_000 } });
    expect(served('POST /subscriptions', 201)).toBe(0);
    const ok = await manager.ensureSubscribed(options.slice(8_990, 9_000), { waitMs: 0 });
    expect(ok.pending.length + ok.newly.length).toBe(10);
  });
});

describe('ownership', () => {
  it('releases only what Strikedesk subscribed and nobody asked for within the idle TTL', async () => {
    const [ours, external, manual] = chainByDistance(3).map((c) => c.token);
    dt.sim.subscribe([external]);
    await manager.ensureSubscribed([ours, external], { owner: 'auto:NIFTY x', waitMs: 0 });
    await manager.ensureSubscribed([manual], { owner: 'manual', waitMs: 0 });
    await expect.poll(() => succeeded().length, { message: 'POSTs' }).toBe(2);
    await time.advance(5_000);
    dt.sim.applyNow();

    // Past the start-up grace and the idle TTL, but asked again in time: kept.
    await time.advance(IDLE_MS - 10_000);
    await manager.ensureSubscribed([ours], { owner: 'auto:NIFTY x', waitMs: 0 });
    await time.advance(20_000);
    await manager.maintain();
    expect(served('DELETE /subscriptions/{instrument_token}', 200)).toBe(0);

    await time.advance(IDLE_MS);
    await manager.maintain();
    await expect.poll(() => served('DELETE /subscriptions/{instrument_token}', 200), { message: 'idle release' }).toBe(1);
    const active = new Set((await client.listAllSubscriptions('active')).map((s) => s.instrument_token));
    expect(active.has(ours)).toBe(false);
    expect(active.has(external)).toBe(true);
    expect(active.has(manual)).toBe(true);
    expect(manager.store.get(ours)).toBeUndefined();
    expect([...manager.store.ownersOf(external).keys()]).toEqual(['external']);
  });

  it('keeps ownership and failure state across a restart', async () => {
    const [token] = chainByDistance(1).map((c) => c.token);
    await manager.activeSnapshot();
    dt.sim.setFaults({ errorRate: 1 });
    await manager.ensureSubscribed([token], { owner: 'auto:NIFTY 2025-11-25', waitMs: 0 });
    await expect.poll(() => attempts.length, { message: 'failure' }).toBe(1);
    await manager.stop();
    state.close();
    state = new StateStore(statePath);
    state.migrate();
    flags = new FlagService(state, {});
    manager = makeManager();
    expect(manager.store.get(token)).toMatchObject({ attempts: 1, failureKind: 'server', nextRetryAt: T0 + 5_000 });
    expect([...manager.store.ownersOf(token).keys()]).toEqual(['auto:NIFTY 2025-11-25']);
    expect(manager.statusOf(token)).toBe('backing_off');
  });
});

describe('waiting for data', () => {
  it('ends the wait on the first stored data (evidence), reports it, and measures time to data', async () => {
    const [a, b] = chainByDistance(2).map((c) => c.token);
    const ensure = manager.ensureSubscribed([a, b], { owner: 'auto:NIFTY x', waitFor: [a], waitMs: 10_000 });
    await expect.poll(() => succeeded().length, { message: 'POSTs' }).toBe(2);
    await time.advance(3_000);
    signals.stored([a], time.now());
    const result = await ensure;
    expect(time.now()).toBe(T0 + 3_000);
    expect(result).toMatchObject({ newly: [a, b], pending: [], failed: [], dataAvailable: true, withData: [a] });
    expect(timeToData).toEqual([{ seconds: 3, token: a }]);
  });

  it('says no data when none was seen, after at most the wait-timeout flag', async () => {
    flags.set('smart_subscription_wait_timeout', 4, 'test', 'short wait');
    const [a] = chainByDistance(1).map((c) => c.token);
    const ensure = manager.ensureSubscribed([a], { owner: 'auto:NIFTY x' });
    await expect.poll(() => succeeded().length, { message: 'POST' }).toBe(1);
    let done = false;
    void ensure.then(() => (done = true));
    await time.advance(3_999);
    expect(done).toBe(false);
    await time.advance(1);
    expect(await ensure).toMatchObject({ newly: [a], dataAvailable: false, withData: [] });
  });

  it('returns at once with pending when the budget is spent and nothing can arrive before the deadline', async () => {
    const chain = chainByDistance(32);
    await manager.ensureSubscribed(
      chain.slice(0, 30).map((c) => c.token),
      { owner: 'auto:NIFTY x', waitMs: 0 },
    );
    await expect.poll(() => succeeded().length, { message: 'a full window' }).toBe(30);
    const late = chain.slice(30).map((c) => c.token);
    const result = await manager.ensureSubscribed(late, { owner: 'auto:NIFTY y', waitMs: 10_000 });
    expect(time.now()).toBe(T0);
    expect(result.pending).toEqual(late);
    expect(result.retryAfterMs).toBeGreaterThan(55_000);
  });

  it('does nothing automatic while smart_subscription_enabled is off, but manual requests still work', async () => {
    flags.set('smart_subscription_enabled', false, 'test', 'rollout phase 1');
    const [a, b] = chainByDistance(2).map((c) => c.token);
    const auto = await manager.ensureSubscribed([a], { owner: 'auto:NIFTY x' });
    expect(auto).toMatchObject({ disabled: true, newly: [], pending: [], failed: [] });
    await manager.ensureSubscribed([b], { owner: 'manual', waitMs: 0 });
    await expect.poll(() => succeeded().length, { message: 'manual POST' }).toBe(1);
    expect(served('POST /subscriptions', 201)).toBe(1);
  });
});
