// The manager's maintenance round, every couple of seconds: re-judge streaming, let idle auto owners lapse, release
// what Strikedesk made and nobody wants any more, forget the rest of the unwanted, and queue the retries that are due
// for tokens still wanted. Nothing is decided without a listing of what is active: a release or retry based on a
// guess costs a full reload at the service.
import type { Logger } from '../log';
import type { Scheduler } from '../../shared/clock';
import { autoRetryable } from './backoff';
import type { MutationQueue } from './mutation-queue';
import type { Ownership } from './ownership';
import type { ActiveSnapshot, SnapshotCache } from './snapshot';
import type { SubscriptionStateStore } from './store';

/** Default maintenance cadence, ms. */
export const MAINTAIN_EVERY_MS = 2_000;

export interface MaintenanceDeps {
  scheduler: Scheduler;
  /** Aborted when the manager stops: the loop ends. */
  stop: AbortSignal;
  everyMs?: number;
  store: SubscriptionStateStore;
  snapshots: SnapshotCache;
  queue: MutationQueue;
  owners: Ownership;
  /** Re-judges streaming (holds or resumes the POSTs). */
  judgeStreaming(): void;
  changed(symbol: string | null | undefined): void;
  logger?: Logger;
}

export class Maintenance {
  constructor(private readonly deps: MaintenanceDeps) {}

  /** Runs rounds at the cadence until the stop signal. */
  async loop(): Promise<void> {
    const { scheduler, stop } = this.deps;
    const every = this.deps.everyMs ?? MAINTAIN_EVERY_MS;
    while (!stop.aborted) {
      try {
        await scheduler.sleep(every, stop);
      } catch {
        return;
      }
      try {
        await this.round();
      } catch (err) {
        this.deps.logger?.warn({ err: (err as Error).message }, 'subscription maintenance failed');
      }
    }
  }

  /** One maintenance round. */
  async round(): Promise<void> {
    const { store, queue, owners } = this.deps;
    this.deps.judgeStreaming();
    const now = this.deps.scheduler.now();
    owners.lapseIdleOwners(now);

    const due = [...store.all()].filter(
      (st) => !queue.subscribing(st.token) && (st.nextRetryAt !== null || st.createdByUs || store.ownersOf(st.token).size === 0),
    );
    if (due.length === 0) {
      if (queue.size) queue.kick();
      return;
    }
    let snapshot: ActiveSnapshot;
    try {
      snapshot = await this.deps.snapshots.get();
    } catch {
      return; // decide nothing without knowing what is active
    }
    let queued = false;
    for (const st of due) {
      const token = st.token;
      const active = snapshot.tokens.has(token);
      if (!owners.wanted(token, now)) {
        if (owners.unwanted(st, active) === 'forget') store.forget(token);
        else if (!queue.has(token) && queue.inFlight?.token !== token) {
          // Last in the queue, and on spare budget only: every waiting subscribe goes first.
          queue.enqueue(token, 'unsubscribe', Number.POSITIVE_INFINITY, 'idle');
          queued = true;
        }
        continue;
      }
      if (!active && st.nextRetryAt !== null && st.nextRetryAt <= now && autoRetryable(st.failureKind)) {
        queue.enqueue(token, 'subscribe', st.queuedRank ?? 0, 'retry');
        queued = true;
      }
    }
    if (queued) this.deps.changed(null);
    if (queue.size) queue.kick();
  }
}
