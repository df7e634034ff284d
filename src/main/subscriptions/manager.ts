// The SubscriptionManager: the plan's "smart on-demand subscription", built for real.
// - One paginated snapshot of active subscriptions per cache TTL, shared by concurrent callers (snapshot.ts).
// - Subscribes only what is missing, through ONE queue: nearest-ATM first, in bursts that the shared limiter keeps
//   within 30 mutations a minute. A burst is right at this service: every POST triggers a full stream reload, and
//   the service coalesces reloads (1 s debounce, one per 5 s), so 30 POSTs in a second cost one data gap, while
//   the same 30 spread over a minute would cost twelve.
// - Per-token failure state with exponential backoff and a next-retry time (backoff.ts); never a permanent block.
//   A 429 is not the token's fault: it keeps its place and the limiter holds the budget until the window resets.
// - Capacity per account (3000 instruments x 3 connections) checked before anything is queued (CAPACITY error) and
//   again before each POST (the service's strike rebalancer adds rows too): above 9000 the service streams nothing
//   for the account. A row without an account (null or "", how the service stores Strikedesk's own POSTs) counts
//   against the service's default account, 'primary'.
// - Accepted but not streaming (streaming-watch.ts): while the service holds active subscriptions and streams
//   nothing, no POST is sent (each one is another full reload of a dead stream); queued work waits and resumes by
//   itself when ticks return.
// - Ownership per requester ('auto:NIFTY 2025-11-25', 'manual', 'external'); after an idle TTL an auto owner
//   lapses, and a subscription that Strikedesk made and nobody uses any more is released (DELETE), never one
//   somebody else made. Releases use spare budget only, after every waiting subscribe.
// - Waits for data by evidence: a token's wait ends when a writer stores its first bar or tick (DataSignals), up to
//   the wait-timeout flag, and earlier when nothing more can arrive in time.
import type { PushTopic } from '../../shared/api';
import { DomainError } from '../../shared/result';
import type { FlagValues } from '../../shared/flags';
import type { Logger } from '../log';
import type { DataSignals } from '../market/data-signals';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import type { StateStore } from '../state/store';
import { TickerError, type TickerClient } from '../ticker/types';
import type { Scheduler } from '../ticker/time';
import { autoRetryable, backoffMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { SnapshotCache, type ActiveSnapshot } from './snapshot';
import { SubscriptionStateStore, type TokenState } from './store';
import type { StreamingView, StreamingWatch } from './streaming-watch';

export const INSTRUMENTS_PER_CONNECTION = 3000;
export const CONNECTIONS_PER_ACCOUNT = 3;
/** From a 201 to the first stored data at this service: reload debounce + stream gap + first tick + first write. */
export const DATA_LATENCY_ESTIMATE_MS = 5_000;
/** A request waits at least this long for the subscription list (its own wait budget when longer). */
export const SNAPSHOT_WAIT_MIN_MS = 10_000;
/** The account a row without one (null or "") counts against: the service's default. */
export const DEFAULT_SERVICE_ACCOUNT = 'primary';
/** Kite's limit per account; above it the service's stream task for the account fails and nothing streams. */
export const ACCOUNT_CAPACITY = INSTRUMENTS_PER_CONNECTION * CONNECTIONS_PER_ACCOUNT;

/** The account a subscription row counts against. */
export const accountOf = (row: { account_id: string | null }, defaultAccount = DEFAULT_SERVICE_ACCOUNT): string => row.account_id || defaultAccount;

export interface EnsureOptions {
  /** Who asks: 'auto:NIFTY 2025-11-25', 'manual', ... (a function for per-token owners). Default 'manual'. */
  owner?: string | ((token: number) => string);
  /** Governed by smart_subscription_enabled. Default: the owner starts with 'auto:'. */
  auto?: boolean;
  /** Queue order: lower first (distance from ATM). Default 0. */
  rank?: (token: number) => number;
  /** Tokens whose first data ends the wait (default all). */
  waitFor?: readonly number[];
  /** Longest wait for data, ms (default the smart_subscription_wait_timeout flag; 0 = do not wait). */
  waitMs?: number;
  /** Underlying, for chain:changed pushes. */
  symbol?: string;
  signal?: AbortSignal;
}

export interface FailedToken {
  token: number;
  reason: string;
  retryAt: number | null;
}

export interface EnsureResult {
  /** Active at the ticker before this call. */
  already: number[];
  /** Subscribed by Strikedesk while serving this call. */
  newly: number[];
  failed: FailedToken[];
  /** Queued or being subscribed. */
  pending: number[];
  /** True only when data was SEEN (stored) for at least one of the tokens. */
  dataAvailable: boolean;
  withData: number[];
  /** smart_subscription_enabled is off and the call was an automatic one: nothing was subscribed. */
  disabled: boolean;
  /** When asking again is worthwhile, ms (null: nothing to wait for). */
  retryAfterMs: number | null;
}

export type TokenStatus = 'active' | 'pending' | 'backing_off' | 'failed' | 'inactive';

export interface SubscriptionManagerOptions {
  ticker: TickerClient;
  state: StateStore;
  flags: { get<K extends keyof FlagValues>(key: K): FlagValues[K] };
  signals: DataSignals;
  scheduler: Scheduler;
  /** Auto owners lapse after this long without a request (config subscriptionIdleMinutes). */
  idleMs: () => number;
  telemetry?: Telemetry;
  push?: { publish(topic: PushTopic, key?: string): void };
  logger?: Logger;
  /** Account new subscriptions go to (default: the service's default, counted as 'primary'). */
  accountId?: string;
  /** Evidence of stored data from the market store, for tokens DataSignals has not seen (a restart). */
  evidence?: (tokens: number[]) => Promise<Set<number>>;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Maintenance cadence (retries due, idle release, streaming verdict), ms. Default 2 s. */
  maintainEveryMs?: number;
  /** Judges "accepted but not streaming" from tick age; while it says stopped, no POST is sent. */
  streaming?: StreamingWatch;
}

interface QueueItem {
  token: number;
  op: 'subscribe' | 'unsubscribe';
  rank: number;
  seq: number;
  /** unsubscribe: 'idle' releases are skipped if someone asks again meanwhile; 'manual' ones are not. */
  why: 'request' | 'retry' | 'idle' | 'manual';
  done: ((error: string | null) => void)[];
}

export class SubscriptionManager {
  readonly store: SubscriptionStateStore;
  private readonly snapshots: SnapshotCache;
  private readonly queue = new Map<number, QueueItem>();
  private inFlight: QueueItem | null = null;
  private seq = 0;
  private working = false;
  private stopped = false;
  private readonly stopController = new AbortController();
  private readonly startedAt: number;
  private readonly listeners = new Set<() => void>();
  private offFirst: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private lastSnapshotError: string | null = null;
  /** Subscribes held because the service streams nothing (the streaming watch's verdict). */
  private postsHeld = false;

  constructor(private readonly opts: SubscriptionManagerOptions) {
    this.store = new SubscriptionStateStore(opts.state);
    this.startedAt = opts.scheduler.now();
    this.snapshots = new SnapshotCache(
      // Requests never wait out a 429 hold on the list: they hear it at once, with the time it ends.
      () => opts.ticker.listAllSubscriptions('active', { waitOutRateLimit: false }),
      () => opts.flags.get('smart_subscription_cache_ttl') * 1000,
      opts.scheduler,
      (snapshot) => this.onSnapshot(snapshot),
    );
  }

  // ---------- lifecycle ----------

  start(): void {
    this.offFirst = this.opts.signals.onFirst((token, at) => this.onFirstData(token, at));
    this.loopDone = this.maintainLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    this.offFirst?.();
    for (const item of this.queue.values()) for (const done of item.done) done('stopped');
    await this.loopDone;
  }

  // ---------- the snapshot ----------

  /** Active subscriptions, cached per the cache-TTL flag, single flight. Rejects with TickerError when unavailable. */
  activeSnapshot(): Promise<ActiveSnapshot> {
    return this.snapshots.get();
  }

  peekSnapshot(): ActiveSnapshot | null {
    return this.snapshots.peek();
  }

  invalidateSnapshot(): void {
    this.snapshots.invalidate();
  }

  get snapshotFetches(): number {
    return this.snapshots.fetches;
  }

  // ---------- ensureSubscribed ----------

  async ensureSubscribed(tokens: readonly number[], opts: EnsureOptions = {}): Promise<EnsureResult> {
    const callStart = this.now();
    const unique = [...new Set(tokens)];
    const ownerOf = typeof opts.owner === 'function' ? opts.owner : () => (opts.owner as string | undefined) ?? 'manual';
    const auto = opts.auto ?? unique.some((t) => ownerOf(t).startsWith('auto:'));

    if (auto && !this.opts.flags.get('smart_subscription_enabled')) {
      const snap = this.snapshots.peek();
      return this.result(unique, new Set(unique.filter((t) => snap?.tokens.has(t))), callStart, { disabled: true });
    }

    const waitMs = opts.waitMs ?? this.opts.flags.get('smart_subscription_wait_timeout') * 1000;
    let snapshot: ActiveSnapshot | null;
    try {
      const listWaitMs = Math.max(waitMs, SNAPSHOT_WAIT_MIN_MS);
      const got = await this.snapshotWithin(listWaitMs);
      if (got === 'late') throw new TickerError('timeout', `no subscription list within ${Math.round(listWaitMs / 1000)} s`, null, 'subscriptions.list');
      snapshot = got;
      this.lastSnapshotError = null;
    } catch (err) {
      // A stale snapshot is better than none; with none, nothing can be decided safely (a POST for an active token
      // would cost a needless reload): say so per token, and retry when the list may be asked again.
      this.lastSnapshotError = (err as Error).message;
      snapshot = this.snapshots.peek();
      if (!snapshot) return this.listUnavailable(unique, ownerOf, opts, err as Error, callStart);
    }

    const now = this.now();
    const already = new Set<number>();
    const toSubscribe: number[] = [];
    for (const token of unique) {
      if (snapshot.tokens.has(token)) already.add(token);
      else if (this.queue.get(token)?.op === 'subscribe' || this.inFlight?.token === token) continue;
      else {
        const st = this.store.get(token);
        if (st?.nextRetryAt && st.nextRetryAt > now) continue; // backing off: reported as failed with its retry time
        toSubscribe.push(token);
      }
    }
    this.checkCapacity(snapshot, toSubscribe.length);

    this.noteRequest(unique, ownerOf, opts, now);
    for (const token of toSubscribe) this.enqueue(token, 'subscribe', opts.rank?.(token) ?? 0, 'request');
    if (toSubscribe.length) this.changed(opts.symbol);
    this.kick();

    const waitFor = (opts.waitFor ?? unique).filter((t) => !already.has(t));
    if (waitMs > 0 && waitFor.length) await this.waitForData(waitFor, now + waitMs, opts.signal);
    return this.result(unique, already, callStart);
  }

  /** Records who asked (owners, symbol, first request time, queue rank), plus any extra change per token, in one batch. */
  private noteRequest(
    tokens: number[],
    ownerOf: (token: number) => string,
    opts: EnsureOptions,
    now: number,
    extra: (token: number, st: TokenState | undefined) => Partial<TokenState> = () => ({}),
  ): void {
    this.store.batch(() => {
      for (const token of tokens) {
        this.store.touchOwner(token, ownerOf(token), now);
        const st = this.store.get(token);
        const change: Partial<TokenState> = {};
        if (opts.symbol && st?.symbol !== opts.symbol) change.symbol = opts.symbol;
        if (this.opts.signals.firstDataAt(token) === undefined && !st?.firstRequestedAt) change.firstRequestedAt = now;
        if (opts.rank) change.queuedRank = opts.rank(token);
        Object.assign(change, extra(token, st));
        if (Object.keys(change).length || !st) this.store.update(token, change, now);
      }
    });
  }

  /** The snapshot, or 'late' when the listing has not answered within ms (it goes on, shared, in the background). */
  private async snapshotWithin(ms: number): Promise<ActiveSnapshot | 'late'> {
    const timer = new AbortController();
    try {
      const late = this.opts.scheduler.sleep(ms, AbortSignal.any([timer.signal, this.stopController.signal])).then(
        () => 'late' as const,
        () => 'late' as const,
      );
      return await Promise.race([this.snapshots.get(), late]);
    } finally {
      timer.abort();
    }
  }

  /**
   * No subscription list, not even a stale one: nothing can be subscribed safely. Each token is a failed attempt
   * (counted once per retry period, so a storm of requests is not a storm of failures) with the time the list is
   * tried again; the maintenance loop retries the still-wanted ones then, as for any failed subscribe.
   */
  private async listUnavailable(unique: number[], ownerOf: (token: number) => string, opts: EnsureOptions, err: Error, callStart: number): Promise<EnsureResult> {
    const now = this.now();
    const kind = err instanceof TickerError ? err.kind : 'internal';
    const retryAt = (err instanceof TickerError ? err.retryAt : null) ?? now + DEFAULT_BACKOFF.baseMs;
    const reason = `subscription list unavailable: ${err.message}`;
    const counted: number[] = [];
    this.noteRequest(unique, ownerOf, opts, now, (token, st) => {
      if ((st?.nextRetryAt && st.nextRetryAt > now) || this.isQueued(token)) return {};
      counted.push(token);
      return { attempts: (st?.attempts ?? 0) + 1, failureKind: kind, failureReason: reason, nextRetryAt: retryAt };
    });
    for (const token of counted) this.telemetry.autoSubscribeAttempt('failed', kind, token);
    if (counted.length) {
      this.opts.logger?.warn({ tokens: counted.length, kind, retryAt: new Date(retryAt).toISOString(), err: err.message }, 'subscription list unavailable; subscribe attempts fail until it answers');
      this.changed(opts.symbol);
    }
    // Every token not queued now carries its failure and retry time: the ordinary result reports them as failed.
    return this.result(unique, new Set(), callStart);
  }

  /** Active rows at the service counted against our account (null/"" rows count against the default account). */
  private accountUsed(snapshot: ActiveSnapshot | null): number {
    const account = this.opts.accountId || DEFAULT_SERVICE_ACCOUNT;
    let used = 0;
    for (const row of snapshot?.rows.values() ?? []) if (accountOf(row) === account) used++;
    return used;
  }

  private checkCapacity(snapshot: ActiveSnapshot, adding: number): void {
    if (adding === 0) return;
    const account = this.opts.accountId || DEFAULT_SERVICE_ACCOUNT;
    const used = this.accountUsed(snapshot);
    const queued = [...this.queue.values()].filter((q) => q.op === 'subscribe').length + (this.inFlight?.op === 'subscribe' ? 1 : 0);
    const limit = ACCOUNT_CAPACITY;
    if (used + queued + adding > limit) {
      throw new DomainError(
        'CAPACITY',
        `account ${account} cannot take ${adding} more instruments: ${used} active + ${queued} queued of ${limit} (${CONNECTIONS_PER_ACCOUNT} connections x ${INSTRUMENTS_PER_CONNECTION})`,
        undefined,
        { account, used, queued, requested: adding, limit, perConnection: INSTRUMENTS_PER_CONNECTION, connections: CONNECTIONS_PER_ACCOUNT },
      );
    }
  }

  private async result(unique: number[], already: Set<number>, callStart: number, extra: { disabled?: boolean } = {}): Promise<EnsureResult> {
    const now = this.now();
    const snap = this.snapshots.peek();
    const out: EnsureResult = { already: [], newly: [], failed: [], pending: [], dataAvailable: false, withData: [], disabled: extra.disabled ?? false, retryAfterMs: null };
    let firstPendingPosition: number | null = null;
    for (const token of unique) {
      const st = this.store.get(token);
      if (already.has(token)) out.already.push(token);
      else if (snap?.tokens.has(token)) (st?.subscribedAt && st.subscribedAt >= callStart ? out.newly : out.already).push(token);
      else if (this.isQueued(token)) {
        out.pending.push(token);
        const position = this.queuePosition(token);
        if (firstPendingPosition === null || position < firstPendingPosition) firstPendingPosition = position;
      } else if (!extra.disabled) {
        out.failed.push({ token, reason: st?.failureReason ?? 'not subscribed', retryAt: st?.nextRetryAt ?? null });
      }
    }
    const seen = new Set(unique.filter((t) => this.opts.signals.firstDataAt(t) !== undefined));
    const unseen = unique.filter((t) => !seen.has(t));
    if (unseen.length && this.opts.evidence) {
      try {
        for (const t of await this.opts.evidence(unseen)) seen.add(t);
      } catch (err) {
        this.opts.logger?.warn({ err: (err as Error).message }, 'data evidence query failed');
      }
    }
    out.withData = unique.filter((t) => seen.has(t));
    out.dataAvailable = out.withData.length > 0;
    if (firstPendingPosition !== null) out.retryAfterMs = this.etaMs(firstPendingPosition) + DATA_LATENCY_ESTIMATE_MS;
    else if (out.failed.some((f) => f.retryAt !== null)) out.retryAfterMs = Math.max(0, Math.min(...out.failed.filter((f) => f.retryAt !== null).map((f) => f.retryAt as number)) - now);
    else if ([...out.already, ...out.newly].some((t) => !seen.has(t))) out.retryAfterMs = 2_000;
    return out;
  }

  /**
   * Resolves when every token has data, or can no longer get it before the deadline (failed and backing off, or too
   * far back in the queue), or at the deadline.
   */
  private waitForData(tokens: readonly number[], deadline: number, signal?: AbortSignal): Promise<void> {
    const remaining = new Set(tokens.filter((t) => this.opts.signals.firstDataAt(t) === undefined));
    if (remaining.size === 0 || deadline <= this.now()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = new AbortController();
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        offFirst();
        this.listeners.delete(check);
        signal?.removeEventListener('abort', finish);
        timer.abort();
        resolve();
      };
      const check = () => {
        for (const t of remaining) if (this.opts.signals.firstDataAt(t) !== undefined) remaining.delete(t);
        if (remaining.size === 0 || [...remaining].every((t) => this.cannotArriveBy(t, deadline))) finish();
      };
      const offFirst = this.opts.signals.onFirst((token) => {
        if (remaining.delete(token)) check();
      });
      this.listeners.add(check);
      signal?.addEventListener('abort', finish, { once: true });
      this.opts.scheduler.sleep(deadline - this.now(), AbortSignal.any([timer.signal, this.stopController.signal])).then(finish, finish);
      check();
    });
  }

  private cannotArriveBy(token: number, deadline: number): boolean {
    const now = this.now();
    if (this.postsHeld) return true; // nothing streams and nothing is sent until ticks return
    if (this.inFlight?.token === token) return false;
    if (this.snapshots.peek()?.tokens.has(token)) return false; // subscribed: data is on its way
    if (this.queue.has(token)) return now + this.etaMs(this.queuePosition(token)) + DATA_LATENCY_ESTIMATE_MS > deadline;
    return true; // failed or not wanted: nothing will come before a retry
  }

  // ---------- the queue ----------

  private isQueued(token: number): boolean {
    return this.queue.get(token)?.op === 'subscribe' || (this.inFlight?.token === token && this.inFlight.op === 'subscribe');
  }

  /** Position among waiting mutations, in the order the worker takes them. */
  private queuePosition(token: number): number {
    const order = this.ordered();
    const i = order.findIndex((q) => q.token === token);
    return (this.inFlight ? 1 : 0) + (i < 0 ? order.length : i);
  }

  private etaMs(position: number): number {
    return this.opts.ticker.mutationEtaMs?.(position) ?? 0;
  }

  private ordered(): QueueItem[] {
    return [...this.queue.values()].sort((a, b) => a.rank - b.rank || a.seq - b.seq);
  }

  private enqueue(token: number, op: QueueItem['op'], rank: number, why: QueueItem['why']): QueueItem {
    const existing = this.queue.get(token);
    if (existing && existing.op === op) {
      existing.rank = Math.min(existing.rank, rank);
      return existing;
    }
    if (existing) for (const done of existing.done) done(`superseded by ${op}`);
    const item: QueueItem = { token, op, rank, seq: this.seq++, why, done: [] };
    this.queue.set(token, item);
    return item;
  }

  private kick(): void {
    if (this.working || this.stopped) return;
    this.working = true;
    void this.work().finally(() => {
      this.working = false;
      if (this.queue.size && !this.stopped && this.ordered().some((q) => (q.op === 'subscribe' && !this.postsHeld) || q.why === 'manual')) this.kick();
    });
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      // Wait for budget BEFORE choosing, so a request that arrives meanwhile (an ATM strike) can still go first.
      const eta = this.etaMs(0);
      if (eta > 0) {
        try {
          await this.opts.scheduler.sleep(eta, this.stopController.signal);
        } catch {
          return;
        }
        continue;
      }
      // While the service streams nothing only an operator's unsubscribe goes out; subscribes and idle releases wait.
      this.checkStreaming();
      const item = this.ordered().find((q) => q.why === 'manual' || (!this.postsHeld && (q.op === 'subscribe' || this.spareBudget())));
      if (!item) return;
      this.queue.delete(item.token);
      this.inFlight = item;
      try {
        const error = item.op === 'subscribe' ? await this.subscribeOne(item) : await this.unsubscribeOne(item);
        if (error !== 'requeued') for (const done of item.done) done(error);
      } finally {
        this.inFlight = null;
        this.notify();
      }
    }
  }

  /** Releases use spare budget only: at least half of the mutation window must be free. */
  private spareBudget(): boolean {
    return this.etaMs(14) === 0;
  }

  private async subscribeOne(item: QueueItem): Promise<string | null | 'requeued'> {
    const { token } = item;
    const snapshot = this.snapshots.peek();
    if (snapshot?.tokens.has(token)) return null;
    if (!this.wanted(token)) return 'no longer wanted';
    const used = this.accountUsed(snapshot);
    if (used >= ACCOUNT_CAPACITY) {
      // Deferred, not sent: one more row would stop every stream of the account. Retried when rows are released.
      const now = this.now();
      const attempts = (this.store.get(token)?.attempts ?? 0) + 1;
      const reason = `account ${this.opts.accountId || DEFAULT_SERVICE_ACCOUNT} is at its ${ACCOUNT_CAPACITY}-instrument capacity (${used} active): above it the ticker service streams nothing for the account`;
      const st = this.store.update(token, { attempts, failureKind: 'capacity', failureReason: reason, nextRetryAt: now + backoffMs('capacity', attempts, this.opts.backoff ?? DEFAULT_BACKOFF, this.opts.random) }, now);
      this.telemetry.autoSubscribeAttempt('failed', 'capacity', token);
      this.changed(st.symbol);
      return reason;
    }
    try {
      const row = await this.opts.ticker.subscribe(token, { mode: 'FULL', accountId: this.opts.accountId, signal: this.stopController.signal });
      const now = this.now();
      const st = this.store.update(token, { createdByUs: true, subscribedAt: now, attempts: 0, failureKind: null, failureReason: null, nextRetryAt: null }, now);
      this.snapshots.added(row);
      this.telemetry.autoSubscribeAttempt('succeeded', 'subscribed', token);
      this.opts.logger?.debug({ instrument: token, tradingsymbol: row.tradingsymbol }, 'subscribed');
      this.changed(st.symbol);
      return null;
    } catch (err) {
      if (this.stopped) return 'stopped';
      const kind = err instanceof TickerError ? err.kind : 'internal';
      const message = (err as Error).message;
      const now = this.now();
      this.telemetry.autoSubscribeAttempt('failed', kind, token);
      if (kind === 'rate_limited') {
        // Not the token's fault: it keeps its place; the limiter holds the budget until the service's window resets.
        this.store.update(token, { failureKind: kind, failureReason: message, nextRetryAt: null }, now);
        this.queue.set(token, item);
        this.changed(this.store.get(token)?.symbol ?? null);
        return 'requeued';
      }
      const attempts = (this.store.get(token)?.attempts ?? 0) + 1;
      const retryAt = now + backoffMs(kind, attempts, this.opts.backoff ?? DEFAULT_BACKOFF, this.opts.random);
      const st = this.store.update(token, { attempts, failureKind: kind, failureReason: message, nextRetryAt: retryAt }, now);
      this.opts.logger?.warn({ instrument: token, kind, attempts, retryAt: new Date(retryAt).toISOString() }, 'subscribe failed; backing off');
      this.changed(st.symbol);
      return message;
    }
  }

  private async unsubscribeOne(item: QueueItem): Promise<string | null> {
    const { token } = item;
    if (item.why === 'idle' && this.wanted(token)) return 'wanted again';
    try {
      await this.opts.ticker.unsubscribe(token);
    } catch (err) {
      if (this.stopped) return 'stopped';
      this.opts.logger?.warn({ instrument: token, err: (err as Error).message }, 'unsubscribe failed');
      return (err as Error).message;
    }
    const symbol = this.store.get(token)?.symbol ?? null;
    this.snapshots.removed(token);
    this.opts.signals.forget(token);
    this.store.forget(token);
    this.opts.logger?.info({ instrument: token, why: item.why }, 'unsubscribed');
    this.changed(symbol);
    return null;
  }

  // ---------- ownership ----------

  /** Someone still asks for the token: a manual or external owner, or an auto owner within the idle TTL. */
  wanted(token: number, now = this.now()): boolean {
    for (const [owner, entry] of this.store.ownersOf(token)) if (this.ownerLive(owner, entry.lastAt, now)) return true;
    return false;
  }

  private ownerLive(owner: string, lastAt: number, now: number): boolean {
    if (!owner.startsWith('auto:')) return true;
    // Right after a start every auto owner gets one idle period of grace: clients reconnect and ask again, and a
    // release followed by a re-subscribe would cost two full reloads at the service.
    return Math.max(lastAt, this.startedAt) > now - this.opts.idleMs();
  }

  /** A token subscribed by someone else: never released by Strikedesk. */
  noteExternal(token: number): void {
    if (this.store.get(token)?.createdByUs) return;
    this.store.touchOwner(token, 'external', this.now());
  }

  /** The token was removed elsewhere (an event): forget its ownership and failure state, and its data evidence. */
  async release(token: number, reason: string): Promise<void> {
    const item = this.queue.get(token);
    if (item) {
      this.queue.delete(token);
      for (const done of item.done) done(`released: ${reason}`);
    }
    const symbol = this.store.get(token)?.symbol ?? null;
    this.snapshots.removed(token);
    this.opts.signals.forget(token);
    this.store.forget(token);
    this.opts.logger?.info({ instrument: token, reason }, 'subscription state released');
    this.changed(symbol);
  }

  /** Operator's unsubscribe: drops every owner and DELETEs at the ticker (first in the queue). */
  async unsubscribe(tokens: readonly number[]): Promise<{ removed: number[]; failed: { token: number; reason: string }[] }> {
    const outcomes = await Promise.all(
      [...new Set(tokens)].map(
        (token) =>
          new Promise<{ token: number; error: string | null }>((resolve) => {
            this.store.dropOwners(token);
            const item = this.enqueue(token, 'unsubscribe', -1, 'manual');
            item.why = 'manual';
            item.done.push((error) => resolve({ token, error }));
          }),
      ),
    );
    this.kick();
    return {
      removed: outcomes.filter((o) => o.error === null).map((o) => o.token),
      failed: outcomes.filter((o) => o.error !== null).map((o) => ({ token: o.token, reason: o.error as string })),
    };
  }

  /** Where an operator's unsubscribe stands while its DELETEs still wait for budget. */
  unsubscribeProgress(tokens: readonly number[]): { removed: number[]; failed: { token: number; reason: string }[] } {
    const snap = this.snapshots.peek();
    const removed: number[] = [];
    const failed: { token: number; reason: string }[] = [];
    for (const token of new Set(tokens)) {
      const queued = this.queue.get(token)?.op === 'unsubscribe' || (this.inFlight?.token === token && this.inFlight.op === 'unsubscribe');
      if (queued) failed.push({ token, reason: `queued behind the 30/min mutation limit: expected within ~${Math.ceil((this.etaMs(this.queuePosition(token)) + 1000) / 1000)} s` });
      else if (snap?.tokens.has(token)) failed.push({ token, reason: 'still active at the ticker (DELETE failed; see logs)' });
      else removed.push(token);
    }
    return { removed, failed };
  }

  // ---------- status ----------

  statusOf(token: number): TokenStatus {
    if (this.snapshots.peek()?.tokens.has(token)) return 'active';
    if (this.isQueued(token)) return 'pending';
    const st = this.store.get(token);
    if (st?.nextRetryAt) return st.nextRetryAt > this.now() && autoRetryable(st.failureKind) && this.wanted(token) ? 'backing_off' : 'failed';
    return 'inactive';
  }

  queuedCount(): number {
    return [...this.queue.values()].filter((q) => q.op === 'subscribe').length + (this.inFlight?.op === 'subscribe' ? 1 : 0);
  }

  snapshotError(): string | null {
    return this.lastSnapshotError;
  }

  /** The streaming watch's last verdict, or null without a watch. */
  streamingView(): StreamingView | null {
    return this.opts.streaming?.view() ?? null;
  }

  /** Why queued subscribes are not being sent, or null when they are. */
  holdReason(): string | null {
    return this.postsHeld ? (this.opts.streaming?.view().message ?? 'held') : null;
  }

  /** Re-judges streaming; holds or resumes the POSTs on a change of verdict. */
  checkStreaming(): void {
    const watch = this.opts.streaming;
    if (!watch) return;
    const snapshot = this.snapshots.peek();
    // Index rows are left out: the watch judges the options channel, and an index's own ticks come elsewhere.
    let streamable = 0;
    for (const row of snapshot?.rows.values() ?? []) if (row.segment !== 'INDICES') streamable++;
    const view = watch.evaluate(this.now(), snapshot ? streamable : null);
    const stopped = view.state === 'stopped';
    if (stopped === this.postsHeld) return;
    this.postsHeld = stopped;
    if (stopped) this.opts.logger?.warn({ accepted: view.accepted, silentForMs: view.silentForMs, queued: this.queuedCount() }, `streaming stopped: ${view.message}`);
    else this.opts.logger?.info({ queued: this.queuedCount() }, 'ticks are back: queued subscribes resume');
    this.changed(null);
    this.opts.push?.publish('health:changed');
    if (!stopped && this.queue.size) this.kick();
  }

  // ---------- maintenance: retries due, idle release ----------

  private async maintainLoop(): Promise<void> {
    const every = this.opts.maintainEveryMs ?? 2_000;
    while (!this.stopped) {
      try {
        await this.opts.scheduler.sleep(every, this.stopController.signal);
      } catch {
        return;
      }
      try {
        await this.maintain();
      } catch (err) {
        this.opts.logger?.warn({ err: (err as Error).message }, 'subscription maintenance failed');
      }
    }
  }

  /** One maintenance round (also called by tests). */
  async maintain(): Promise<void> {
    this.checkStreaming();
    const now = this.now();
    // Auto owners lapse after the idle TTL.
    const lapsed: [number, string][] = [];
    for (const [token, owners] of this.store.ownedTokens()) {
      for (const [owner, entry] of owners) if (!this.ownerLive(owner, entry.lastAt, now)) lapsed.push([token, owner]);
    }
    if (lapsed.length) this.store.batch(() => lapsed.forEach(([t, o]) => this.store.dropOwner(t, o)));

    const due = [...this.store.all()].filter((st) => !this.isQueued(st.token) && (st.nextRetryAt !== null || st.createdByUs || this.store.ownersOf(st.token).size === 0));
    if (due.length === 0) {
      if (this.queue.size) this.kick();
      return;
    }
    let snapshot: ActiveSnapshot;
    try {
      snapshot = await this.snapshots.get();
    } catch {
      return; // decide nothing without knowing what is active
    }
    let queued = false;
    for (const st of due) {
      const token = st.token;
      const active = snapshot.tokens.has(token);
      const wanted = this.wanted(token, now);
      if (!wanted) {
        if (st.createdByUs && active) {
          if (!this.queue.has(token) && this.inFlight?.token !== token) {
            this.enqueue(token, 'unsubscribe', Number.POSITIVE_INFINITY, 'idle');
            queued = true;
          }
        } else if (!active || !st.createdByUs) {
          this.store.forget(token);
        }
        continue;
      }
      if (!active && st.nextRetryAt !== null && st.nextRetryAt <= now && autoRetryable(st.failureKind)) {
        this.enqueue(token, 'subscribe', st.queuedRank ?? 0, 'retry');
        queued = true;
      }
    }
    if (queued) this.changed(null);
    if (this.queue.size) this.kick();
  }

  // ---------- events ----------

  private onSnapshot(snapshot: ActiveSnapshot): void {
    this.telemetry.gauge('active_subscriptions', snapshot.tokens.size);
    // Subscriptions nobody here made are somebody else's: mark them so they are never released by us.
    const now = this.now();
    this.store.batch(() => {
      for (const token of snapshot.tokens) {
        if (this.isQueued(token)) continue;
        const st = this.store.get(token);
        if (st?.createdByUs) continue;
        if (!this.store.ownersOf(token).has('external')) this.store.touchOwner(token, 'external', now);
      }
      for (const [token, owners] of [...this.store.ownedTokens()]) {
        if (owners.has('external') && !snapshot.tokens.has(token)) this.store.dropOwner(token, 'external');
      }
    });
  }

  private onFirstData(token: number, at: number): void {
    const st = this.store.get(token);
    if (st?.firstRequestedAt) {
      if (at >= st.firstRequestedAt) this.telemetry.timeToData((at - st.firstRequestedAt) / 1000, token);
      this.store.update(token, { firstRequestedAt: null }, this.now());
    }
  }

  private changed(symbol: string | null | undefined): void {
    this.notify();
    this.telemetry.gauge('pending_subscriptions', this.queuedCount());
    this.opts.push?.publish('subscriptions:changed');
    if (symbol) this.opts.push?.publish('chain:changed', symbol);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private get telemetry(): Telemetry {
    return this.opts.telemetry ?? noopTelemetry;
  }

  private now(): number {
    return this.opts.scheduler.now();
  }
}
