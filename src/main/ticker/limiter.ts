// Client-side rate limiting for the ticker service (docs/ticker-contract.md, limits): stay under the service's
// limits instead of collecting 429s. One instance per process, shared by every caller through the one TickerClient,
// so the subscription manager, the poll reconciler and backfill draw from the same budgets.
//
// The service (slowapi, key_style "url") counts each limit per client IP *and request path*. So all POSTs share one
// budget, but every DELETE /subscriptions/{token} path has a budget of its own: a bucket here is a kind of request
// plus, for DELETE, the token path (a "keyed" bucket, created on first use and forgotten once idle).
//
// Each bucket keeps a log of its grants over the last window (a sliding window). The service counts in FIXED
// 1-minute windows; any fixed window is covered by some sliding one, so "at most N in every sliding window" keeps
// every fixed window under N too. A small skew allowance (per bucket, SKEW_MS) covers the time on the wire.
// Requests the service rejects with 422 are not counted there, so the client gives their grant back (refund).
// A 429 still happens (another client on the same IP, a restart that lost the log): the bucket is then blocked
// until the service's window must have reset. The 429 carries no Retry-After, so that is one full window.
import type { Scheduler } from './time';

/** create = POST /subscriptions; delete = DELETE /subscriptions/{token} (one bucket per token path). */
export type TickerBucket = 'create' | 'delete' | 'list' | 'health' | 'history';

export interface BucketLimit {
  limit: number;
  windowMs: number;
}

/** The service's budgets: POST 30/min, DELETE 30/min per token path, GET /subscriptions 100/min, /health 60/min, Kite history 3/s. */
export const TICKER_LIMITS: Readonly<Record<TickerBucket, BucketLimit>> = Object.freeze({
  create: { limit: 30, windowMs: 60_000 },
  delete: { limit: 30, windowMs: 60_000 },
  list: { limit: 100, windowMs: 60_000 },
  health: { limit: 60, windowMs: 60_000 },
  history: { limit: 3, windowMs: 1_000 },
});

/**
 * Wire-time allowance per bucket. The one-minute budgets keep 150 ms: a 429 there holds the bucket for a whole
 * minute. History keeps 50 ms: its 3-a-second window makes 150 ms cost 15% of a backfill's wall time, and a rare
 * "Too many requests" costs one second and a retry.
 */
export const SKEW_MS: Readonly<Record<TickerBucket, number>> = Object.freeze({ create: 150, delete: 150, list: 150, health: 150, history: 50 });

/** Every this many new keyed buckets, the idle ones are forgotten (a long session deletes thousands of distinct tokens). */
const IDLE_SWEEP_EVERY = 256;

interface Waiter {
  resolve: (grantedAt: number) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface BucketState {
  bucket: TickerBucket;
  key?: string;
  limit: BucketLimit;
  skewMs: number;
  grants: number[];
  blockedUntil: number;
  queue: Waiter[];
  pumping: boolean;
  /** Wakes the pump early (a penalty was lifted, a waiter left). */
  wake: AbortController | null;
}

export interface BucketView {
  bucket: TickerBucket;
  /** The path key of a keyed bucket (DELETE: the token), absent for the others. */
  key?: string;
  limit: number;
  windowMs: number;
  usedInWindow: number;
  queued: number;
  blockedUntil: number | null;
}

export class RateLimiter {
  private readonly buckets = new Map<string, BucketState>();
  private readonly limits: Record<TickerBucket, BucketLimit>;
  private readonly skews: Record<TickerBucket, number>;
  private created = 0;

  constructor(
    private readonly scheduler: Scheduler,
    limits: Partial<Record<TickerBucket, BucketLimit>> = {},
    /**
     * Added to each window: the request's time on the wire must not make the service see N+1 in its window.
     * One number for every bucket, or per bucket (default SKEW_MS).
     */
    skewMs: number | Readonly<Record<TickerBucket, number>> = SKEW_MS,
  ) {
    const kinds = Object.keys(TICKER_LIMITS) as TickerBucket[];
    this.limits = Object.fromEntries(kinds.map((b) => [b, limits[b] ?? TICKER_LIMITS[b]])) as Record<TickerBucket, BucketLimit>;
    this.skews = Object.fromEntries(kinds.map((b) => [b, typeof skewMs === 'number' ? skewMs : skewMs[b]])) as Record<TickerBucket, number>;
    for (const bucket of kinds) if (bucket !== 'delete') this.state(bucket);
  }

