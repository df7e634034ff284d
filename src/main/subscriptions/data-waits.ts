// Waiting for data by evidence, not by time: a token's wait ends when a writer stores its first bar or tick
// (DataSignals), at the deadline at the latest (the wait-timeout flag), and earlier when nothing more can arrive in
// time: the token failed and backs off, it sits too far back in the 30-a-minute queue, or the service streams
// nothing. A request then answers at once with 'pending' instead of holding the trader's screen for nothing.
import type { Logger } from '../log';
import type { DataSignals } from '../market/data-signals';
import type { Scheduler } from '../../shared/clock';
import type { MutationQueue } from './mutation-queue';

/** From a 201 to the first stored data at this service: reload debounce + stream gap + first tick + first write. */
export const DATA_LATENCY_ESTIMATE_MS = 5_000;

export interface DataWaitsDeps {
  signals: DataSignals;
  scheduler: Scheduler;
  /** Aborted when the manager stops: every wait ends. */
  stop: AbortSignal;
  queue: Pick<MutationQueue, 'inFlight' | 'has' | 'position' | 'etaMs'>;
  /** True while the service streams nothing (no POST is sent until ticks return). */
  held(): boolean;
  /** Active at the ticker as far as the last listing (and our own POSTs/DELETEs since) knows. */
  active(token: number): boolean;
  /** Evidence of stored data from the market store, for tokens DataSignals has not seen (a restart). */
  evidence?: (tokens: number[]) => Promise<Set<number>>;
  logger?: Logger;
}

export class DataWaits {
  /** One re-check per wait in progress. */
  private readonly waits = new Set<() => void>();

  constructor(private readonly deps: DataWaitsDeps) {}

  /** Something changed that may end a wait (a mutation settled, a subscription changed): every wait looks again. */
  recheck(): void {
    for (const check of [...this.waits]) check();
  }

  /**
   * Resolves when every token has data, or can no longer get it before the deadline (failed and backing off, or too
   * far back in the queue), or at the deadline.
   */
  until(tokens: readonly number[], deadline: number, signal?: AbortSignal): Promise<void> {
    const { signals, scheduler } = this.deps;
    const remaining = new Set(tokens.filter((t) => signals.firstDataAt(t) === undefined));
    if (remaining.size === 0 || deadline <= scheduler.now()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = new AbortController();
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        offFirst();
        this.waits.delete(check);
        signal?.removeEventListener('abort', finish);
        timer.abort();
        resolve();
      };
      const check = () => {
        for (const t of remaining) if (signals.firstDataAt(t) !== undefined) remaining.delete(t);
        if (remaining.size === 0 || [...remaining].every((t) => this.cannotArriveBy(t, deadline))) finish();
      };
      const offFirst = signals.onFirst((token) => {
        if (remaining.delete(token)) check();
      });
      this.waits.add(check);
      // An already-aborted signal never fires 'abort': finish now instead of waiting out the deadline.
      if (signal?.aborted) return finish();
      signal?.addEventListener('abort', finish, { once: true });
      scheduler.sleep(deadline - scheduler.now(), AbortSignal.any([timer.signal, this.deps.stop])).then(finish, finish);
      check();
    });
  }

  /** Tokens with data seen: signalled by a writer, or (for the rest) evidenced by the market store. */
  async withData(tokens: readonly number[]): Promise<Set<number>> {
    const seen = new Set(tokens.filter((t) => this.deps.signals.firstDataAt(t) !== undefined));
    const unseen = tokens.filter((t) => !seen.has(t));
    if (unseen.length && this.deps.evidence) {
      try {
        for (const t of await this.deps.evidence(unseen)) seen.add(t);
      } catch (err) {
        this.deps.logger?.warn({ err: (err as Error).message }, 'data evidence query failed');
      }
    }
    return seen;
  }

  private cannotArriveBy(token: number, deadline: number): boolean {
    const { queue } = this.deps;
    const now = this.deps.scheduler.now();
    if (this.deps.held()) return true; // nothing streams and nothing is sent until ticks return
    if (queue.inFlight?.token === token) return false;
    if (this.deps.active(token)) return false; // subscribed: data is on its way
    if (queue.has(token)) return now + queue.etaMs(queue.position(token)) + DATA_LATENCY_ESTIMATE_MS > deadline;
    return true; // failed or not wanted: nothing will come before a retry
  }
}
