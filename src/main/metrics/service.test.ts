// Each success metric against a scripted scenario whose answer is computed independently in the test; the
// per-minute history in a real SQLite file (aggregation, restart, retention).
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { TIME_TO_DATA_BUCKETS } from './histogram';
import { MINUTE_MS } from './history';
import { labelKey, parseLabelKey } from './labels';
import { metricsOn, openStore, promValue, stateFile, T0 } from './testing/support';

const HOUR = 3_600_000;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.ceil(pos)] - sorted[lo]) * (pos - lo);
}

const cycle = (considered: number, backfilled: number, requests: number, minimumRequests: number, rowsWritten: number) => ({
  considered,
  backfilled,
  requests,
  minimumRequests,
  rowsWritten,
  gapsFilled: backfilled,
  noTradeWindows: 0,
  failures: {},
  durationMs: 1000,
  trigger: 'scheduled' as const,
});

describe('auto-subscription success rate', () => {
  it('20 attempts with 3 failures is 85%, per minute and in Prometheus', async () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    // Four attempts a minute for five minutes; failures at attempts 2, 9 (rate limited) and 14 (capacity).
    const failures = new Map([
      [2, 'rate_limited'],
      [9, 'rate_limited'],
      [14, 'capacity'],
    ]);
    const script = Array.from({ length: 20 }, (_v, i) => ({ at: T0 + Math.floor(i / 4) * MINUTE_MS + (i % 4) * 10_000, failed: failures.get(i) }));
    for (const [i, step] of script.entries()) {
      clock.set(step.at);
      if (step.failed) metrics.autoSubscribeAttempt('failed', step.failed, 1000 + i);
      else metrics.autoSubscribeAttempt('succeeded', 'subscribed', 1000 + i);
      if (step.at % (2 * MINUTE_MS) === 0) metrics.tick();
    }
    clock.set(T0 + 5 * MINUTE_MS + 5_000);

    const summary = metrics.summary(1);
    expect(summary.autoSubscribe).toMatchObject({ attempted: 20, succeeded: 17, failed: 3 });
    expect(summary.autoSubscribe.successRate).toBeCloseTo(0.85, 12);
    // Per minute: the script's own grouping.
    const perMinute = new Map<number, { n: number; ok: number }>();
    for (const step of script) {
      const m = Math.floor(step.at / MINUTE_MS) * MINUTE_MS;
      const e = perMinute.get(m) ?? { n: 0, ok: 0 };
      e.n += 1;
      if (!step.failed) e.ok += 1;
      perMinute.set(m, e);
    }
    for (const [m, e] of perMinute) expect(summary.autoSubscribe.series.find((p) => p.t === m)?.v).toBeCloseTo(e.ok / e.n, 12);
    expect(summary.autoSubscribe.series.find((p) => p.t === T0 + 5 * MINUTE_MS)?.v).toBeNull();
    expect(summary.autoSubscribe.series).toHaveLength(60);

    expect(await promValue(metrics, 'strikedesk_auto_subscribe_attempts_total', { outcome: 'failed', reason: 'rate_limited' })).toBe(2);
    expect(await promValue(metrics, 'strikedesk_auto_subscribe_attempts_total', { outcome: 'failed', reason: 'capacity' })).toBe(1);
    expect(await promValue(metrics, 'strikedesk_auto_subscribe_attempts_total', { outcome: 'succeeded' })).toBe(17);
    metrics.stop();
    store.close();
  });
});

