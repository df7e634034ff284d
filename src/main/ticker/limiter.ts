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
//
// Several consoles on one PostgreSQL share these budgets through a SharedBudget (./shared-budget.ts): each grant is
// then taken in the shared store (one statement), a 429 holds the bucket for every console, a refund gives the grant
// back to all. The queue, FIFO order, abort signals and the wait estimate stay here. If the shared store fails, the
// limiter falls back to its local log (logged once, shown by sharing()) and tries the store again a little later: a
// console keeps working alone rather than stopping, at the risk of spending the budget twice while it is cut off.
import type { Logger } from '../log';
import type { SharedBudget } from './shared-budget';
import type { Scheduler } from '../../shared/clock';

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

/**
 * Wire-time allowance when the budgets are shared. Grants of different consoles reach the service by different
 * paths (processes, event loops, connection pools), so the spread between a grant and its arrival is wider than
 * within one process: bench:multi saw a POST reach the devticker 150 ms after its grant while its console was busy,
 * which made a 31st POST in the service's minute, and history grants 1100 ms apart arrive 1000 ms apart.
 * The one-minute budgets keep 1 s: a 429 there now holds every console for a minute, and 1 s costs 1.6% of the
 * rate. History keeps 100 ms (3 per 1.1 s, 4.5% slower than alone); a "Too many requests" holds every console 1 s.
 */
export const SHARED_SKEW_MS: Readonly<Record<TickerBucket, number>> = Object.freeze({ create: 1_000, delete: 1_000, list: 1_000, health: 1_000, history: 100 });

/** Every this many new keyed buckets, the idle ones are forgotten (a long session deletes thousands of distinct tokens). */
const IDLE_SWEEP_EVERY = 256;

/**
 * Longest sleep after the shared store said "not yet": another console's refund (a 422) frees a grant the store
 * cannot announce to us, so a waiter asks again at least this often. A 429 hold is slept out in full.
 */
const SHARED_RECHECK_MS = 1_000;
/** A shared-store call slower than this counts as a failure (a blackholed server must not stall every request). */
const SHARED_TIMEOUT_MS = 2_000;
/** After a failure, the shared store is tried again this long later; until then the local log decides. */
const SHARED_RETRY_MS = 15_000;

export interface SharedLimiterOptions {
  store: SharedBudget;
  logger?: Logger;
  timeoutMs?: number;
  retryMs?: number;
}

