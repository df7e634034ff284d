// ensureSubscribed and its result: a request for tokens subscribes only what is missing (against one shared listing
// of the active subscriptions), records who asked, queues the rest nearest-ATM first, waits for data up to the
// wait-timeout flag, and reports where every token stands. Without any listing, not even a stale one, nothing can be
// decided safely (a POST for an active token costs a needless full reload): every token is reported failed with the
// time the list may be asked again.
import type { FlagValues } from '../../shared/flags';
import type { Logger } from '../log';
import type { DataSignals } from '../market/data-signals';
import type { Telemetry } from '../metrics/telemetry';
import { TickerError } from '../ticker/types';
import type { Scheduler } from '../../shared/clock';
import { DEFAULT_BACKOFF } from './backoff';
import { checkCapacity } from './capacity';
import { DATA_LATENCY_ESTIMATE_MS, type DataWaits } from './data-waits';
import type { MutationQueue } from './mutation-queue';
import type { ActiveSnapshot, SnapshotCache } from './snapshot';
import type { SubscriptionStateStore, TokenState } from './store';

/** A request waits at least this long for the subscription list (its own wait budget when longer). */
export const SNAPSHOT_WAIT_MIN_MS = 10_000;

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

export interface SubscribeRequestsDeps {
  flags: { get<K extends keyof FlagValues>(key: K): FlagValues[K] };
  scheduler: Scheduler;
  /** Aborted when the manager stops. */
  stop: AbortSignal;
  signals: DataSignals;
  store: SubscriptionStateStore;
  snapshots: SnapshotCache;
  queue: MutationQueue;
  waits: DataWaits;
  accountId?: string;
  telemetry: Telemetry;
  logger?: Logger;
  changed(symbol: string | null | undefined): void;
}

export class SubscribeRequests {
  /** Why the last request had no fresh subscription list, or null when it had one. */
  lastSnapshotError: string | null = null;

  constructor(private readonly deps: SubscribeRequestsDeps) {}

  async ensure(tokens: readonly number[], opts: EnsureOptions = {}): Promise<EnsureResult> {
    const { flags, snapshots, queue, store } = this.deps;
    const callStart = this.now();
    const unique = [...new Set(tokens)];
    const ownerOf = typeof opts.owner === 'function' ? opts.owner : () => (opts.owner as string | undefined) ?? 'manual';
    const auto = opts.auto ?? unique.some((t) => ownerOf(t).startsWith('auto:'));

    if (auto && !flags.get('smart_subscription_enabled')) {
      const snap = snapshots.peek();
      return this.result(unique, new Set(unique.filter((t) => snap?.tokens.has(t))), callStart, { disabled: true });
    }

    const waitMs = opts.waitMs ?? flags.get('smart_subscription_wait_timeout') * 1000;
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
      snapshot = snapshots.peek();
      if (!snapshot) return this.listUnavailable(unique, ownerOf, opts, err as Error, callStart);
    }

    const now = this.now();
    const already = new Set<number>();
    const toSubscribe: number[] = [];
    for (const token of unique) {
      if (snapshot.tokens.has(token)) already.add(token);
      else if (queue.get(token)?.op === 'subscribe' || queue.inFlight?.token === token) continue;
      else {
        const st = store.get(token);
        if (st?.nextRetryAt && st.nextRetryAt > now) continue; // backing off: reported as failed with its retry time
        toSubscribe.push(token);
      }
    }
    checkCapacity(snapshot, { accountId: this.deps.accountId, queued: queue.subscribeCount(), adding: toSubscribe.length });

    this.noteRequest(unique, ownerOf, opts, now);
    for (const token of toSubscribe) queue.enqueue(token, 'subscribe', opts.rank?.(token) ?? 0, 'request');
    if (toSubscribe.length) this.deps.changed(opts.symbol);
    queue.kick();