describe('time to data', () => {
  it('p50/p95 from stored buckets land on the exact percentiles; histogram and worst-per-minute are exact', async () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    const rand = lcg(11);
    const observations: { at: number; s: number }[] = [];
    for (let i = 0; i < 300; i++) {
      const at = T0 + Math.floor(rand() * 10 * MINUTE_MS);
      // Mostly 1-20 s, a tenth past the 30 s alert.
      const s = rand() < 0.9 ? 1 + rand() * 19 : 30 + rand() * 90;
      observations.push({ at, s });
    }
    observations.sort((a, b) => a.at - b.at);
    for (const [i, o] of observations.entries()) {
      clock.set(o.at);
      metrics.timeToData(o.s, 5000 + i);
    }
    clock.set(T0 + 10 * MINUTE_MS);
    const ttd = metrics.summary(1).timeToData;
    const values = observations.map((o) => o.s);
    expect(ttd.count).toBe(300);
    for (const [q, got] of [
      [0.5, ttd.p50],
      [0.95, ttd.p95],
    ] as const) {
      const exact = exactQuantile(values, q);
      const upper = TIME_TO_DATA_BUCKETS.find((le) => exact <= le) as number;
      const lower = [...TIME_TO_DATA_BUCKETS].reverse().find((le) => le < exact) ?? 0;
      expect(got).toBeGreaterThanOrEqual(lower);
      expect(got).toBeLessThanOrEqual(upper);
    }
    // Per-bucket counts, counted here with a plain loop.
    for (const { le, count } of ttd.histogram) {
      const i = TIME_TO_DATA_BUCKETS.indexOf(le);
      const lower = i === 0 ? Number.NEGATIVE_INFINITY : TIME_TO_DATA_BUCKETS[i - 1];
      expect(count).toBe(values.filter((v) => v > lower && v <= le).length);
    }
    // Worst per minute.
    for (const point of ttd.series.filter((p) => p.v !== null)) {
      const inMinute = observations.filter((o) => Math.floor(o.at / MINUTE_MS) * MINUTE_MS === point.t).map((o) => o.s);
      expect(point.v).toBeCloseTo(Math.max(...inMinute), 9);
    }
    expect(await promValue(metrics, 'strikedesk_time_to_data_seconds', {}, 'strikedesk_time_to_data_seconds_count')).toBe(300);
    expect(await promValue(metrics, 'strikedesk_time_to_data_seconds', {}, 'strikedesk_time_to_data_seconds_sum')).toBeCloseTo(
      values.reduce((a, b) => a + b, 0),
      6,
    );
    expect(await promValue(metrics, 'strikedesk_time_to_data_seconds', { le: '30' }, 'strikedesk_time_to_data_seconds_bucket')).toBe(
      values.filter((v) => v <= 30).length,
    );
    metrics.stop();
    store.close();
  });
});

describe('backfill efficiency', () => {
  it('shows the last cycle, per-cycle series and the request counters', async () => {
    const clock = new ManualClock(T0);
    const path = stateFile();
    const store = openStore(path);
    const { metrics } = metricsOn(store, clock);
    // Before subscription-aware backfill: everything; after: only the subscribed set.
    const cycles = [
      { at: T0, c: cycle(120, 40, 45, 40, 12_000) },
      { at: T0 + 5 * MINUTE_MS, c: cycle(50, 20, 20, 20, 6_000) },
      { at: T0 + 10 * MINUTE_MS, c: cycle(48, 18, 19, 18, 5_400) },
    ];
    for (const { at, c } of cycles) {
      clock.set(at);
      metrics.backfillCycle(c);
      metrics.backfillJob('done', 3_000, c.rowsWritten);
    }
    clock.set(T0 + 12 * MINUTE_MS);
    const { backfill } = metrics.summary(1);
    expect(backfill.lastCycle).toEqual({ considered: 48, backfilled: 18, requests: 19, minimumRequests: 18, rowsWritten: 5_400 });
    for (const { at, c } of cycles) {
      expect(backfill.seriesInstruments.find((p) => p.t === at)?.v).toBe(c.backfilled);
      expect(backfill.seriesRequests.find((p) => p.t === at)?.v).toBe(c.requests);
    }
    expect(backfill.seriesInstruments.filter((p) => p.v !== null)).toHaveLength(3);
    expect(await promValue(metrics, 'strikedesk_backfill_instruments', { kind: 'considered' })).toBe(48);
    expect(await promValue(metrics, 'strikedesk_backfill_instruments', { kind: 'backfilled' })).toBe(18);
    expect(await promValue(metrics, 'strikedesk_backfill_cycle_requests', { kind: 'minimum' })).toBe(18);
    expect(await promValue(metrics, 'strikedesk_backfill_requests_total')).toBe(45 + 20 + 19);
    expect(await promValue(metrics, 'strikedesk_backfill_rows_written_total')).toBe(12_000 + 6_000 + 5_400);
    expect(await promValue(metrics, 'strikedesk_backfill_jobs_total', { state: 'done' })).toBe(3);
    metrics.stop();
    store.close();

    // The last cycle survives a restart (gauges and summary).
    const again = openStore(path);
    const { metrics: restarted } = metricsOn(again, clock);
    expect(restarted.summary(1).backfill.lastCycle?.backfilled).toBe(18);
    expect(await promValue(restarted, 'strikedesk_backfill_instruments', { kind: 'backfilled' })).toBe(18);
    restarted.stop();
    again.close();
  });
});

