// Percentiles from stored bucket counts against the exact percentile of the raw observations.
import { describe, expect, it } from 'vitest';
import { bucketKey, INF, quantileFromBuckets, TIME_TO_DATA_BUCKETS, type BucketCounts } from './histogram';

/** Deterministic pseudo-random numbers (a 32-bit LCG), so the scenario is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Exact q-quantile by linear interpolation between order statistics (numpy's default). */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

describe('bucketed time to data', () => {
  it('puts an observation in the first bucket whose bound is >= it (Prometheus le)', () => {
    expect(bucketKey(TIME_TO_DATA_BUCKETS, 0.1)).toBe('0.25');
    expect(bucketKey(TIME_TO_DATA_BUCKETS, 30)).toBe('30');
    expect(bucketKey(TIME_TO_DATA_BUCKETS, 30.0001)).toBe('45');
    expect(bucketKey(TIME_TO_DATA_BUCKETS, 601)).toBe(INF);
  });

  it('interpolates inside the bucket, narrowed to the observed min and max', () => {
    // Observations 0.5, 0.8 (bucket 1) and 1.2, 2 (bucket 2): rank 2 of 4 ends bucket 1 -> its upper edge, 1.
    const buckets: BucketCounts = { '1': 2, '2': 2 };
    expect(quantileFromBuckets(buckets, 0.5, 0.5, 2)).toBeCloseTo(1, 10);
    // Rank 3: half-way through bucket (1, 2].
    expect(quantileFromBuckets(buckets, 0.75, 0.5, 2)).toBeCloseTo(1.5, 10);
    // The lower edge of the first bucket is the minimum, not 0; the +Inf bucket ends at the maximum.
    expect(quantileFromBuckets(buckets, 0, 0.5, 2)).toBe(0.5);
    expect(quantileFromBuckets({ [INF]: 2 }, 1, 700, 900)).toBe(900);
    expect(quantileFromBuckets({}, 0.5, 0, 0)).toBeNull();
  });

  it('uses the empty bound below a bucket as its lower edge', () => {
    // One observation at 14 s: bucket (10, 15]; bucket (7.5, 10] is empty, so the lower edge is 10 (then min 14).
    expect(quantileFromBuckets({ '15': 1 }, 0.5, 14, 14)).toBe(14);
    // Two at 11 and 14 with a third at 1: the 0.9 quantile lies in (10, 15] narrowed to [10, 14].
    const q = quantileFromBuckets({ '1': 1, '15': 2 }, 0.9, 1, 14) as number;
    expect(q).toBeGreaterThan(10);
    expect(q).toBeLessThanOrEqual(14);
  });

  it('lands p50 and p95 in the bucket of the exact percentile for 2000 scripted waits', () => {
    const rand = lcg(7);
    // Log-uniform waits from 0.3 s to 150 s: most within seconds, a tail past the 30 s alert.
    const waits = Array.from({ length: 2000 }, () => Math.exp(Math.log(0.3) + rand() * (Math.log(150) - Math.log(0.3))));
    const buckets: BucketCounts = {};
    for (const w of waits) buckets[bucketKey(TIME_TO_DATA_BUCKETS, w)] = (buckets[bucketKey(TIME_TO_DATA_BUCKETS, w)] ?? 0) + 1;
    const min = Math.min(...waits);
    const max = Math.max(...waits);
    for (const q of [0.5, 0.95]) {
      const exact = exactQuantile(waits, q);
      const estimate = quantileFromBuckets(buckets, q, min, max) as number;
      const upper = TIME_TO_DATA_BUCKETS.find((le) => exact <= le) as number;
      const lower = [...TIME_TO_DATA_BUCKETS].reverse().find((le) => le < exact) ?? 0;
      expect(estimate).toBeGreaterThanOrEqual(lower);
      expect(estimate).toBeLessThanOrEqual(upper);
      // Within the bucket, linear interpolation is close for a smooth distribution: 10% of the bucket's width.
      expect(Math.abs(estimate - exact)).toBeLessThan((upper - lower) * 0.1);
    }
  });
});
