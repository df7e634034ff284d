// A 429 storm and a ticker outage end in retries, not in lost tokens. The stack is real and wired by hand so the
// holds and back-offs can be short: the devticker over HTTP (dense ticks: every contract trades every second), the
// ticker client, the real ingest path writing bars into PGlite and signalling first data, the manager, and
// GET /fo/strike-distribution on a real HTTP server. Requests never wait longer than the wait-timeout flag: the
// manager and the chain service run on fake time that follows the wall clock, and each request is answered while
// that time is held at the request's deadline (so a busy machine cannot fail the check, nor hide a longer wait).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import type { StrikeDistribution } from '../../shared/api';
import { systemClock } from '../../shared/clock';
import { FlagService } from '../flags/flags';
import { HttpServer, type HttpListener } from '../http/server';
import { TickIngestor } from '../ingest/ingestor';
import { scopedLogger } from '../log';
import { DataSignals } from '../market/data-signals';
import { createTestMarketDb, type TestMarketDb } from '../market/testing/db';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import { InstrumentRegistry } from '../registry/registry';
import { StateStore } from '../state/store';
import { HttpTickerClient } from '../ticker/client';
import type { Scheduler } from '../../shared/clock';
import { PacedScheduler } from '../../testing/clock';
import { ChainService } from '../chain/service';
import { SubscriptionManager } from './manager';
import { strikeDistributionRoute } from '../http/fo-routes';

const WAIT_S = 3;
let market: TestMarketDb;
let registry: InstrumentRegistry;
let state: StateStore;
let flags: FlagService;
let dt: DevTicker;
let client: HttpTickerClient;
let manager: SubscriptionManager;
let ingestor: TickIngestor;
let listener: HttpListener;
let time: PacedScheduler;
/** Called with the chain service's next reading of the time: a request's start. */
let onChainClockRead: ((at: number) => void) | null = null;
let attempts: { outcome: string; reason: string; token: number }[] = [];

const telemetry: Telemetry = { ...noopTelemetry, autoSubscribeAttempt: (outcome, reason, token) => attempts.push({ outcome, reason, token }) };
const logger = scopedLogger('test');

beforeAll(async () => {
  market = await createTestMarketDb('pglite');
  state = new StateStore(join(mkdtempSync(join(tmpdir(), 'sd-faults-')), 'state.db'));
  state.migrate();
  flags = new FlagService(state, {});
  flags.set('smart_subscription_wait_timeout', WAIT_S, 'test', 'short requests');
}, 60_000);

afterAll(async () => {
  await market?.close();
  state?.close();
});

/** A fresh ticker (its own rate-limit windows) and the stack over it; the market store is shared. */
beforeEach(async () => {
  attempts = [];
  dt = await startDevTicker({ port: 0, clockMode: 'always-open', denseTicks: true });
  registry = new InstrumentRegistry({ db: market.db, clock: systemClock, source: { kind: 'text', label: 'devticker', csv: () => dt.registry.toCsv() } });
  await registry.refresh();
  const signals = new DataSignals();
  ingestor = new TickIngestor({
    bus: dt.bus,
    db: market.db,
    clock: systemClock,
    signals,
    telemetry: noopTelemetry,
    logger,
    acceptMockTicks: true,
    indexToken: (s) => registry.underlyingToken(s),
  });
  ingestor.start();
  time = new PacedScheduler();
  time.start();
  client = new HttpTickerClient({
    baseUrl: dt.url,
    rateLimitHoldMs: { mutate: 1_500, list: 1_500 },
    breaker: { failureThreshold: 3, coolDownMs: 1_000 },
    retryBaseMs: 100,
  });
  manager = new SubscriptionManager({
    ticker: client,
    state,
    flags,
    signals,
    scheduler: time,
    idleMs: () => 30 * 60_000,
    telemetry,
    logger,
    backoff: { baseMs: 500, maxMs: 2_000, refusedBaseMs: 5_000, refusedMaxMs: 10_000 },
    maintainEveryMs: 250,
  });
  manager.start();
  const chains = new ChainService({
    db: market.db,
    registry,
    manager: () => manager,
    flags,
    scheduler: chainClock(),
    expectingData: () => true,
    underlyings: ['NIFTY', 'BANKNIFTY'],
  });
  const http = new HttpServer({ host: '127.0.0.1', port: 0, apiToken: 'x'.repeat(24), loopbackBind: true, logger, version: 'test' });
  http.addRoute(strikeDistributionRoute(chains, 10));
  listener = await http.listen();
}, 60_000);