describe('subscription overhead', () => {
  it('counts list/create/delete calls (not history) per hour and per day', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    // [minute offset from T0 (04:00 UTC), endpoint, calls]
    const script: [number, string, number][] = [
      [0, 'subscriptions.list', 25],
      [10, 'subscriptions.create', 20],
      [45, 'subscriptions.list', 15],
      [70, 'subscriptions.delete', 10],
      [95, 'subscriptions.list', 5],
      [100, 'history', 100],
      [140, 'subscriptions.list', 7],
      [141, 'health', 3],
    ];
    for (const [minute, endpoint, n] of script) {
      clock.set(T0 + minute * MINUTE_MS + 10_000);
      for (let i = 0; i < n; i++) metrics.tickerRequest(endpoint, 200, 15);
    }
    clock.set(T0 + 150 * MINUTE_MS); // 06:30
    const calls = metrics.summary(6).subscriptionCalls;
    const isSub = (e: string) => e.startsWith('subscriptions.');
    // Last hour = minutes 91..150 of the script (the last 60 one-minute buckets).
    const lastHour = script.filter(([m, e]) => isSub(e) && m >= 91).reduce((s, [, , n]) => s + n, 0);
    const lastDay = script.filter(([, e]) => isSub(e)).reduce((s, [, , n]) => s + n, 0);
    expect(calls.lastHour).toBe(lastHour);
    expect(calls.lastHour).toBe(12);
    expect(calls.lastDay).toBe(lastDay);
    expect(calls.lastDay).toBe(82);
    // Each point is what the alert counts at that moment: the calls in the hour up to the end of its step (minutes
    // m-59..m for the one-minute step of a 6-hour window).
    const at = (m: number) => calls.seriesPerHour.find((p) => p.t === T0 + m * MINUTE_MS)?.v;
    const trailing = (m: number) => script.filter(([sm, e]) => isSub(e) && sm <= m && sm > m - 60).reduce((s, [, , n]) => s + n, 0);
    for (const m of [0, 9, 10, 45, 59, 60, 69, 70, 119, 129, 140, 150]) expect(at(m), `minute ${m}`).toBe(trailing(m));
    expect(at(59)).toBe(60);
    expect(at(119)).toBe(15);
    // Before the first recorded minute the console was not counting: no point rather than a zero.
    expect(at(-30)).toBeNull();
    // The last point is the "last hour" figure the card shows.
    expect(calls.seriesPerHour.at(-1)).toEqual({ t: T0 + 150 * MINUTE_MS, v: calls.lastHour });
    expect(calls.seriesPerHour.every((p) => p.t % MINUTE_MS === 0)).toBe(true);
    metrics.stop();
    store.close();
  });
});

describe('feed and ingest', () => {
  it('shows the reported feed state, tick age and ingest losses in the window', async () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    metrics.feedState('stale', T0 - 45_000);
    metrics.ingest({ ticks: 900, droppedBars: 3, parseErrors: 2 });
    clock.advance(2 * MINUTE_MS);
    metrics.ingest({ parseErrors: 1, barsWritten: 40 });
    const summary = metrics.summary(1);
    expect(summary.feed).toEqual({ state: 'stale', lastTickAt: new Date(T0 - 45_000).toISOString(), droppedBars: 3, parseErrors: 3 });
    expect(await promValue(metrics, 'strikedesk_feed_stale')).toBe(1);
    expect(await promValue(metrics, 'strikedesk_feed_last_tick_age_seconds')).toBe(45 + 120);
    expect(await promValue(metrics, 'strikedesk_ingest_ticks_total')).toBe(900);
    expect(await promValue(metrics, 'strikedesk_ingest_parse_errors_total')).toBe(3);
    metrics.feedState('live', clock.now() - 1_000);
    expect(await promValue(metrics, 'strikedesk_feed_stale')).toBe(0);
    expect(await promValue(metrics, 'strikedesk_feed_state', { state: 'live' })).toBe(1);
    metrics.intakeEvent('webhook', 'created', 'backfill_queued');
    metrics.gauge('inbox_depth', 4);
    expect(await promValue(metrics, 'strikedesk_intake_events_total', { source: 'webhook', type: 'created', outcome: 'backfill_queued' })).toBe(1);
    expect(await promValue(metrics, 'strikedesk_inbox_depth')).toBe(4);
    metrics.stop();
    store.close();
  });
});

