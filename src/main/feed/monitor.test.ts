// Feed staleness: the state machine on a fake clock, then the devticker's silent stall (no ticks while /health
// would still say running) detected within the 30 s window, and an illiquid strike not mistaken for a dead feed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { CHANNEL_OPTIONS, CHANNEL_UNDERLYING } from '../../shared/feed';
import { startDevTicker, type DevTicker } from '../../devticker';
import { fromIstWallClock, HolidayCalendar, istInstant } from '../calendar';
import { TickIngestor } from '../ingest/ingestor';
import { silentLogger } from '../log';
import { DataSignals } from '../market/data-signals';
import type { Queryable } from '../market/db';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import { FeedMonitor, type FeedStateName } from './monitor';

function recordingTelemetry(): { telemetry: Telemetry; states: FeedStateName[] } {
  const states: FeedStateName[] = [];
  return { telemetry: { ...noopTelemetry, feedState: (s) => states.push(s) }, states };
}

describe('feed monitor state machine', () => {
  const calendar = HolidayCalendar.weekendsOnly();
  const open = istInstant('2025-11-04', 9, 15);

  it('is closed outside sessions, waits a full window after the open, then goes stale on silence', () => {
    const clock = new ManualClock(open - 60_000);
    const { telemetry, states } = recordingTelemetry();
    const changes: string[] = [];
    const m = new FeedMonitor({
      clock,
      telemetry,
      expectStreaming: (t) => calendar.isInSession(t),
      onChange: (v, prev) => changes.push(`${prev}->${v.state}`),
    });
    m.noteTick(CHANNEL_OPTIONS, 1, open - 18 * 3_600_000); // yesterday's last tick
    m.setSubscriptionCount(12);
    expect(m.evaluate()).toBe('closed');
    clock.set(open);
    expect(m.evaluate()).toBe('idle'); // the session just opened: the streams get a full window to start
    clock.set(open + 30_000);
    expect(m.evaluate()).toBe('idle');
    clock.set(open + 30_001);
    expect(m.evaluate()).toBe('stale');
    expect(m.detail().reason).toMatch(/no ticks for 30 s with 12 subscriptions/);
    m.noteTick(CHANNEL_UNDERLYING, 256265, clock.now());
    expect(m.evaluate()).toBe('live');
    clock.advance(30_000);
    expect(m.evaluate()).toBe('live'); // exactly 30 s is not yet stale
    clock.advance(1);
    expect(m.evaluate()).toBe('stale');
    expect(m.feedState()).toEqual({ state: 'stale', lastTickAt: clock.now() - 30_001 });
    expect(changes).toEqual(['idle->closed', 'closed->idle', 'idle->stale', 'stale->live', 'live->stale']);
    // Reported on every transition (and as a heartbeat while unchanged).
    expect(states.filter((s, i) => s !== states[i - 1])).toEqual(['closed', 'idle', 'stale', 'live', 'stale']);
    expect(m.lastTickAt(256265)).toBe(open + 30_001);
    expect(m.lastTickAt(999)).toBeNull();
  });

  it('is idle with no subscriptions, and with an unknown count until the feed has ticked', () => {
    const clock = new ManualClock(open + 3_600_000);
    const m = new FeedMonitor({ clock, expectStreaming: () => true });
    m.evaluate();
    clock.advance(120_000);
    expect(m.evaluate()).toBe('idle'); // unknown subscriptions, never ticked: nothing says ticks are due
    m.noteTick(CHANNEL_OPTIONS, 5, clock.now());
    expect(m.evaluate()).toBe('live');
    clock.advance(31_000);
    expect(m.evaluate()).toBe('stale'); // it did stream in this period and stopped: the silent-dead failure
    m.setSubscriptionCount(0);
    expect(m.evaluate()).toBe('idle');
    m.setSubscriptionCount(3); // new subscriptions get a full window before silence counts
    clock.advance(10_000);
    expect(m.evaluate()).toBe('idle');
    clock.advance(21_000);
    expect(m.evaluate()).toBe('stale');
  });

  it('polls the subscription count without blocking, and an error means unknown', async () => {
    const clock = new ManualClock(open + 3_600_000);
    let answer: () => Promise<number | null> = async () => 4;
    const m = new FeedMonitor({ clock, expectStreaming: () => true, subscriptionCount: () => answer(), subscriptionPollMs: 10, evaluateEveryMs: 10 });
    m.start();
    await expect.poll(() => m.detail().subscriptions, { message: 'the polled count', timeout: 2000 }).toBe(4);
    answer = async () => {
      throw new Error('ticker down');
    };
    await expect.poll(() => m.detail().subscriptions, { message: 'unknown after an error', timeout: 2000 }).toBeNull();
    m.stop();
  });
});

