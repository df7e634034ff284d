// "Accepted but not streaming": the streaming watch's verdicts on plain numbers, then the whole path on a fake clock
// with everything else real: the devticker over HTTP (its reload stops streaming for good, as the real service's
// current revision does, while /health says running), the ticker client, the feed monitor fed from the devticker's
// bus, the manager, and the metrics service's alert book in a SQLite file.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import { CHANNEL_OPTIONS } from '../../shared/feed';
import { fromIstWallClock } from '../calendar';
import { FeedMonitor } from '../feed/monitor';
import { FlagService } from '../flags/flags';
import { DataSignals } from '../market/data-signals';
import { MetricsService } from '../metrics/service';
import { StateStore } from '../state/store';
import { HttpTickerClient } from '../ticker/client';
import { FakeScheduler } from '../../testing/clock';
import { SubscriptionManager } from './manager';
import { StreamingWatch, STREAMING_STOPPED_AFTER_MS } from './streaming-watch';
import { subscriptionRows } from './views';

/** Tuesday 2025-11-04, 11:00 IST: an NSE session. */
const T0 = fromIstWallClock('2025-11-04T11:00:00');
/** The same day at 18:00 IST: closed. */
const EVENING = fromIstWallClock('2025-11-04T18:00:00');
const sessionOpen = (ms: number) => ms >= T0 - 3_600_000 && ms < T0 + 4 * 3_600_000;

describe('streaming watch verdicts', () => {
  it('in a session: streaming while ticks come, stopped once silent beyond the window, and back by itself', () => {
    let lastTick: number | null = T0;
    const watch = new StreamingWatch({ lastStreamTickAt: () => lastTick, sessionOpen });
    expect(watch.evaluate(T0, 12).state).toBe('streaming');
    expect(watch.evaluate(T0 + 1_000, 12).state).toBe('streaming');
    expect(watch.evaluate(T0 + STREAMING_STOPPED_AFTER_MS, 12).state).toBe('streaming');
    const stopped = watch.evaluate(T0 + STREAMING_STOPPED_AFTER_MS + 1_000, 12);
    expect(stopped).toMatchObject({ state: 'stopped', accepted: 12, silentForMs: 21_000, stoppedSince: T0 + 21_000 });
    expect(stopped.message).toMatch(/^the ticker service accepted 12 subscriptions but has streamed nothing for 21 s: restart the ticker service/);
    expect(watch.evaluate(T0 + 40_000, 12)).toMatchObject({ state: 'stopped', stoppedSince: T0 + 21_000, silentForMs: 40_000 });
    lastTick = T0 + 41_000;
    expect(watch.evaluate(T0 + 41_500, 12)).toMatchObject({ state: 'streaming', stoppedSince: null });
  });

  it('a service that never streams: silence counts from when ticks became due', () => {
    const watch = new StreamingWatch({ lastStreamTickAt: () => null, sessionOpen });
    expect(watch.evaluate(T0, 0).state).toBe('not_expected'); // nothing subscribed
    expect(watch.evaluate(T0 + 5_000, null).state).toBe('not_expected'); // list unknown
    expect(watch.evaluate(T0 + 10_000, 3).state).toBe('waiting');
    expect(watch.evaluate(T0 + 30_000, 3).state).toBe('waiting');
    expect(watch.evaluate(T0 + 31_000, 3)).toMatchObject({ state: 'stopped', silentForMs: 21_000 });
  });

  it('outside a session: judged only when the feed has shown (mock) ticks while closed', () => {
    let lastTick: number | null = T0 + 60_000; // last tick in the session
    const watch = new StreamingWatch({ lastStreamTickAt: () => lastTick, sessionOpen });
    expect(watch.evaluate(EVENING, 40)).toMatchObject({ state: 'not_expected' });
    expect(watch.evaluate(EVENING + 120_000, 40)).toMatchObject({ state: 'not_expected' });
    lastTick = EVENING + 121_000; // the real service streams mock ticks outside sessions
    expect(watch.evaluate(EVENING + 122_000, 40).state).toBe('streaming');
    expect(watch.evaluate(EVENING + 141_000, 40).state).toBe('streaming');
    expect(watch.evaluate(EVENING + 142_000, 40)).toMatchObject({ state: 'stopped', accepted: 40, silentForMs: 21_000 });
  });
});

