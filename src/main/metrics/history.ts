// Per-minute history in the state store. Events are folded in memory into one row per (metric, minute, label set)
// and written every few seconds (and at stop) by merging into the stored row, so a restart within the same minute
// adds to it rather than overwriting it. Rows older than the retention are pruned. Cost: a few dozen small rows
// per minute, however busy the console is.
import type Database from 'better-sqlite3';
import type { Clock } from '../../shared/clock';
import { bucketKey, mergeBuckets, type BucketCounts } from './histogram';
import { labelKey } from './labels';

export const MINUTE_MS = 60_000;
export const DEFAULT_RETENTION_MS = 8 * 24 * 3_600_000;

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

export interface MinuteRow {
  metric: string;
  minute: number;
  labels: string;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  last: number | null;
  buckets: BucketCounts | null;
}

interface StoredRow extends Omit<MinuteRow, 'buckets'> {
  buckets: string | null;
}

export type Labels = Record<string, string> | string;
const keyOf = (labels: Labels): string => (typeof labels === 'string' ? labels : labelKey(labels));

const minOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

function merge(into: MinuteRow, from: MinuteRow): MinuteRow {
  into.count += from.count;
  into.sum += from.sum;
  into.min = minOf(into.min, from.min);
  into.max = maxOf(into.max, from.max);
  if (from.last !== null) into.last = from.last;
  if (from.buckets) into.buckets = mergeBuckets(into.buckets ?? {}, from.buckets);
  return into;
}

/** Slot of the fine history: a 15-minute chart gets 15-second buckets, not one point a minute. */
export const FINE_SLOT_MS = 15_000;
/** The fine history serves windows up to 30 minutes; an hour more is kept for margin. */
export const FINE_RETENTION_MS = 90 * MINUTE_MS;

export interface HistoryTable {
  /** metric_minutes (one-minute slots) or metric_slots (FINE_SLOT_MS slots): same columns. */
  table: 'metric_minutes' | 'metric_slots';
  slotMs: number;
}
const MINUTES_TABLE: HistoryTable = { table: 'metric_minutes', slotMs: MINUTE_MS };

/**
 * Rows folded per slot (one minute by default; the column is still called `minute`, the slot start). A history may
 * carry a finer one (`fine`) that receives a copy of every observation: short windows read it.
 */
