// metrics:summary: the plan's four success metrics read back from the per-minute history, so the Metrics screen
// and the alerts see the same numbers, across restarts.
import type { AlertThresholds, MetricPoint, MetricsSummary } from '../../shared/api';
import { mergeBuckets, quantileFromBuckets, TIME_TO_DATA_BUCKETS, type BucketCounts } from './histogram';
import { MINUTE_MS, minuteOf, windowStart, type MinuteHistory, type MinuteRow } from './history';
import { parseLabelKey } from './labels';

/** Names of the per-minute series (the metric column). */
export const SERIES = {
  autoSubscribe: 'auto_subscribe',
  timeToData: 'time_to_data',
  /** Seconds from a successful auto-subscribe to the token's first stored data (the slow_data rule's measure). */
  subscribeToData: 'subscribe_to_data',
  tickerRequest: 'ticker_request',
  backfillConsidered: 'backfill_considered',
  backfillBackfilled: 'backfill_backfilled',
  backfillRequests: 'backfill_requests',
  backfillMinimumRequests: 'backfill_minimum_requests',
  backfillRows: 'backfill_rows',
  backfillJob: 'backfill_job',
  intakeEvent: 'intake_event',
  ingestTicks: 'ingest_ticks',
  ingestParseErrors: 'ingest_parse_errors',
  ingestBarsWritten: 'ingest_bars_written',
  ingestDroppedBars: 'ingest_dropped_bars',
  ingestMockSkipped: 'ingest_mock_skipped',
  feedStale: 'feed_stale',
} as const;

/** The ticker endpoints that count as subscription API calls (the overhead metric). */
export const SUBSCRIPTION_ENDPOINTS: ReadonlySet<string> = new Set(['subscriptions.list', 'subscriptions.create', 'subscriptions.delete']);

export interface BackfillCycleView {
  considered: number;
  backfilled: number;
  requests: number;
  minimumRequests: number;
  rowsWritten: number;
}

export interface FeedView {
  state: 'live' | 'stale' | 'idle' | 'closed';
  lastTickAt: number | null;
}

/** Chart resolution in seconds for a window of `minutes`: about 60-300 points whatever the window. */
export function stepSeconds(minutes: number): number {
  if (minutes <= 15) return 15;
  if (minutes <= 30) return 30;
  if (minutes <= 6 * 60) return 60;
  if (minutes <= 24 * 60) return 5 * 60;
  if (minutes <= 72 * 60) return 15 * 60;
  return 30 * 60;
}

/** Kept for callers that think in hours. */
export const stepMinutes = (hours: number): number => Math.max(1, stepSeconds(hours * 60) / 60);

const sumCount = (rows: readonly MinuteRow[]): number => rows.reduce((s, r) => s + r.count, 0);

function bucketsOf(fromMinute: number, toMinute: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(fromMinute / stepMs) * stepMs; t <= toMinute; t += stepMs) out.push(t);
  return out;
}

function groupBy(rows: readonly MinuteRow[], stepMs: number): Map<number, MinuteRow[]> {
  const groups = new Map<number, MinuteRow[]>();
  for (const row of rows) {
    const t = Math.floor(row.minute / stepMs) * stepMs;
    const list = groups.get(t);
    if (list) list.push(row);
    else groups.set(t, [row]);
  }
  return groups;
}

/** A dense series over the window: value(rows of the step) per step, null where the function says so. */
function series(rows: readonly MinuteRow[], fromMinute: number, toMinute: number, stepMs: number, value: (rows: MinuteRow[]) => number | null): MetricPoint[] {
  const groups = groupBy(rows, stepMs);
  return bucketsOf(fromMinute, toMinute, stepMs).map((t) => ({ t, v: value(groups.get(t) ?? []) }));
}

/** Mean per cycle over a step (each row: count = cycles, sum = total). */
const perCycle = (rows: MinuteRow[]): number | null => {
  const n = sumCount(rows);
  return n === 0 ? null : rows.reduce((s, r) => s + r.sum, 0) / n;
};

export function timeToDataStats(rows: readonly MinuteRow[]): {
  count: number;
  buckets: BucketCounts;
  min: number | null;
  max: number | null;
  p50: number | null;
  p95: number | null;
} {
  const buckets: BucketCounts = {};
  let min: number | null = null;
  let max: number | null = null;
  let count = 0;
  for (const r of rows) {
    count += r.count;
    if (r.buckets) mergeBuckets(buckets, r.buckets);
    if (r.min !== null) min = min === null ? r.min : Math.min(min, r.min);
    if (r.max !== null) max = max === null ? r.max : Math.max(max, r.max);
  }
  const q = (p: number) => (count === 0 || min === null || max === null ? null : quantileFromBuckets(buckets, p, min, max, TIME_TO_DATA_BUCKETS));
  return { count, buckets, min, max, p50: q(0.5), p95: q(0.95) };
}

export const isSubscriptionCall = (row: MinuteRow): boolean => SUBSCRIPTION_ENDPOINTS.has(parseLabelKey(row.labels).endpoint ?? '');