  /**
   * Resolves with the grant's time when a request of this bucket (and path key, for DELETE) may be sent (FIFO).
   * Rejects if the signal aborts first. The time identifies the grant for refund().
   */
  acquire(bucket: TickerBucket, signal?: AbortSignal, key?: string): Promise<number> {
    const state = this.state(bucket, key);
    return new Promise<number>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
        return;
      }
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          state.queue = state.queue.filter((w) => w !== waiter);
          reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      state.queue.push(waiter);
      void this.pump(state);
    });
  }

  /**
   * The service did not count this request (it answered 422: validation runs before its limiter counts): the grant
   * made at `grantedAt` is given back, and a waiter may take its place at once.
   */
  refund(bucket: TickerBucket, grantedAt: number, key?: string): void {
    const state = this.buckets.get(stateKey(bucket, key));
    if (!state) return;
    const i = state.grants.indexOf(grantedAt);
    if (i < 0) return;
    state.grants.splice(i, 1);
    state.wake?.abort();
  }

  /** A 429 (or Kite's "Too many requests") was seen: hold the whole bucket until `untilMs`. */
  penalize(bucket: TickerBucket, untilMs: number, key?: string): void {
    const state = this.state(bucket, key);
    state.blockedUntil = Math.max(state.blockedUntil, untilMs);
  }

  /** When a 429 hold on the bucket ends (epoch ms), or null when it is not held. */
  heldUntil(bucket: TickerBucket, key?: string): number | null {
    const until = this.buckets.get(stateKey(bucket, key))?.blockedUntil ?? 0;
    return until > this.scheduler.now() ? until : null;
  }

  /** How long from now until the (position+1)-th request of this bucket, behind everyone queued, may be sent. */
  estimateWaitMs(bucket: TickerBucket, position = 0, key?: string): number {
    const state = this.buckets.get(stateKey(bucket, key)) ?? this.fresh(bucket);
    const now = this.scheduler.now();
    const window = state.limit.windowMs + state.skewMs;
    const grants = state.grants.filter((g) => g > now - window);
    let t = Math.max(now, state.blockedUntil);
    for (let i = 0; i <= state.queue.length + position; i++) {
      t = Math.max(t, this.nextSlot(grants, state.limit.limit, window, t));
      grants.push(t);
    }
    return t - now;
  }

  /** Every bucket in use (keyed DELETE buckets only while they hold grants, waiters or a 429 hold). */
  view(): BucketView[] {
    const now = this.scheduler.now();
    return [...this.buckets.values()].map((s) => ({
      bucket: s.bucket,
      ...(s.key === undefined ? {} : { key: s.key }),
      limit: s.limit.limit,
      windowMs: s.limit.windowMs,
      usedInWindow: s.grants.filter((g) => g > now - s.limit.windowMs - s.skewMs).length,
      queued: s.queue.length,
      blockedUntil: s.blockedUntil > now ? s.blockedUntil : null,
    }));
  }

  limitOf(bucket: TickerBucket): BucketLimit {
    return this.limits[bucket];
  }

  /** Rejects every waiter (client closed). */
  close(reason: unknown): void {
    for (const state of this.buckets.values()) {
      for (const w of state.queue.splice(0)) {
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.reject(reason);
      }
      state.wake?.abort();
    }
  }

  private fresh(bucket: TickerBucket, key?: string): BucketState {
    const limit = this.limits[bucket];
    if (!limit) throw new Error(`unknown ticker bucket ${bucket}`);
    return { bucket, key, limit, skewMs: this.skews[bucket], grants: [], blockedUntil: 0, queue: [], pumping: false, wake: null };
  }

  private state(bucket: TickerBucket, key?: string): BucketState {
    const id = stateKey(bucket, key);
    let state = this.buckets.get(id);
    if (!state) {
      if (key !== undefined && ++this.created % IDLE_SWEEP_EVERY === 0) this.sweep();
      state = this.fresh(bucket, key);
      this.buckets.set(id, state);
    }
    return state;
  }

  /** Forgets keyed buckets with nothing left to remember: no grant in the window, nobody waiting, no hold. */
  private sweep(): void {
    const now = this.scheduler.now();
    for (const [id, s] of this.buckets) {
      if (s.key === undefined || s.pumping || s.queue.length > 0 || s.blockedUntil > now) continue;
      if (s.grants.every((g) => g <= now - s.limit.windowMs - s.skewMs)) this.buckets.delete(id);
    }
  }

  /** Earliest instant >= t at which fewer than `limit` grants lie in the window before it. */
  private nextSlot(grants: number[], limit: number, window: number, t: number): number {
    const inWindow = grants.filter((g) => g > t - window).sort((a, b) => a - b);
    if (inWindow.length < limit) return t;
    return inWindow[inWindow.length - limit] + window;
  }

  private async pump(state: BucketState): Promise<void> {
    if (state.pumping) return;
    state.pumping = true;
    try {
      while (state.queue.length > 0) {
        const now = this.scheduler.now();
        const window = state.limit.windowMs + state.skewMs;
        state.grants = state.grants.filter((g) => g > now - window);
        const at = Math.max(state.blockedUntil, this.nextSlot(state.grants, state.limit.limit, window, now));
        if (at > now) {
          state.wake = new AbortController();
          try {
            await this.scheduler.sleep(at - now, state.wake.signal);
          } catch {
            // woken early: recompute
          }
          state.wake = null;
          continue;
        }
        const waiter = state.queue.shift() as Waiter;
        if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
        state.grants.push(now);
        waiter.resolve(now);
      }
    } finally {
      state.pumping = false;
    }
  }
}

function stateKey(bucket: TickerBucket, key?: string): string {
  return key === undefined ? bucket : `${bucket}:${key}`;
}
