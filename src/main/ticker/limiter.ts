// Client-side rate limiting for the ticker service (shared/spec/ticker-service.md section 1): stay under the
// service's per-IP limits instead of collecting 429s. One instance per process, shared by every caller through the
// one TickerClient, so the subscription manager, the poll reconciler and backfill draw from the same budgets.
//
// Each bucket keeps a log of its grants over the last window (a sliding window). The service counts in FIXED
// 1-minute windows; any fixed window is covered by some sliding one, so "at most N in every sliding window" keeps
// every fixed window under N too. A small skew allowance (per bucket, SKEW_MS) covers the time on the wire.
// A 429 still happens (another client on the same IP, a restart that lost the log): the bucket is then blocked
// until the service's window must have reset. The 429 carries no Retry-After, so that is one full window.
import type { Scheduler } from './time';

export type TickerBucket = 'mutate' | 'list' | 'health' | 'history';

export interface BucketLimit {
  limit: number;
  windowMs: number;
}

/** The service's budgets: POST and DELETE share one (30/min), GET /subscriptions 100/min, /health 60/min, Kite history 3/s. */
export const TICKER_LIMITS: Readonly<Record<TickerBucket, BucketLimit>> = Object.freeze({
  mutate: { limit: 30, windowMs: 60_000 },
  list: { limit: 100, windowMs: 60_000 },
  health: { limit: 60, windowMs: 60_000 },
  history: { limit: 3, windowMs: 1_000 },
});

/**
 * Wire-time allowance per bucket. The one-minute budgets keep 150 ms: a 429 there holds the bucket for a whole
 * minute. History keeps 50 ms: its 3-a-second window makes 150 ms cost 15% of a backfill's wall time, and a rare
 * "Too many requests" costs one second and a retry.
 */
export const SKEW_MS: Readonly<Record<TickerBucket, number>> = Object.freeze({ mutate: 150, list: 150, health: 150, history: 50 });

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface BucketState {
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
  limit: number;
  windowMs: number;
  usedInWindow: number;
  queued: number;
  blockedUntil: number | null;
}

export class RateLimiter {
  private readonly buckets = new Map<TickerBucket, BucketState>();

  constructor(
    private readonly scheduler: Scheduler,
    limits: Partial<Record<TickerBucket, BucketLimit>> = {},
    /**
     * Added to each window: the request's time on the wire must not make the service see N+1 in its window.
     * One number for every bucket, or per bucket (default SKEW_MS).
     */
    skewMs: number | Readonly<Record<TickerBucket, number>> = SKEW_MS,
  ) {
    for (const bucket of Object.keys(TICKER_LIMITS) as TickerBucket[]) {
      const skew = typeof skewMs === 'number' ? skewMs : skewMs[bucket];
      this.buckets.set(bucket, { limit: limits[bucket] ?? TICKER_LIMITS[bucket], skewMs: skew, grants: [], blockedUntil: 0, queue: [], pumping: false, wake: null });
    }
  }

  /** Resolves when a request of this bucket may be sent (FIFO). Rejects if the signal aborts first. */
  acquire(bucket: TickerBucket, signal?: AbortSignal): Promise<void> {
    const state = this.bucket(bucket);
    return new Promise<void>((resolve, reject) => {
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
      void this.pump(bucket);
    });
  }

  /** A 429 (or Kite's "Too many requests") was seen: hold the whole bucket until `untilMs`. */
  penalize(bucket: TickerBucket, untilMs: number): void {
    const state = this.bucket(bucket);
    state.blockedUntil = Math.max(state.blockedUntil, untilMs);
  }

  /** When a 429 hold on the bucket ends (epoch ms), or null when it is not held. */
  heldUntil(bucket: TickerBucket): number | null {
    const until = this.bucket(bucket).blockedUntil;
    return until > this.scheduler.now() ? until : null;
  }

  /** How long from now until the (position+1)-th request of this bucket, behind everyone queued, may be sent. */
  estimateWaitMs(bucket: TickerBucket, position = 0): number {
    const state = this.bucket(bucket);
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

  view(): BucketView[] {
    const now = this.scheduler.now();
    return [...this.buckets.entries()].map(([bucket, s]) => ({
      bucket,
      limit: s.limit.limit,
      windowMs: s.limit.windowMs,
      usedInWindow: s.grants.filter((g) => g > now - s.limit.windowMs - s.skewMs).length,
      queued: s.queue.length,
      blockedUntil: s.blockedUntil > now ? s.blockedUntil : null,
    }));
  }

  limitOf(bucket: TickerBucket): BucketLimit {
    return this.bucket(bucket).limit;
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

  private bucket(bucket: TickerBucket): BucketState {
    const state = this.buckets.get(bucket);
    if (!state) throw new Error(`unknown ticker bucket ${bucket}`);
    return state;
  }

  /** Earliest instant >= t at which fewer than `limit` grants lie in the window before it. */
  private nextSlot(grants: number[], limit: number, window: number, t: number): number {
    const inWindow = grants.filter((g) => g > t - window).sort((a, b) => a - b);
    if (inWindow.length < limit) return t;
    return inWindow[inWindow.length - limit] + window;
  }

  private async pump(bucket: TickerBucket): Promise<void> {
    const state = this.bucket(bucket);
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
        waiter.resolve();
      }
    } finally {
      state.pumping = false;
    }
  }
}
