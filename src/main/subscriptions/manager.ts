// The SubscriptionManager: the plan's "smart on-demand subscription", built for real. This file is the facade the
// rest of the console uses; each concern lives in its own module, composed here:
// - snapshot.ts: one paginated listing of the active subscriptions per cache TTL, shared by concurrent callers.
// - ensure.ts: ensureSubscribed and its result: subscribe only what is missing, record who asked, report per token.
// - mutation-queue.ts: ONE queue of POSTs and DELETEs, nearest-ATM first, in bursts within 30 mutations a minute
//   (every POST triggers a full stream reload, which the service coalesces: a burst costs one data gap).
// - mutations.ts: sending a mutation, failure state with exponential backoff (backoff.ts), never a permanent block.
// - capacity.ts: 3000 instruments x 3 connections per account, checked before queueing and before each POST.
// - streaming-hold.ts: accepted but not streaming (streaming-watch.ts): no POST while the service streams nothing.
// - ownership.ts and maintenance.ts: owners per requester; an idle auto owner lapses, and a subscription Strikedesk
//   made and nobody uses any more is released (DELETE), never one somebody else made; due retries are queued.
// - data-waits.ts: a wait ends on the first stored data, at the wait-timeout flag, or when nothing can arrive in time.
import type { PushTopic } from '../../shared/api';
import type { FlagValues } from '../../shared/flags';
import type { Logger } from '../log';
import type { DataSignals } from '../market/data-signals';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import type { StateStore } from '../state/store';
import type { TickerClient } from '../ticker/types';
import type { Scheduler } from '../../shared/clock';
import { autoRetryable, type BackoffPolicy } from './backoff';
import { DataWaits } from './data-waits';
import { SubscribeRequests, type EnsureOptions, type EnsureResult } from './ensure';
import { Maintenance } from './maintenance';
import { MutationQueue } from './mutation-queue';
import { TickerMutations } from './mutations';
import { Ownership } from './ownership';
import { SnapshotCache, type ActiveSnapshot } from './snapshot';
import { SubscriptionStateStore } from './store';
import { StreamingHold } from './streaming-hold';
import type { StreamingView, StreamingWatch } from './streaming-watch';

export { ACCOUNT_CAPACITY, accountOf, CONNECTIONS_PER_ACCOUNT, DEFAULT_SERVICE_ACCOUNT, INSTRUMENTS_PER_CONNECTION } from './capacity';
export { DATA_LATENCY_ESTIMATE_MS } from './data-waits';
export { SNAPSHOT_WAIT_MIN_MS, type EnsureOptions, type EnsureResult, type FailedToken } from './ensure';

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

export class SubscriptionManager {
  readonly store: SubscriptionStateStore;
  private readonly snapshots: SnapshotCache;
  private readonly stopController = new AbortController();
  private readonly telemetry: Telemetry;
  private readonly owners: Ownership;
  private readonly hold: StreamingHold;
  private readonly queue: MutationQueue;
  private readonly waits: DataWaits;
  private readonly requests: SubscribeRequests;
  private readonly maintenance: Maintenance;
  private offFirst: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;

  constructor(private readonly opts: SubscriptionManagerOptions) {
    const { scheduler, logger } = opts;
    const stop = this.stopController.signal;
    const now = () => scheduler.now();
    const changed = (symbol: string | null | undefined) => this.changed(symbol);
    this.telemetry = opts.telemetry ?? noopTelemetry;
    this.store = new SubscriptionStateStore(opts.state);
    this.owners = new Ownership({ store: this.store, idleMs: opts.idleMs, startedAt: now() });
    this.snapshots = new SnapshotCache(
      // Requests never wait out a 429 hold on the list: they hear it at once, with the time it ends.
      () => opts.ticker.listAllSubscriptions('active', { waitOutRateLimit: false }),
      () => opts.flags.get('smart_subscription_cache_ttl') * 1000,
      scheduler,
      (snapshot) => this.onSnapshot(snapshot),
    );
    this.hold = new StreamingHold({
      watch: opts.streaming,
      snapshot: () => this.snapshots.peek(),
      now,
      queued: () => this.queue.subscribeCount(),
      changed: (held) => {
        this.changed(null);
        opts.push?.publish('health:changed');
        if (!held && this.queue.size) this.queue.kick();
      },
      logger,
    });
    const mutations = new TickerMutations({
      ticker: opts.ticker,
      store: this.store,
      snapshots: this.snapshots,
      signals: opts.signals,
      wanted: (token) => this.wanted(token),
      requeue: (item) => this.queue.requeue(item),
      stop,
      now,
      changed,
      telemetry: this.telemetry,
      logger,
      accountId: opts.accountId,
      backoff: opts.backoff,
      random: opts.random,
    });
    this.queue = new MutationQueue({
      scheduler,
      stop,
      etaMs: (position) => opts.ticker.mutationEtaMs?.(position) ?? 0,
      held: () => this.hold.held,
      judgeStreaming: () => this.hold.judge(),
      send: (item) => mutations.send(item),
      settled: () => this.waits.recheck(),
      onError: (err, item) =>
        logger?.error(
          { err: err instanceof Error ? err.message : String(err), instrument: item?.token, op: item?.op },
          'subscription mutation failed unexpectedly',
        ),
    });
    this.waits = new DataWaits({
      signals: opts.signals,
      scheduler,
      stop,
      queue: this.queue,
      held: () => this.hold.held,
      active: (token) => this.snapshots.peek()?.tokens.has(token) ?? false,
      evidence: opts.evidence,
      logger,
    });
    this.requests = new SubscribeRequests({
      flags: opts.flags,
      scheduler,
      stop,
      signals: opts.signals,
      store: this.store,
      snapshots: this.snapshots,
      queue: this.queue,
      waits: this.waits,
      accountId: opts.accountId,
      telemetry: this.telemetry,
      logger,
      changed,
    });
    this.maintenance = new Maintenance({
      scheduler,
      stop,
      everyMs: opts.maintainEveryMs,
      store: this.store,
      snapshots: this.snapshots,
      queue: this.queue,
      owners: this.owners,
      judgeStreaming: () => this.hold.judge(),
      changed,
      logger,
    });
  }

