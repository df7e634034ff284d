// Sending one queued mutation to the ticker service, and what its answer means for the token:
// - A POST is sent only for a token that is not active and still wanted, and only while the account has room (the
//   service's rebalancer may have filled it since the request was accepted): at capacity it is deferred with a retry
//   time, not sent.
// - A failed POST gives the token a failure state with exponential backoff and a next-retry time (backoff.ts); never a
//   permanent block. A 429 is not the token's fault: it keeps its place and the limiter holds the budget until the
//   service's window resets.
// - An idle release (DELETE) is skipped when someone asked for the token again meanwhile; an operator's is not.
import type { Logger } from '../log';
import type { DataSignals } from '../market/data-signals';
import type { Telemetry } from '../metrics/telemetry';
import { TickerError, type TickerClient } from '../ticker/types';
import { backoffMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { accountFull } from './capacity';
import type { Mutation, MutationResult } from './mutation-queue';
import type { SnapshotCache } from './snapshot';
import type { SubscriptionStateStore } from './store';

export interface TickerMutationsDeps {
  ticker: TickerClient;
  store: SubscriptionStateStore;
  snapshots: SnapshotCache;
  signals: DataSignals;
  /** Someone still asks for the token. */
  wanted(token: number): boolean;
  /** Puts a rate-limited mutation back in its place. */
  requeue(item: Mutation): void;
  /** Aborted when the manager stops: a failure after it is 'stopped', not the token's. */
  stop: AbortSignal;
  now(): number;
  /** A token's state changed (pushes subscriptions:changed, and chain:changed for its symbol). */
  changed(symbol: string | null | undefined): void;
  telemetry: Telemetry;
  logger?: Logger;
  accountId?: string;
  backoff?: BackoffPolicy;
  random?: () => number;
}

export class TickerMutations {
  constructor(private readonly deps: TickerMutationsDeps) {}

  send(item: Mutation): Promise<MutationResult> {
    return item.op === 'subscribe' ? this.subscribe(item) : this.unsubscribe(item);
  }

  private async subscribe(item: Mutation): Promise<MutationResult> {
    const { token } = item;
    const { store, snapshots, telemetry, logger } = this.deps;
    const snapshot = snapshots.peek();
    if (snapshot?.tokens.has(token)) return null;
    if (!this.deps.wanted(token)) return 'no longer wanted';
    const full = accountFull(snapshot, this.deps.accountId);
    if (full) {
      // Deferred, not sent: one more row would stop every stream of the account. Retried when rows are released.
      const now = this.deps.now();
      const attempts = (store.get(token)?.attempts ?? 0) + 1;
      const st = store.update(token, { attempts, failureKind: 'capacity', failureReason: full, nextRetryAt: now + this.backoff('capacity', attempts) }, now);
      telemetry.autoSubscribeAttempt('failed', 'capacity', token);
      this.deps.changed(st.symbol);
      return full;
    }
    try {
      const row = await this.deps.ticker.subscribe(token, { mode: 'FULL', accountId: this.deps.accountId, signal: this.deps.stop });
      const now = this.deps.now();
      const st = store.update(token, { createdByUs: true, subscribedAt: now, attempts: 0, failureKind: null, failureReason: null, nextRetryAt: null }, now);
      snapshots.added(row);
      telemetry.autoSubscribeAttempt('succeeded', 'subscribed', token);
      logger?.debug({ instrument: token, tradingsymbol: row.tradingsymbol }, 'subscribed');
      this.deps.changed(st.symbol);
      return null;
    } catch (err) {
      if (this.deps.stop.aborted) return 'stopped';
      const kind = err instanceof TickerError ? err.kind : 'internal';
      const message = (err as Error).message;
      const now = this.deps.now();
      telemetry.autoSubscribeAttempt('failed', kind, token);
      if (kind === 'rate_limited') {
        // Not the token's fault: it keeps its place; the limiter holds the budget until the service's window resets.
        store.update(token, { failureKind: kind, failureReason: message, nextRetryAt: null }, now);
        this.deps.requeue(item);
        this.deps.changed(store.get(token)?.symbol ?? null);
        return 'requeued';
      }
      const attempts = (store.get(token)?.attempts ?? 0) + 1;
      const retryAt = now + this.backoff(kind, attempts);
      const st = store.update(token, { attempts, failureKind: kind, failureReason: message, nextRetryAt: retryAt }, now);
      logger?.warn({ instrument: token, kind, attempts, retryAt: new Date(retryAt).toISOString() }, 'subscribe failed; backing off');
      this.deps.changed(st.symbol);
      return message;
    }
  }

  private async unsubscribe(item: Mutation): Promise<MutationResult> {
    const { token } = item;
    const { store, logger } = this.deps;
    if (item.why === 'idle' && this.deps.wanted(token)) return 'wanted again';
    try {
      await this.deps.ticker.unsubscribe(token);
    } catch (err) {
      if (this.deps.stop.aborted) return 'stopped';
      logger?.warn({ instrument: token, err: (err as Error).message }, 'unsubscribe failed');
      return (err as Error).message;
    }
    const symbol = store.get(token)?.symbol ?? null;
    this.deps.snapshots.removed(token);
    this.deps.signals.forget(token);
    store.forget(token);
    logger?.info({ instrument: token, why: item.why }, 'unsubscribed');
    this.deps.changed(symbol);
    return null;
  }

  private backoff(kind: string, attempts: number): number {
    return backoffMs(kind, attempts, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.random);
  }
}