afterEach(async () => {
  await listener?.close();
  await manager?.stop();
  await time?.stop();
  await ingestor?.stop();
  await client?.close();
  await dt?.close();
});

async function distribution(query: string): Promise<StrikeDistribution> {
  const res = await fetch(`${listener.url}/fo/strike-distribution?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as StrikeDistribution;
}

/** The chain service's view of the fake time, telling the test when a request reads its start. */
function chainClock(): Scheduler {
  return {
    now: () => {
      const at = time.now();
      onChainClockRead?.(at);
      return at;
    },
    sleep: (ms, signal) => time.sleep(ms, signal),
  };
}

/** Real time for answering once the wait is over: generous, since only a wait past the deadline hangs. */
const ANSWER_SLACK_MS = 20_000;

/**
 * One request, answered while the fake time stands at most at its deadline (the wait-timeout flag after the start
 * the service read): a request waiting any longer would never be answered, however long the machine takes to run it.
 */
async function distributionWithinWait(query: string): Promise<StrikeDistribution> {
  // Time stands still until the service has read the request's start, then runs up to the deadline and no further.
  time.holdAt(time.now());
  let deadline = Number.POSITIVE_INFINITY;
  onChainClockRead = (started) => {
    onChainClockRead = null;
    deadline = started + WAIT_S * 1000;
    time.holdAt(deadline);
  };
  let bound: ReturnType<typeof setTimeout> | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      bound = setTimeout(
        () => reject(new Error(`no answer with time held at the request's deadline (${WAIT_S} s): it waits longer than the flag`)),
        ANSWER_SLACK_MS,
      );
    });
    const body = await Promise.race([distribution(query), late]);
    expect(time.now()).toBeLessThanOrEqual(deadline);
    return body;
  } finally {
    clearTimeout(bound);
    onChainClockRead = null;
    time.release();
  }
}

/** Requests the chain every 300 ms until every leg is live; each request is answered within its wait. */
function untilAllLive(query: string, timeoutMs: number): Promise<StrikeDistribution> {
  return vi.waitFor(
    async () => {
      const body = await distributionWithinWait(query);
      const legs = body.series.flatMap((s) => [...s.call, ...s.put]);
      if (legs.length === 0 || !legs.every((l) => l.state === 'live')) throw new Error(`legs not live: ${JSON.stringify(body.metadata.subscription)}`);
      return body;
    },
    { timeout: timeoutMs, interval: 300 },
  );
}

/** The index streams and its price is stored, so the chain is centred before the fault starts. */
async function indexLive(symbol: string): Promise<void> {
  dt.sim.subscribe([registry.underlyingToken(symbol) as number]);
  await expect
    .poll(async () => (await distribution(`symbol=${symbol}&auto_subscribe=false`)).metadata.underlying_price, {
      message: `${symbol} index price stored`,
      timeout: 20_000,
      interval: 200,
    })
    .not.toBeNull();
  await manager.activeSnapshot();
}

const served = (route: string, status: number): number => dt.sim.counters().requests[route]?.[String(status)] ?? 0;

describe('centring', () => {
  it("centres a new chain's subscriptions on the live index price, not on the last session's stored close", async () => {
    const indexToken = registry.underlyingToken('FINNIFTY') as number;
    const live = dt.sim.underlyingPrice('FINNIFTY');
    // Yesterday's close, far from today's price, is all the store has.
    await market.db.query(
      `INSERT INTO instrument_bars (token, timeframe, bucket, symbol, kind, open, high, low, close, source) VALUES ($1, 1, $2, 'FINNIFTY', 'index', $3, $3, $3, $3, 'backfill')`,
      [indexToken, new Date(Date.now() - 20 * 3_600_000), Math.round(live - 1_000)],
    );
    flags.set('smart_subscription_wait_timeout', 10, 'test', 'the default budget: room for the index to stream');
    const body = await distribution('symbol=FINNIFTY&strike_range=2&timeframe=1min').finally(() =>
      flags.set('smart_subscription_wait_timeout', WAIT_S, 'test', 'short requests'),
    );
    expect(body.metadata.underlying_price).not.toBeNull();
    expect(Math.abs((body.metadata.underlying_price as number) - live)).toBeLessThan(100);
    // The legs asked for are the five strikes around the live ATM (step 50), not around the stale close.
    const strikes = body.series[0].call.map((l) => l.strike);
    expect(strikes).toHaveLength(5);
    expect(Math.abs(strikes[2] - live)).toBeLessThanOrEqual(50);
  }, 30_000);
});