export class MinuteHistory {
  private pending = new Map<string, MinuteRow>();
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  private readonly select: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly table: string;
  readonly slotMs: number;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    readonly retentionMs = DEFAULT_RETENTION_MS,
    where: HistoryTable = MINUTES_TABLE,
    readonly fine: MinuteHistory | null = null,
  ) {
    this.table = where.table;
    this.slotMs = where.slotMs;
    this.select = db.prepare(`SELECT * FROM ${this.table} WHERE metric = ? AND minute = ? AND labels = ?`);
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO ${this.table} (metric, minute, labels, count, sum, min, max, last, buckets) VALUES (@metric, @minute, @labels, @count, @sum, @min, @max, @last, @buckets)`,
    );
  }

  private slotOf(ms: number): number {
    return Math.floor(ms / this.slotMs) * this.slotMs;
  }

  // Labels are given as an object, or as the canonical key itself (`labelKey` form) on hot paths.

  /** Counter: n more events this minute. */
  count(metric: string, labels: Labels = '', n = 1): void {
    if (n <= 0) return;
    this.fold({ metric, minute: this.slotOf(this.clock.now()), labels: keyOf(labels), count: n, sum: n, min: null, max: null, last: null, buckets: null });
  }

  /** Distribution: one observation (seconds, rows...), bucketed when bounds are given. */
  observe(metric: string, labels: Labels, value: number, bounds?: readonly number[]): void {
    const buckets = bounds ? { [bucketKey(bounds, value)]: 1 } : null;
    this.fold({ metric, minute: this.slotOf(this.clock.now()), labels: keyOf(labels), count: 1, sum: value, min: value, max: value, last: null, buckets });
  }

  /** Gauge: one sample; the minute keeps min, max, mean (sum/count) and the last value. */
  sample(metric: string, labels: Labels, value: number): void {
    this.fold({
      metric,
      minute: this.slotOf(this.clock.now()),
      labels: keyOf(labels),
      count: 1,
      sum: value,
      min: value,
      max: value,
      last: value,
      buckets: null,
    });
  }

  private fold(row: MinuteRow, forward = true): void {
    // A copy: merge() mutates the row it keeps, and the two histories must not share one.
    if (forward && this.fine) this.fine.fold({ ...row, minute: this.fine.slotOf(this.clock.now()), buckets: row.buckets ? { ...row.buckets } : null });
    const key = `${row.metric}|${row.minute}|${row.labels}`;
    const held = this.pending.get(key);
    if (held) merge(held, row);
    else this.pending.set(key, row);
  }

  get pendingRows(): number {
    return this.pending.size;
  }

  /** Writes the folded rows (merging into stored ones) and prunes past the retention at most every 10 minutes. */
  flush(): { rows: number; pruned: number } {
    this.fine?.flush();
    const rows = [...this.pending.values()];
    this.pending = new Map();
    const now = this.clock.now();
    let pruned = 0;
    const prune = now - this.lastPruneAt >= Math.min(10 * MINUTE_MS, this.retentionMs / 6);
    try {
      this.db.transaction(() => {
        for (const row of rows) {
          const stored = this.select.get(row.metric, row.minute, row.labels) as StoredRow | undefined;
          const merged = stored ? merge(this.decode(stored), row) : row;
          this.upsert.run({ ...merged, buckets: merged.buckets ? JSON.stringify(merged.buckets) : null });
        }
        if (prune) pruned = this.db.prepare(`DELETE FROM ${this.table} WHERE minute < ?`).run(this.slotOf(now - this.retentionMs)).changes;
      })();
    } catch (err) {
      // Keep what could not be written for the next flush rather than losing it.
      for (const row of rows) this.fold(row, false);
      throw err;
    }
    if (prune) this.lastPruneAt = now;
    return { rows: rows.length, pruned };
  }

  private decode(row: StoredRow): MinuteRow {
    return { ...row, buckets: row.buckets ? (JSON.parse(row.buckets) as BucketCounts) : null };
  }

  /** Stored rows of a metric with minute in [fromMinute, toMinute]. Flush first to include the current minute. */
  rows(metric: string, fromMinute: number, toMinute = Number.MAX_SAFE_INTEGER): MinuteRow[] {
    const stored = this.db
      .prepare(`SELECT * FROM ${this.table} WHERE metric = ? AND minute >= ? AND minute <= ? ORDER BY minute`)
      .all(metric, fromMinute, toMinute) as StoredRow[];
    return stored.map((r) => this.decode(r));
  }

  /** The first slot anything was recorded in (any metric), or null: before it the console kept no history. */
  earliest(): number | null {
    return (this.db.prepare(`SELECT MIN(minute) AS m FROM ${this.table}`).get() as { m: number | null }).m;
  }

  /**
   * Rows of the given metrics from `fromMinute` on, summed in SQL per label set and step (`minute` becomes the
   * step's start; buckets and last are not carried): a week of history answers in one pass.
   */
  aggregate(metrics: readonly string[], fromMinute: number, stepMs: number): MinuteRow[] {
    const marks = metrics.map(() => '?').join(', ');
    const rows = this.db
      .prepare(
        `SELECT metric, labels, minute - (minute % ?) AS step_start, SUM(count) AS count, SUM(sum) AS sum, MIN(min) AS min, MAX(max) AS max
           FROM ${this.table} WHERE metric IN (${marks}) AND minute >= ? GROUP BY metric, labels, step_start ORDER BY step_start`,
      )
      .all(stepMs, ...metrics, fromMinute) as (Omit<MinuteRow, 'minute' | 'last' | 'buckets'> & { step_start: number })[];
    return rows.map(({ step_start, ...r }) => ({ ...r, minute: step_start, last: null, buckets: null }));
  }
}

/** The first minute of "the last n one-minute buckets including the current one". */
export const windowStart = (nowMs: number, minutes: number): number => minuteOf(nowMs) - (Math.max(1, Math.round(minutes)) - 1) * MINUTE_MS;
