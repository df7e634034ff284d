import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { autoRetryable, backoffMs, DEFAULT_BACKOFF } from './backoff';

describe('per-token subscribe backoff', () => {
  it('doubles per attempt from 5 s to 5 min for service failures, +-20 % jitter', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('server', 'rate_limited', 'timeout', 'network', 'capacity'),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (kind, attempts, r) => {
          const plain = Math.min(5 * 60_000, 5_000 * 2 ** (attempts - 1));
          const delay = backoffMs(kind, attempts, DEFAULT_BACKOFF, () => r);
          expect(delay).toBe(Math.round(plain * (0.8 + 0.4 * r)));
        },
      ),
    );
  });

  it('retries refusals (unknown token, bad request) slowly: from 1 min to 1 h, and never by itself', () => {
    expect(backoffMs('not_found', 1, DEFAULT_BACKOFF, () => 0.5)).toBe(60_000);
    expect(backoffMs('bad_request', 3, DEFAULT_BACKOFF, () => 0.5)).toBe(240_000);
    expect(backoffMs('not_found', 30, DEFAULT_BACKOFF, () => 0.5)).toBe(3_600_000);
    expect(autoRetryable('not_found')).toBe(false);
    expect(autoRetryable('bad_request')).toBe(false);
    expect(autoRetryable('server')).toBe(true);
    expect(autoRetryable(null)).toBe(false);
  });
});
