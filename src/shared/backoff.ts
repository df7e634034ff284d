// One retry-delay policy for every retry loop in the console (ticker calls, history chunks, per-token subscribe
// retries, bar writes, Redis reconnects): exponential from a base, capped, with an optional jitter so many retriers
// (a chain's tokens, a backfill's chunks, several consoles on one Redis) do not retry in lockstep.
// Deterministic given the random source, so tests pass a fixed one.

/**
 * - `none`: the exponential delay itself.
 * - `full`: uniform in [0, delay]; the widest spread, for calls many clients make at the same moment.
 * - `equal`: uniform in [delay/2, delay]; spread, but never much sooner than planned.
 * - `{ spread }`: delay × (1 ± spread); keeps the schedule's shape and breaks the lockstep. This one may land up to
 *   `spread` above the cap: the cap bounds the schedule, and the jitter spreads retriers that all reached it.
 */
export type Jitter = 'none' | 'full' | 'equal' | { spread: number };

export interface BackoffPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Upper bound of the exponential schedule. */
  maxMs: number;
  jitter?: Jitter;
}

/** Exponent bound: far past any cap, and keeps `0 × 2^n` from becoming NaN. */
const MAX_DOUBLINGS = 60;

/** The un-jittered delay before retry `retry` (0 = the first retry): base × 2^retry, never above the cap. */
export function backoffCeiling(policy: Pick<BackoffPolicy, 'baseMs' | 'maxMs'>, retry: number): number {
  const doublings = Math.min(MAX_DOUBLINGS, Math.max(0, Math.floor(retry)));
  return Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
}

/** Whole milliseconds to wait before retry `retry` (0 = the first retry). `random` is read once, only when jittering. */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(policy, retry);
  const jitter = policy.jitter ?? 'none';
  if (jitter === 'none') return Math.round(ceiling);
  const r = random();
  if (jitter === 'full') return Math.round(r * ceiling);
  if (jitter === 'equal') return Math.round(ceiling / 2 + (r * ceiling) / 2);
  // A spread outside [0, 1] would give negative delays: clamp it (the policies in the code use 0.2).
  const spread = Math.min(1, Math.max(0, jitter.spread));
  return Math.round(ceiling * (1 - spread + 2 * spread * r));
}