    const waitFor = (opts.waitFor ?? unique).filter((t) => !already.has(t));
    if (waitMs > 0 && waitFor.length) await this.deps.waits.until(waitFor, now + waitMs, opts.signal);
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
    const { store, signals } = this.deps;
    store.batch(() => {
      for (const token of tokens) {
        store.touchOwner(token, ownerOf(token), now);
        const st = store.get(token);
        const change: Partial<TokenState> = {};
        if (opts.symbol && st?.symbol !== opts.symbol) change.symbol = opts.symbol;
        if (signals.firstDataAt(token) === undefined && !st?.firstRequestedAt) change.firstRequestedAt = now;
        if (opts.rank) change.queuedRank = opts.rank(token);
        Object.assign(change, extra(token, st));
        if (Object.keys(change).length || !st) store.update(token, change, now);
      }
    });
  }

  /** The snapshot, or 'late' when the listing has not answered within ms (it goes on, shared, in the background). */
  private async snapshotWithin(ms: number): Promise<ActiveSnapshot | 'late'> {
    const timer = new AbortController();
    try {
      const late = this.deps.scheduler.sleep(ms, AbortSignal.any([timer.signal, this.deps.stop])).then(
        () => 'late' as const,
        () => 'late' as const,
      );
      return await Promise.race([this.deps.snapshots.get(), late]);
    } finally {
      timer.abort();
    }
  }

  /**
   * No subscription list, not even a stale one: nothing can be subscribed safely. Each token is a failed attempt
   * (counted once per retry period, so a storm of requests is not a storm of failures) with the time the list is
   * tried again; the maintenance loop retries the still-wanted ones then, as for any failed subscribe.
   */
  private async listUnavailable(
    unique: number[],
    ownerOf: (token: number) => string,
    opts: EnsureOptions,
    err: Error,
    callStart: number,
  ): Promise<EnsureResult> {
    const now = this.now();
    const kind = err instanceof TickerError ? err.kind : 'internal';
    const retryAt = (err instanceof TickerError ? err.retryAt : null) ?? now + DEFAULT_BACKOFF.baseMs;
    const reason = `subscription list unavailable: ${err.message}`;
    const counted: number[] = [];
    this.noteRequest(unique, ownerOf, opts, now, (token, st) => {
      if ((st?.nextRetryAt && st.nextRetryAt > now) || this.deps.queue.subscribing(token)) return {};
      counted.push(token);
      return { attempts: (st?.attempts ?? 0) + 1, failureKind: kind, failureReason: reason, nextRetryAt: retryAt };
    });
    for (const token of counted) this.deps.telemetry.autoSubscribeAttempt('failed', kind, token);
    if (counted.length) {
      this.deps.logger?.warn(
        { tokens: counted.length, kind, retryAt: new Date(retryAt).toISOString(), err: err.message },
        'subscription list unavailable; subscribe attempts fail until it answers',
      );
      this.deps.changed(opts.symbol);
    }
    // Every token not queued now carries its failure and retry time: the ordinary result reports them as failed.
    return this.result(unique, new Set(), callStart);
  }

  /** Where each token stands now, whether data was seen, and when asking again is worthwhile. */
  private async result(unique: number[], already: Set<number>, callStart: number, extra: { disabled?: boolean } = {}): Promise<EnsureResult> {
    const { snapshots, store, queue } = this.deps;
    const now = this.now();
    const snap = snapshots.peek();
    const out: EnsureResult = {
      already: [],
      newly: [],
      failed: [],
      pending: [],
      dataAvailable: false,
      withData: [],
      disabled: extra.disabled ?? false,
      retryAfterMs: null,
    };
    let firstPendingPosition: number | null = null;
    for (const token of unique) {
      const st = store.get(token);
      if (already.has(token)) out.already.push(token);
      else if (snap?.tokens.has(token)) (st?.subscribedAt && st.subscribedAt >= callStart ? out.newly : out.already).push(token);
      else if (queue.subscribing(token)) {
        out.pending.push(token);
        const position = queue.position(token);
        if (firstPendingPosition === null || position < firstPendingPosition) firstPendingPosition = position;
      } else if (!extra.disabled) {
        out.failed.push({ token, reason: st?.failureReason ?? 'not subscribed', retryAt: st?.nextRetryAt ?? null });
      }
    }
    const seen = await this.deps.waits.withData(unique);
    out.withData = unique.filter((t) => seen.has(t));
    out.dataAvailable = out.withData.length > 0;
    if (firstPendingPosition !== null) out.retryAfterMs = queue.etaMs(firstPendingPosition) + DATA_LATENCY_ESTIMATE_MS;
    else if (out.failed.some((f) => f.retryAt !== null))
      out.retryAfterMs = Math.max(0, Math.min(...out.failed.filter((f) => f.retryAt !== null).map((f) => f.retryAt as number)) - now);
    else if ([...out.already, ...out.newly].some((t) => !seen.has(t))) out.retryAfterMs = 2_000;
    return out;
  }

  private now(): number {
    return this.deps.scheduler.now();
  }
}