describe('a reload that stops streaming (fake clock, devticker over HTTP)', () => {
  let time: FakeScheduler;
  let dt: DevTicker;
  let client: HttpTickerClient;
  let state: StateStore;
  let manager: SubscriptionManager;
  let monitor: FeedMonitor;
  let metrics: MetricsService;
  let off: () => void;
  const posts = new Map<number, number>();

  beforeEach(async () => {
    posts.clear();
    time = new FakeScheduler(T0);
    dt = await startDevTicker({ port: 0, clock: time, autoTick: false, denseTicks: true });
    client = new HttpTickerClient({ baseUrl: dt.url, scheduler: time, random: () => 0.5, breaker: { failureThreshold: 1000 } });
    const subscribe = client.subscribe.bind(client);
    client.subscribe = (token, opts) => {
      posts.set(token, (posts.get(token) ?? 0) + 1);
      return subscribe(token, opts);
    };
    state = new StateStore(join(mkdtempSync(join(tmpdir(), 'sd-streaming-')), 'state.db'));
    state.migrate();
    monitor = new FeedMonitor({ clock: time, expectStreaming: sessionOpen });
    off = dt.bus.subscribe(CHANNEL_OPTIONS, () => monitor.noteTick(CHANNEL_OPTIONS, null, time.now()));
    const watch = new StreamingWatch({
      lastStreamTickAt: () => monitor.lastChannelTickAt(CHANNEL_OPTIONS),
      sessionOpen: (ms) => monitor.expectsStreamingAt(ms),
    });
    manager = new SubscriptionManager({
      ticker: client,
      state,
      flags: new FlagService(state, {}),
      signals: new DataSignals(),
      scheduler: time,
      idleMs: () => 30 * 60_000,
      random: () => 0.5,
      maintainEveryMs: 60 * 60_000,
      streaming: watch,
    });
    manager.start();
    metrics = new MetricsService({ db: state.db, clock: time, defaultMetrics: false, streaming: () => manager.streamingView() });
  });

  afterEach(async () => {
    off();
    await manager.stop();
    await client.close();
    await dt.close();
    state.close();
  });

  const served = (status: number): number => dt.sim.counters().requests['POST /subscriptions']?.[String(status)] ?? 0;
  const nearest = (n: number, skip = 0): number[] => {
    const expiry = dt.registry.expiries('NIFTY')[0];
    const chain = dt.registry.chain('NIFTY', expiry);
    const strikes = [...new Set(chain.map((i) => i.strike))].sort((a, b) => a - b);
    const centre = strikes[Math.floor(strikes.length / 2)];
    return [...chain]
      .sort((a, b) => Math.abs(a.strike - centre) - Math.abs(b.strike - centre) || a.token - b.token)
      .slice(skip, skip + n)
      .map((i) => i.token);
  };
  /** One second of market time: the devticker's loop step, then the manager's maintenance round. */
  const second = async () => {
    await time.advance(1_000);
    dt.sim.tick();
    await manager.maintain();
  };

  it('raises streaming_stopped within 30 s, sends no POST while it holds, and resumes by itself when ticks return', async () => {
    const first = nearest(6);
    await manager.ensureSubscribed(first, { waitMs: 0 });
    await vi.waitFor(() => expect(served(201)).toBe(6));
    for (let i = 0; i < 5; i++) await second();
    expect(manager.streamingView()).toMatchObject({ state: 'streaming', accepted: 6 });

    // The next reload stops every stream for good; the service keeps answering 201 and /health says running.
    dt.sim.setFaults({ stallAfterReload: true });
    const second4 = nearest(4, 6);
    await manager.ensureSubscribed(second4, { waitMs: 0 });
    await vi.waitFor(() => expect(served(201)).toBe(10));
    let detectedAt: number | null = null;
    for (let i = 0; i < 60 && detectedAt === null; i++) {
      await second();
      if (manager.streamingView()?.state === 'stopped') detectedAt = time.now();
    }
    const lastTick = monitor.lastChannelTickAt(CHANNEL_OPTIONS) as number;
    expect(detectedAt).not.toBeNull();
    expect((detectedAt as number) - lastTick).toBeGreaterThan(STREAMING_STOPPED_AFTER_MS);
    expect((detectedAt as number) - lastTick).toBeLessThanOrEqual(30_000);
    const health = (await (await fetch(`${dt.url}/health`)).json()) as { ticker: { running: boolean } };
    expect(health.ticker.running).toBe(true);

    const fired = metrics.evaluate().filter((t) => t.alert.rule === 'streaming_stopped');
    expect(fired).toHaveLength(1);
    expect(fired[0].kind).toBe('fired');
    expect(fired[0].alert.message).toMatch(/the ticker service accepted 10 subscriptions but has streamed nothing for 2\d s: restart the ticker service/);

    // More legs asked for while nothing streams: queued, shown as held, never sent, even after the window resets.
    const third = nearest(4, 10);
    const result = await manager.ensureSubscribed(third, { waitMs: 5_000 });
    expect(result.pending.sort()).toEqual([...third].sort());
    for (let i = 0; i < 70; i++) await second();
    expect(served(201)).toBe(10);
    expect(third.map((t) => manager.statusOf(t))).toEqual(['pending', 'pending', 'pending', 'pending']);
    const rows = await subscriptionRows(manager, { byTokens: async () => new Map() }, { state: 'pending', limit: 100, now: time.now() });
    expect(rows.map((r) => r.token).sort()).toEqual([...third].sort());
    expect(rows[0].failureReason).toMatch(/^not sent: the ticker service accepted 10 subscriptions/);
    expect(metrics.evaluate()).toEqual([]); // still firing, not fired twice

    // The operator restarts the service: ticks return, the alert resolves, the held legs go out (once each).
    dt.sim.setFaults({ stall: false });
    await second();
    expect(manager.streamingView()?.state).toBe('streaming');
    await vi.waitFor(() => expect(served(201)).toBe(14));
    for (let i = 0; i < 6; i++) await second();
    expect(third.every((t) => manager.statusOf(t) === 'active' && dt.sim.streamingTokens().includes(t))).toBe(true);
    const resolved = metrics.evaluate().filter((t) => t.alert.rule === 'streaming_stopped');
    expect(resolved.map((t) => t.kind)).toEqual(['resolved']);
    expect([...posts.values()].every((n) => n === 1)).toBe(true);
    expect(posts.size).toBe(14);
  });

  it('a service that never streams what it accepted (no ticks at all) is caught too, and nothing more is POSTed', async () => {
    dt.sim.setFaults({ stall: true });
    const legs = nearest(8);
    await manager.ensureSubscribed(legs.slice(0, 4), { waitMs: 0 });
    await vi.waitFor(() => expect(served(201)).toBe(4));
    let seconds = 0;
    while (manager.streamingView()?.state !== 'stopped' && seconds < 60) {
      await second();
      seconds++;
    }
    expect(seconds).toBeLessThanOrEqual(30);
    expect(monitor.lastChannelTickAt(CHANNEL_OPTIONS)).toBeNull();
    await manager.ensureSubscribed(legs.slice(4), { waitMs: 0 });
    for (let i = 0; i < 10; i++) await second();
    expect(served(201)).toBe(4);
  });
});