describe('fault tolerance', () => {
  it('rides out a 429 storm: rate-limited tokens stay queued and all of the chain gets data', async () => {
    await indexLive('NIFTY');
    dt.sim.setFaults({ rateLimitStorm: true });
    const query = 'symbol=NIFTY&strike_range=2&timeframe=1min';
    const first = await distributionWithinWait(query);
    expect(first.metadata.subscription.pending).toHaveLength(20);
    expect(first.metadata.auto_subscribed).toBe(false); // nothing got through yet: honest
    expect(served('POST /subscriptions', 429)).toBeGreaterThan(0);
    // The storm lasts until the manager has met it: a subscribe attempt refused as rate-limited.
    await expect.poll(() => attempts.some((a) => a.reason === 'rate_limited'), { message: 'a rate-limited attempt', timeout: 20_000 }).toBe(true);
    dt.sim.setFaults({ rateLimitStorm: false });

    const done = await untilAllLive(query, 80_000);
    expect(done.series).toHaveLength(2);
    expect(done.series.every((s) => s.call.length === 5 && s.put.length === 5)).toBe(true);
    expect(attempts.some((a) => a.reason === 'rate_limited')).toBe(true);
    const subscribed = attempts.filter((a) => a.outcome === 'succeeded').map((a) => a.token);
    expect(new Set(subscribed).size).toBe(subscribed.length); // none subscribed twice
    const legs = done.series.flatMap((s) => [...s.call, ...s.put]).map((l) => l.token as number);
    expect(legs.every((t) => subscribed.includes(t))).toBe(true); // none lost
  }, 130_000);

  it('rides out a ticker outage: failed tokens back off, retry by themselves and all of the chain gets data', async () => {
    await indexLive('BANKNIFTY');
    dt.sim.setFaults({ errorRate: 1 });
    const query = 'symbol=BANKNIFTY&strike_range=2&timeframe=1min';
    const first = await distributionWithinWait(query);
    // The answer came back within the wait (nothing could arrive); the queue keeps failing meanwhile.
    await expect.poll(() => client.breaker.view().opens, { message: 'the breaker to open', timeout: 5_000 }).toBeGreaterThan(0);
    expect(served('POST /subscriptions', 500)).toBeGreaterThanOrEqual(3);
    const tokens = first.series.flatMap((s) => [...s.call, ...s.put]).map((l) => l.token as number);
    expect(tokens.every((t) => ['backing_off', 'pending'].includes(manager.statusOf(t)))).toBe(true);
    // The outage lasts until the manager has recorded a failed subscribe for the chain.
    await expect.poll(() => attempts.some((a) => a.reason === 'server'), { message: 'a failed attempt', timeout: 20_000 }).toBe(true);
    dt.sim.setFaults({ errorRate: 0 });

    // Data flowing is what is asked here: the bucket still filling shows a leg's first ticks at once (the latest
    // complete bucket would hold them only up to 65 s later, which the other test covers).
    const filling = await untilAllLive(`${query}&include_partial=true`, 80_000);
    expect(filling.series.every((s) => s.partial && s.bucket_end !== null)).toBe(true);
    expect(attempts.some((a) => a.reason === 'server')).toBe(true);
    const subscribed = attempts.filter((a) => a.outcome === 'succeeded').map((a) => a.token);
    expect(tokens.every((t) => subscribed.includes(t))).toBe(true);
    expect(new Set(subscribed).size).toBe(subscribed.length);
  }, 130_000);
});