  // ---------- lifecycle ----------

  start(): void {
    this.offFirst = this.opts.signals.onFirst((token, at) => this.onFirstData(token, at));
    this.loopDone = this.maintenance.loop();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.offFirst?.();
    this.queue.stopped();
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

  // ---------- subscribing ----------

  /** Subscribes what is missing of the tokens, waits for data (see EnsureOptions), and says where each token stands. */
  ensureSubscribed(tokens: readonly number[], opts: EnsureOptions = {}): Promise<EnsureResult> {
    return this.requests.ensure(tokens, opts);
  }

  /** Operator's unsubscribe: drops every owner and DELETEs at the ticker (first in the queue). */
  async unsubscribe(tokens: readonly number[]): Promise<{ removed: number[]; failed: { token: number; reason: string }[] }> {
    const outcomes = await Promise.all(
      [...new Set(tokens)].map(
        (token) =>
          new Promise<{ token: number; error: string | null }>((resolve) => {
            this.store.dropOwners(token);
            const item = this.queue.enqueue(token, 'unsubscribe', -1, 'manual');
            item.why = 'manual';
            item.done.push((error) => resolve({ token, error }));
          }),
      ),
    );
    this.queue.kick();
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
      if (this.queue.unsubscribing(token)) {
        const etaS = Math.ceil((this.queue.etaMs(this.queue.position(token)) + 1000) / 1000);
        failed.push({ token, reason: `queued behind the 30/min mutation limit: expected within ~${etaS} s` });
      } else if (snap?.tokens.has(token)) failed.push({ token, reason: 'still active at the ticker (DELETE failed; see logs)' });
      else removed.push(token);
    }
    return { removed, failed };
  }

  // ---------- ownership ----------

  /** Someone still asks for the token: a manual or external owner, or an auto owner within the idle TTL. */
  wanted(token: number, now = this.now()): boolean {
    return this.owners.wanted(token, now);
  }

  /** A token subscribed by someone else: never released by Strikedesk. */
  noteExternal(token: number): void {
    this.owners.noteExternal(token, this.now());
  }

  /** The token was removed elsewhere (an event): forget its ownership and failure state, and its data evidence. */
  async release(token: number, reason: string): Promise<void> {
    this.queue.drop(token, `released: ${reason}`);
    const symbol = this.store.get(token)?.symbol ?? null;
    this.snapshots.removed(token);
    this.opts.signals.forget(token);
    this.store.forget(token);
    this.opts.logger?.info({ instrument: token, reason }, 'subscription state released');
    this.changed(symbol);
  }

  // ---------- status ----------

  statusOf(token: number): TokenStatus {
    if (this.snapshots.peek()?.tokens.has(token)) return 'active';
    if (this.queue.subscribing(token)) return 'pending';
    const st = this.store.get(token);
    if (st?.nextRetryAt) return st.nextRetryAt > this.now() && autoRetryable(st.failureKind) && this.wanted(token) ? 'backing_off' : 'failed';
    return 'inactive';
  }

  /** Subscribes waiting or being sent. */
  queuedCount(): number {
    return this.queue.subscribeCount();
  }

  /** Why the last request had no fresh subscription list, or null. */
  snapshotError(): string | null {
    return this.requests.lastSnapshotError;
  }

  /** The streaming watch's last verdict, or null without a watch. */
  streamingView(): StreamingView | null {
    return this.hold.view();
  }

  /** Why queued subscribes are not being sent, or null when they are. */
  holdReason(): string | null {
    return this.hold.reason();
  }

  /** Re-judges streaming; holds or resumes the POSTs on a change of verdict. */
  checkStreaming(): void {
    this.hold.judge();
  }

  /** One maintenance round: streaming verdict, idle owners lapse, idle release, retries due (also called by tests). */
  maintain(): Promise<void> {
    return this.maintenance.round();
  }

  // ---------- events ----------

  private onSnapshot(snapshot: ActiveSnapshot): void {
    this.telemetry.gauge('active_subscriptions', snapshot.tokens.size);
    // Subscriptions nobody here made are somebody else's: mark them so they are never released by us.
    this.owners.followListing(snapshot, (token) => this.queue.subscribing(token), this.now());
  }

  private onFirstData(token: number, at: number): void {
    const st = this.store.get(token);
    if (st?.firstRequestedAt) {
      if (at >= st.firstRequestedAt) this.telemetry.timeToData((at - st.firstRequestedAt) / 1000, token);
      this.store.update(token, { firstRequestedAt: null }, this.now());
    }
  }

  private changed(symbol: string | null | undefined): void {
    this.waits.recheck();
    this.telemetry.gauge('pending_subscriptions', this.queue.subscribeCount());
    this.opts.push?.publish('subscriptions:changed');
    if (symbol) this.opts.push?.publish('chain:changed', symbol);
  }

  private now(): number {
    return this.opts.scheduler.now();
  }
}