describe('staleness against the devticker', () => {
  const clock = new ManualClock(fromIstWallClock('2025-11-04T10:00:00'));
  let dt: DevTicker;
  beforeAll(async () => {
    dt = await startDevTicker({ port: 0, clock, autoTick: false, clockMode: 'always-open' });
  });
  afterAll(async () => dt?.close());

  it('detects the silent stall within the window, ignores a silent illiquid strike, and recovers', async () => {
    const monitor = new FeedMonitor({ clock, expectStreaming: () => true, subscriptionCount: async () => dt.sim.streamingTokens().length });
    // The database is not reached in this test: only the tick path (parse + monitor) runs.
    const db: Queryable = {
      query: async () => {
        throw new Error('no database in this test');
      },
      exec: async () => undefined,
    };
    const ingestor = new TickIngestor({
      bus: dt.bus,
      db,
      clock,
      signals: new DataSignals(),
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: true,
      monitor,
    });
    dt.bus.subscribe(CHANNEL_OPTIONS, (m) => ingestor.onOptionMessage(m));
    dt.bus.subscribe(CHANNEL_UNDERLYING, (m) => ingestor.onUnderlyingMessage(m));

    const spot = dt.sim.underlyingPrice('NIFTY');
    const expiries = dt.registry.expiries('NIFTY');
    const far = dt.registry.chain('NIFTY', expiries[expiries.length - 1]);
    const illiquid = far.reduce((a, b) => (Math.abs(b.strike - spot) > Math.abs(a.strike - spot) ? b : a));
    const atm = dt.registry.chain('NIFTY', expiries[0]).filter((i) => Math.abs(i.strike - spot) <= 100);
    dt.sim.subscribe([illiquid.token, ...atm.map((i) => i.token)]);
    monitor.setSubscriptionCount(dt.sim.streamingTokens().length);

    const run = (seconds: number): FeedStateName[] => {
      const seen: FeedStateName[] = [];
      for (let s = 0; s < seconds; s++) {
        dt.sim.tick();
        clock.advance(1000);
        seen.push(monitor.evaluate());
      }
      return seen;
    };
    expect(new Set(run(60))).toEqual(new Set(['live']));
    // An illiquid strike silent for the whole minute is not a dead feed.
    const illiquidLast = monitor.lastTickAt(illiquid.token);
    expect(illiquidLast === null || clock.now() - illiquidLast > 30_000).toBe(true);

    dt.sim.setFaults({ stall: true });
    const stalled = run(40);
    const firstStale = stalled.indexOf('stale');
    // The index ticks every second, so the last tick was 1 s before the stall's first step: evaluation s sees
    // (s + 2) s of silence, and the feed turns stale at the first evaluation past 30 s (s = 29), not before.
    expect(firstStale).toBe(29);
    expect(stalled.slice(firstStale).every((s) => s === 'stale')).toBe(true);
    expect(monitor.detail().reason).toMatch(/no ticks for \d+ s/);

    dt.sim.setFaults({ stall: false });
    expect(run(2)).toContain('live');
    expect(ingestor.stats().parseErrors).toBe(0);
    dt.sim.unsubscribe(dt.sim.streamingTokens());
  });

  it('buckets by the receive-time ts quirk (fractional seconds) without errors', () => {
    const monitor = new FeedMonitor({ clock, expectStreaming: () => true });
    const db: Queryable = { query: async () => [], exec: async () => undefined };
    const ingestor = new TickIngestor({
      bus: dt.bus,
      db,
      clock,
      signals: new DataSignals(),
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: true,
      monitor,
    });
    const off1 = dt.bus.subscribe(CHANNEL_OPTIONS, (m) => ingestor.onOptionMessage(m));
    const off2 = dt.bus.subscribe(CHANNEL_UNDERLYING, (m) => ingestor.onUnderlyingMessage(m));
    dt.sim.setFaults({ quirkTsReceiveTime: true });
    const spot = dt.sim.underlyingPrice('NIFTY');
    const atm = dt.registry.chain('NIFTY', dt.registry.expiries('NIFTY')[0]).filter((i) => Math.abs(i.strike - spot) <= 100);
    dt.sim.subscribe(atm.map((i) => i.token));
    clock.advance(250);
    for (let s = 0; s < 5; s++) {
      dt.sim.tick();
      clock.advance(1000);
    }
    const st = ingestor.stats();
    expect(st.ticks).toBeGreaterThan(5);
    expect(st).toMatchObject({ parseErrors: 0, tsAdjusted: 0, lateDropped: 0 });
    dt.sim.setFaults({ quirkTsReceiveTime: false });
    dt.sim.unsubscribe(dt.sim.streamingTokens());
    off1();
    off2();
  });
});
