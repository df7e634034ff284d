import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, type BackoffPolicy, type Jitter } from './backoff';

const policyArb = fc.record({ baseMs: fc.integer({ min: 1, max: 60_000 }), maxMs: fc.integer({ min: 1, max: 3_600_000 }) });
const jitterArb: fc.Arbitrary<Jitter> = fc.oneof(
  fc.constant<Jitter>('none'),
  fc.constant<Jitter>('full'),
  fc.constant<Jitter>('equal'),
  fc.double({ min: 0, max: 0.5, noNaN: true }).map((spread): Jitter => ({ spread })),
);
const retryArb = fc.integer({ min: 0, max: 80 });
// A random source in [0, 1), as Math.random.
const unitArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('backoff policy', () => {
  it('doubles from the base until the cap, then stays at the cap', () => {
    fc.assert(
      fc.property(policyArb, retryArb, (p, retry) => {
        const here = backoffCeiling(p, retry);
        const next = backoffCeiling(p, retry + 1);
        expect(next).toBeGreaterThanOrEqual(here);
        // Independent computation of the schedule: strictly rising (doubling) until it meets the cap.
        const uncapped = p.baseMs * 2 ** retry;
        if (uncapped * 2 < p.maxMs) expect(next).toBe(2 * here);
        if (uncapped >= p.maxMs) expect(next).toBe(p.maxMs);
        expect(here).toBe(Math.min(p.maxMs, uncapped));
      }),
    );
  });

  it('never goes above the cap, whatever the retry count (none, full and equal jitter)', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom<Jitter>('none', 'full', 'equal'), fc.integer({ min: 0, max: 10_000 }), unitArb, (p, jitter, retry, r) => {
        const d = backoffDelay({ ...p, jitter }, retry, () => r);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(p.maxMs);
      }),
    );
  });

  it('keeps each jitter within its bounds around the un-jittered delay', () => {
    fc.assert(
      fc.property(policyArb, jitterArb, retryArb, unitArb, (p, jitter, retry, r) => {
        const ceiling = Math.min(p.maxMs, p.baseMs * 2 ** retry);
        const d = backoffDelay({ ...p, jitter }, retry, () => r);
        // Whole milliseconds: bounds widen by the half-millisecond of rounding.
        const within = (lo: number, hi: number) => {
          expect(d).toBeGreaterThanOrEqual(Math.floor(lo));
          expect(d).toBeLessThanOrEqual(Math.ceil(hi));
        };
        if (jitter === 'none') expect(d).toBe(ceiling);
        else if (jitter === 'full') within(0, ceiling);
        else if (jitter === 'equal') within(ceiling / 2, ceiling);
        else within(ceiling * (1 - jitter.spread), ceiling * (1 + jitter.spread));
      }),
    );
  });

  it('is deterministic given the random source, and reads it only when jittering', () => {
    fc.assert(
      fc.property(policyArb, jitterArb, retryArb, unitArb, (p, jitter, retry, r) => {
        const policy: BackoffPolicy = { ...p, jitter };
        expect(backoffDelay(policy, retry, () => r)).toBe(backoffDelay(policy, retry, () => r));
      }),
    );
    let reads = 0;
    const counted = () => (reads++, 0.5);
    backoffDelay({ baseMs: 100, maxMs: 1000 }, 3, counted);
    expect(reads).toBe(0);
    backoffDelay({ baseMs: 100, maxMs: 1000, jitter: 'full' }, 3, counted);
    expect(reads).toBe(1);
  });

  it('spans the whole jitter range at the extremes of the random source', () => {
    const p = { baseMs: 1000, maxMs: 60_000 };
    expect(backoffDelay({ ...p, jitter: 'full' }, 2, () => 0)).toBe(0);
    expect(backoffDelay({ ...p, jitter: 'full' }, 2, () => 0.999999)).toBe(4000);
    expect(backoffDelay({ ...p, jitter: 'equal' }, 2, () => 0)).toBe(2000);
    expect(backoffDelay({ ...p, jitter: { spread: 0.2 } }, 2, () => 0)).toBe(3200);
    expect(backoffDelay({ ...p, jitter: { spread: 0.2 } }, 2, () => 0.999999)).toBe(4800);
    // At the cap, a proportional jitter still spreads retriers (the cap bounds the schedule, not the spread).
    expect(backoffDelay({ ...p, jitter: { spread: 0.2 } }, 50, () => 0.999999)).toBe(72_000);
  });

  it('never gives a negative delay, whatever spread a policy names (clamped to [0, 1])', () => {
    fc.assert(
      fc.property(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (spread, r) => {
        const d = backoffDelay({ baseMs: 1000, maxMs: 8000, jitter: { spread } }, 3, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(16_000);
      }),
    );
  });

  it('treats a negative or fractional retry as its whole, non-negative part', () => {
    expect(backoffDelay({ baseMs: 200, maxMs: 10_000 }, -3)).toBe(200);
    expect(backoffDelay({ baseMs: 200, maxMs: 10_000 }, 2.7)).toBe(800);
  });
});