describe('per-minute history in SQLite', () => {
  it('keeps one row per metric, label set and minute however many events', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    const durations: number[] = [];
    for (let i = 0; i < 1000; i++) {
      clock.set(T0 + (i % 50) * 1000); // all within the first minute
      const ms = 5 + (i % 37);
      durations.push(ms);
      metrics.tickerRequest('history', 200, ms);
      if (i % 100 === 0) metrics.tick();
    }
    metrics.tick();
    const rows = store.db.prepare("SELECT * FROM metric_minutes WHERE metric = 'ticker_request'").all() as {
      count: number;
      sum: number;
      min: number;
      max: number;
      minute: number;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ count: 1000, minute: T0, min: 0.005, max: 0.041 });
    expect(rows[0].sum).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 1000, 9);
    metrics.stop();
    store.close();
  });

  it('survives a restart: counts of the same minute merge, earlier minutes stay in the summary', () => {
    const clock = new ManualClock(T0 + 5_000);
    const path = stateFile();
    let store = openStore(path);
    let { metrics } = metricsOn(store, clock);
    for (let i = 0; i < 5; i++) metrics.autoSubscribeAttempt('succeeded', 'subscribed', 100 + i);
    metrics.timeToData(4, 100);
    metrics.stop(); // flushes what the timer has not written yet
    store.close();

    clock.set(T0 + 40_000); // same minute, new process
    store = openStore(path);
    ({ metrics } = metricsOn(store, clock));
    metrics.autoSubscribeAttempt('failed', 'ticker_down', 200);
    metrics.autoSubscribeAttempt('succeeded', 'subscribed', 201);
    metrics.stop();
    store.close();

    clock.set(T0 + 3 * MINUTE_MS);
    store = openStore(path);
    ({ metrics } = metricsOn(store, clock));
    const summary = metrics.summary(1);
    expect(summary.autoSubscribe).toMatchObject({ attempted: 7, succeeded: 6, failed: 1 });
    expect(summary.timeToData.count).toBe(1);
    const rows = store.db
      .prepare("SELECT count FROM metric_minutes WHERE metric = 'auto_subscribe' AND labels = 'outcome=succeeded,reason=subscribed'")
      .all() as { count: number }[];
    expect(rows).toEqual([{ count: 6 }]);
    metrics.stop();
    store.close();
  });

  it('prunes minutes older than the retention (8 days)', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    metrics.tickerRequest('subscriptions.list', 200, 10);
    metrics.tick();
    clock.advance(7 * 24 * HOUR);
    metrics.tickerRequest('subscriptions.list', 200, 10);
    metrics.tick();
    const count = () => (store.db.prepare('SELECT COUNT(*) AS n FROM metric_minutes').get() as { n: number }).n;
    expect(count()).toBe(2);
    clock.advance(2 * 24 * HOUR);
    metrics.tick();
    expect(count()).toBe(1);
    expect(metrics.summary(24 * 7).subscriptionCalls.lastDay).toBe(0);
    metrics.stop();
    store.close();
  });

  it('stores every label set in the canonical (sorted) key form', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    metrics.autoSubscribeAttempt('failed', 'Capacity Full', 1);
    metrics.tickerRequest('subscriptions.create', 429, 3);
    metrics.intakeEvent('webhook', 'created', 'backfill_queued');
    metrics.backfillCycle(cycle(1, 1, 1, 1, 1));
    metrics.backfillJob('failed', 10, 0);
    metrics.tick();
    const keys = (store.db.prepare("SELECT DISTINCT labels FROM metric_minutes WHERE labels != ''").all() as { labels: string }[]).map((r) => r.labels);
    expect(keys).toContain('outcome=failed,reason=capacity_full');
    expect(keys).toContain('endpoint=subscriptions.create,status=429');
    expect(keys).toContain('outcome=backfill_queued,source=webhook,type=created');
    for (const key of keys) expect(labelKey(parseLabelKey(key))).toBe(key);
    metrics.stop();
    store.close();
  });

  it('caps distinct reason labels so free text cannot explode the series', async () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    for (let i = 0; i < 60; i++) metrics.autoSubscribeAttempt('failed', `Ticker said: error #${i}`, i);
    const data = await metrics.prom.autoSubscribe.get();
    const reasons = new Set(data.values.map((v) => String(v.labels.reason)));
    expect(reasons.size).toBe(41);
    expect(reasons.has('other')).toBe(true);
    expect(reasons.has('ticker_said:_error_0')).toBe(true);
    expect(data.values.find((v) => v.labels.reason === 'other')?.value).toBe(20);
    metrics.stop();
    store.close();
  });
});