export function buildSummary(input: {
  history: MinuteHistory;
  nowMs: number;
  /** The window, in minutes (hours * 60 for the long windows). */
  minutes: number;
  thresholds: AlertThresholds;
  lastCycle: BackfillCycleView | null;
  feed: FeedView;
}): MetricsSummary {
  const { nowMs, minutes } = input;
  const stepMs = stepSeconds(minutes) * 1000;
  // Steps finer than a minute read the fine (15 s) history; the rest the minute history.
  const history = stepMs < MINUTE_MS && input.history.fine ? input.history.fine : input.history;
  const toMinute = Math.floor(nowMs / history.slotMs) * history.slotMs;
  const fromMinute = Math.floor(nowMs / stepMs) * stepMs - (Math.max(1, Math.round((minutes * 60_000) / stepMs)) - 1) * stepMs;
  // Summed per step in SQL; only time to data needs its per-slot rows (bucket counts).
  const rows = history.aggregate(
    [SERIES.autoSubscribe, SERIES.backfillBackfilled, SERIES.backfillRequests, SERIES.ingestDroppedBars, SERIES.ingestParseErrors],
    fromMinute,
    stepMs,
  );
  const of = (metric: string) => rows.filter((r) => r.metric === metric);

  const attempts = of(SERIES.autoSubscribe);
  const outcome = (r: MinuteRow) => parseLabelKey(r.labels).outcome;
  const attempted = sumCount(attempts);
  const succeeded = sumCount(attempts.filter((r) => outcome(r) === 'succeeded'));
  const failed = sumCount(attempts.filter((r) => outcome(r) === 'failed'));

  const ttdRows = history.rows(SERIES.timeToData, fromMinute);
  const ttd = timeToDataStats(ttdRows);

  const minutesHistory = input.history;
  const calls = (from: number, step: number) => minutesHistory.aggregate([SERIES.tickerRequest], from, step).filter(isSubscriptionCall);
  const ALL = Number.MAX_SAFE_INTEGER; // one step: a total per label set
  // Subscription calls per hour, as the alert counts them: at each step, the calls in the hour up to its end.
  const perMinute = new Map<number, number>();
  for (const r of calls(minuteOf(fromMinute) - 59 * MINUTE_MS, MINUTE_MS)) perMinute.set(r.minute, (perMinute.get(r.minute) ?? 0) + r.count);
  // Before the first recorded minute the console was not counting: no point, rather than a flat zero for hours.
  const since = minutesHistory.earliest();
  const trailingHour = (stepStart: number): number | null => {
    const end = Math.min(stepStart + stepMs, nowMs + 1);
    if (stepStart > nowMs || since === null || end <= since) return null;
    let n = 0;
    for (const [minute, count] of perMinute) if (minute < end && minute >= minuteOf(end - 1) - 59 * MINUTE_MS) n += count;
    return n;
  };

  return {
    window: { from: new Date(fromMinute).toISOString(), to: new Date(nowMs).toISOString() },
    stepSeconds: stepMs / 1000,
    autoSubscribe: {
      attempted,
      succeeded,
      failed,
      successRate: attempted === 0 ? null : succeeded / attempted,
      series: series(attempts, fromMinute, toMinute, stepMs, (list) => {
        const n = sumCount(list);
        return n === 0 ? null : sumCount(list.filter((r) => outcome(r) === 'succeeded')) / n;
      }),
    },
    timeToData: {
      p50: ttd.p50,
      p95: ttd.p95,
      count: ttd.count,
      // Per-bucket counts over the finite bounds (JSON has no Infinity); observations past the last bound are in count.
      histogram: TIME_TO_DATA_BUCKETS.map((le) => ({ le, count: ttd.buckets[String(le)] ?? 0 })),
      // The worst time to data per step: what the alert compares with its threshold.
      series: series(ttdRows, fromMinute, toMinute, stepMs, (list) => (list.length === 0 ? null : Math.max(...list.map((r) => r.max ?? 0)))),
    },
    backfill: {
      lastCycle: input.lastCycle,
      seriesInstruments: series(of(SERIES.backfillBackfilled), fromMinute, toMinute, stepMs, perCycle),
      seriesRequests: series(of(SERIES.backfillRequests), fromMinute, toMinute, stepMs, perCycle),
    },
    subscriptionCalls: {
      lastHour: sumCount(calls(windowStart(nowMs, 60), ALL)),
      lastDay: sumCount(calls(windowStart(nowMs, 24 * 60), ALL)),
      seriesPerHour: bucketsOf(fromMinute, toMinute, stepMs).map((t) => ({ t, v: trailingHour(t) })),
    },
    feed: {
      state: input.feed.state,
      lastTickAt: input.feed.lastTickAt === null ? null : new Date(input.feed.lastTickAt).toISOString(),
      droppedBars: sumCount(of(SERIES.ingestDroppedBars)),
      parseErrors: sumCount(of(SERIES.ingestParseErrors)),
    },
    thresholds: input.thresholds,
  };
}