/** How the budgets are held now: alone (memory), shared, or alone because the shared store failed. */
export interface BudgetSharing {
  mode: 'memory' | 'shared' | 'fallback';
  /** The shared store's backend ('postgres'), absent in memory mode. */
  backend?: string;
  /** fallback: the failure, and when the store will be tried again (epoch ms). */
  error?: string;
  retryAt?: number;
  /** Shared-store failures so far (each one a grant decided locally). */
  failures: number;
  /** Grants whose answer came back later than the wire allowance, moved to the time they were used. */
  restamped?: number;
}

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
  /** Shared mode: local grant time -> the shared store's grant ids made at that time (for refund). */
  sharedIds: Map<number, number[]>;
  /** Shared mode: every console's grants in the window as of the last answer (local times), and when that was. */
  remote: number[];
  remoteAt: number;
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
  private readonly shared: SharedLimiterOptions | null;
  /** While set, the shared store is not asked (it failed); the local log decides until this time. */
  private sharedDownUntil = 0;
  private sharedError: string | null = null;
  private sharedFailures = 0;
  private restamped = 0;

  constructor(
    private readonly scheduler: Scheduler,
    limits: Partial<Record<TickerBucket, BucketLimit>> = {},
    /**
     * Added to each window: the request's time on the wire must not make the service see N+1 in its window.
     * One number for every bucket, or per bucket (default SKEW_MS).
     */
    skewMs: number | Readonly<Record<TickerBucket, number>> = SKEW_MS,
    /** Share the budgets with other consoles through this store (PostgreSQL); absent: this process alone. */
    shared?: SharedLimiterOptions,
  ) {
    this.shared = shared ?? null;
    // The default allowance widens when shared; an explicit one (tests, a caller who measured) is kept.
    if (this.shared && skewMs === SKEW_MS) skewMs = SHARED_SKEW_MS;
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
    const ids = state.sharedIds.get(grantedAt);
    const id = ids?.shift();
    if (ids && ids.length === 0) state.sharedIds.delete(grantedAt);
    if (id !== undefined && this.shared) {
      const r = state.remote.indexOf(grantedAt);
      if (r >= 0) state.remote.splice(r, 1);
      void this.sharedCall((store) => store.refund(sharedKey(bucket, key), id)).then(() => state.wake?.abort());
      return;
    }
    state.wake?.abort();
  }

  /** A 429 (or Kite's "Too many requests") was seen: hold the whole bucket until `untilMs`. */
  penalize(bucket: TickerBucket, untilMs: number, key?: string): void {
    const state = this.state(bucket, key);
    state.blockedUntil = Math.max(state.blockedUntil, untilMs);
    // Every console holds: the service's window is per client, and Kite's per account, not per process.
    if (this.sharedUsable()) void this.sharedCall((store) => store.penalize(sharedKey(bucket, key), untilMs - this.scheduler.now()));
  }

  /**
   * heldUntil() including a hold another console set (asks the shared store; the local answer when it cannot).
   * For callers that must not wait out a hold (waitOutRateLimit: false).
   */
  async heldUntilShared(bucket: TickerBucket, key?: string): Promise<number | null> {
    if (this.sharedUsable()) {
      const held = await this.sharedCall((store) => store.heldMs(sharedKey(bucket, key)));
      if (held !== undefined && held > 0) {
        const state = this.state(bucket, key);
        state.blockedUntil = Math.max(state.blockedUntil, this.scheduler.now() + held);
      }
    }
    return this.heldUntil(bucket, key);
  }

  /** Whether the budgets are this process's alone, shared, or alone for now because the shared store failed. */
  sharing(): BudgetSharing {
    if (!this.shared) return { mode: 'memory', failures: 0 };
    const backend = this.shared.store.backend;
    const restamped = this.restamped ? { restamped: this.restamped } : {};
    if (this.sharedError !== null)
      return { mode: 'fallback', backend, error: this.sharedError, retryAt: this.sharedDownUntil, failures: this.sharedFailures, ...restamped };
    return { mode: 'shared', backend, failures: this.sharedFailures, ...restamped };
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
    const grants = this.known(state).filter((g) => g > now - window);
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
      usedInWindow: this.known(s).filter((g) => g > now - s.limit.windowMs - s.skewMs).length,
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
    return {
      bucket,
      key,
      limit,
      skewMs: this.skews[bucket],
      grants: [],
      blockedUntil: 0,
      queue: [],
      pumping: false,
      wake: null,
      sharedIds: new Map(),
      remote: [],
      remoteAt: 0,
    };
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
    if (this.sharedUsable()) void this.sharedCall((store) => store.sweep(10 * 60_000));
  }

  /**
   * The grants this limiter knows of in the window: in shared mode every console's as of the last answer, plus this
   * process's own since then; alone, its own log.
   */
  private known(state: BucketState): number[] {
    if (!this.shared || state.remoteAt === 0) return state.grants;
    return [...state.remote, ...state.grants.filter((g) => g > state.remoteAt)];
  }

  private sharedUsable(): boolean {
    return this.shared !== null && this.scheduler.now() >= this.sharedDownUntil;
  }

  /** Runs one shared-store call with a timeout; on failure switches to the local log for a while. undefined = failed. */
  private async sharedCall<T>(fn: (store: SharedBudget) => Promise<T>): Promise<T | undefined> {
    const shared = this.shared as SharedLimiterOptions;
    const timeoutMs = shared.timeoutMs ?? SHARED_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const value = await Promise.race([
        fn(shared.store),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          timer.unref?.();
        }),
      ]);
      if (this.sharedError !== null) {
        shared.logger?.info({ backend: shared.store.backend }, 'shared rate budget reachable again: budgets shared with the other consoles');
        this.sharedError = null;
      }
      return value;
    } catch (err) {
      this.sharedFailures++;
      const message = (err as Error).message ?? String(err);
      if (this.sharedError === null) {
        shared.logger?.warn(
          { backend: shared.store.backend, err: message },
          'shared rate budget failed: this console keeps its own budgets until the store answers again',
        );
      }
      this.sharedError = message;
      this.sharedDownUntil = this.scheduler.now() + (shared.retryMs ?? SHARED_RETRY_MS);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One attempt at the shared store for the waiter at the head of the queue. false = the store failed. */
  private async pumpShared(state: BucketState): Promise<boolean> {
    if (state.queue.length === 0) return true;
    const window = state.limit.windowMs + state.skewMs;
    const asked = this.scheduler.now();
    const answer = await this.sharedCall((store) => store.tryGrant(sharedKey(state.bucket, state.key), state.limit.limit, window));
    if (answer === undefined) return false;
    let now = this.scheduler.now();
    // A grant whose answer took longer than the wire allowance (a busy event loop, a slow pool) is stamped too early
    // in the log: the request leaves later than the store thinks, and could land in the service's window together
    // with grants made meanwhile. Move it to now first.
    if (answer.granted && answer.grantId !== null && now - asked > state.skewMs && state.queue.length > 0) {
      const stale = answer.grantId;
      const moved = await this.sharedCall((store) => store.restamp(sharedKey(state.bucket, state.key), stale));
      if (moved !== undefined) {
        answer.grantId = moved;
        this.restamped++;
      }
      now = this.scheduler.now();
    }
    state.remote = answer.ages.map((a) => now - a);
    state.remoteAt = now;
    if (answer.heldMs > 0) state.blockedUntil = Math.max(state.blockedUntil, now + answer.heldMs);
    if (!answer.granted || answer.grantId === null) {
      const wait = answer.heldMs > 0 ? answer.heldMs : Math.min(Math.max(answer.waitMs, 1), SHARED_RECHECK_MS);
      await this.sleepWakeable(state, wait);
      return true;
    }
    const waiter = state.queue.shift();
    if (!waiter) {
      // Everyone waiting left while the store granted: give it back rather than waste it.
      const id = answer.grantId;
      void this.sharedCall((store) => store.refund(sharedKey(state.bucket, state.key), id));
      state.remote.pop();
      return true;
    }
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    state.grants.push(now);
    const ids = state.sharedIds.get(now);
    if (ids) ids.push(answer.grantId);
    else state.sharedIds.set(now, [answer.grantId]);
    waiter.resolve(now);
    return true;
  }

  private async sleepWakeable(state: BucketState, ms: number): Promise<void> {
    state.wake = new AbortController();
    try {
      await this.scheduler.sleep(ms, state.wake.signal);
    } catch {
      // woken early: recompute
    }
    state.wake = null;
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
        for (const t of state.sharedIds.keys()) if (t <= now - window) state.sharedIds.delete(t);
        if (state.blockedUntil > now) {
          await this.sleepWakeable(state, state.blockedUntil - now);
          continue;
        }
        // Shared: the store decides (true); it failed (false): loop once more, now on the local log.
        if (this.sharedUsable()) {
          await this.pumpShared(state);
          continue;
        }
        const at = Math.max(state.blockedUntil, this.nextSlot(state.grants, state.limit.limit, window, now));
        if (at > now) {
          await this.sleepWakeable(state, at - now);
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

/** The budget's name in the shared store (the store prefixes its scope). */
const sharedKey = stateKey;