describe('buckets that fit the window', () => {
  it('a 15-minute window has 15-second buckets from the fine history, a 30-minute one 30 s, an hour one minute', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    // Attempts at known seconds: [seconds after T0, outcome]
    const script: [number, 'succeeded' | 'failed'][] = [
      [5, 'succeeded'],
      [20, 'failed'],
      [25, 'succeeded'],
      [50, 'succeeded'],
      [130, 'failed'],
    ];
    for (const [sec, outcome] of script) {
      clock.set(T0 + sec * 1000);
      metrics.autoSubscribeAttempt(outcome, 'r', sec);
    }
    clock.set(T0 + 10 * MINUTE_MS);
    const short = metrics.summary(1, 15);
    expect(short.stepSeconds).toBe(15);
    const rate = (fromSec: number, toSec: number) => {
      const inStep = script.filter(([s]) => s >= fromSec && s < toSec);
      return inStep.length === 0 ? null : inStep.filter(([, o]) => o === 'succeeded').length / inStep.length;
    };
    for (const step of [0, 15, 30, 45, 120, 135]) {
      expect(short.autoSubscribe.series.find((p) => p.t === T0 + step * 1000)?.v, `step at ${step} s`).toBe(rate(step, step + 15));
    }
    expect(short.autoSubscribe.series.every((p) => p.t % 15_000 === 0)).toBe(true);
    expect(short.autoSubscribe.series.length).toBe(60);
    expect(short.autoSubscribe.attempted).toBe(5);

    const half = metrics.summary(1, 30);
    expect(half.stepSeconds).toBe(30);
    expect(half.autoSubscribe.series.find((p) => p.t === T0)?.v).toBe(rate(0, 30));
    expect(half.autoSubscribe.series.find((p) => p.t === T0 + 30_000)?.v).toBe(rate(30, 60));

    const hour = metrics.summary(1);
    expect(hour.stepSeconds).toBe(60);
    expect(hour.autoSubscribe.series.find((p) => p.t === T0)?.v).toBe(rate(0, 60));
    expect(metrics.summary(24).stepSeconds).toBe(300);
    metrics.stop();
    store.close();
  });

  it('keeps the fine history about an hour and a half', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    metrics.autoSubscribeAttempt('succeeded', 'r', 1);
    metrics.flush();
    const slots = () => (store.db.prepare('SELECT COUNT(*) AS n FROM metric_slots').get() as { n: number }).n;
    expect(slots()).toBe(1);
    clock.advance(2 * HOUR);
    metrics.autoSubscribeAttempt('succeeded', 'r', 2);
    metrics.flush();
    expect(slots()).toBe(1);
    // The minute history keeps both.
    expect((store.db.prepare("SELECT COUNT(*) AS n FROM metric_minutes WHERE metric = 'auto_subscribe'").get() as { n: number }).n).toBe(2);
    metrics.stop();
    store.close();
  });
});
