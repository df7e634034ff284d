// Per-token retry policy after a failed subscribe. Exponential with jitter, capped, never permanent: an unknown or
// expired token (404) is retried slowly (the registry may change), and only when someone asks for it again;
// service failures are retried automatically while the token is still wanted.
import { backoffDelay } from '../../shared/backoff';
import type { TickerErrorKind } from '../ticker/types';

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** For refusals that a retry rarely fixes (404, 400). */
  refusedBaseMs: number;
  refusedMaxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 5 * 60_000, refusedBaseMs: 60_000, refusedMaxMs: 60 * 60_000 };

/** Failures retried without a new request (the service was unavailable, not the token refused). */
export const autoRetryable = (kind: string | null): boolean => kind !== null && kind !== 'not_found' && kind !== 'bad_request';

/** Delay before attempt `attempts + 1`, with +-20 % jitter so a chain's tokens do not retry in lockstep. */
export function backoffMs(
  kind: TickerErrorKind | string,
  attempts: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const refused = !autoRetryable(kind);
  const base = refused ? policy.refusedBaseMs : policy.baseMs;
  const cap = refused ? policy.refusedMaxMs : policy.maxMs;
  return backoffDelay({ baseMs: base, maxMs: cap, jitter: { spread: 0.2 } }, attempts - 1, random);
}
