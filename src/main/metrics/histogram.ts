// Bucketed distributions, the same buckets in the Prometheus histogram and in the per-minute SQLite rows, and
// percentiles read back from stored bucket counts (the history keeps counts, never every observation).

/** Time-to-data bucket upper bounds in seconds: fine around the 30 s alert, up to 10 minutes. */
export const TIME_TO_DATA_BUCKETS: readonly number[] = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300, 600];

/** Ticker HTTP call durations in seconds (a local call is milliseconds; history under load can be seconds). */
export const TICKER_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Per-bucket (not cumulative) counts keyed by the bound as text; '+Inf' holds what is above the last bound. */
export type BucketCounts = Record<string, number>;

export const INF = '+Inf';

/** The key of the bucket an observation falls in (first bound >= value, Prometheus `le` semantics). */
export function bucketKey(bounds: readonly number[], value: number): string {
  for (const le of bounds) if (value <= le) return String(le);
  return INF;
}

export function mergeBuckets(into: BucketCounts, from: BucketCounts): BucketCounts {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
  return into;
}

const boundOf = (key: string): number => (key === INF ? Number.POSITIVE_INFINITY : Number(key));

/**
 * The q-quantile (0..1) of a distribution known by bucket counts plus its exact min and max. Like Prometheus'
 * histogram_quantile, the rank is found by cumulative count and interpolated linearly inside its bucket, but the
 * bucket is first narrowed to [min, max] so the answer never leaves the observed range (and +Inf has an end).
 */
export function quantileFromBuckets(
  buckets: BucketCounts,
  q: number,
  min: number,
  max: number,
  bounds: readonly number[] = TIME_TO_DATA_BUCKETS,
): number | null {
  // Every bound takes part (empty buckets too): a bucket's lower edge is the bound just below it, not the last
  // bucket that happened to hold something.
  const les = new Set<number>([...bounds, ...Object.keys(buckets).map(boundOf)]);
  const entries = [...les].sort((a, b) => a - b).map((le) => ({ le, n: buckets[le === Number.POSITIVE_INFINITY ? INF : String(le)] ?? 0 }));
  const total = entries.reduce((s, e) => s + e.n, 0);
  if (total === 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let below = 0;
  let lower = Number.NEGATIVE_INFINITY;
  for (const { le, n } of entries) {
    if (n > 0 && below + n >= rank) {
      const lo = Math.max(lower, min);
      const hi = Math.min(le, max);
      if (hi <= lo) return hi;
      return lo + (hi - lo) * ((rank - below) / n);
    }
    below += n;
    lower = le;
  }
  return max;
}
