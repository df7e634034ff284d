// The ONE queue of mutations at the ticker service (POST a subscription, DELETE one). One queue, because the service
// allows 30 mutations a minute and every POST triggers a full stream reload, which the service coalesces (1 s
// debounce, one per 5 s): 30 POSTs in a burst cost one data gap, the same 30 spread over a minute would cost twelve.
// - Order: lower rank first (the distance from ATM), then first come. An operator's unsubscribe goes first (rank -1),
//   an idle release last (rank +Infinity).
// - The worker waits for the shared limiter's budget BEFORE choosing, so a request that arrives meanwhile (an ATM
//   strike) can still go first.
// - Releases of idle subscriptions use spare budget only: every waiting subscribe goes before them.
// - While the service streams nothing (held), only an operator's unsubscribe goes out: each POST would be another
//   full reload of a dead stream. Held work resumes when the hold lifts (the facade kicks the queue).
import type { Scheduler } from '../../shared/clock';

export type MutationOp = 'subscribe' | 'unsubscribe';

/** Why a mutation is queued. Idle releases are skipped if someone asks again meanwhile; an operator's ('manual') are not. */
export type MutationReason = 'request' | 'retry' | 'idle' | 'manual';

export interface Mutation {
  token: number;
  op: MutationOp;
  rank: number;
  seq: number;
  why: MutationReason;
  /** Settled once with null (done) or the reason it was not done. */
  done: ((error: string | null) => void)[];
}

/** What sending a mutation came to: null when done, the reason when not, 'requeued' when it kept its place (a 429). */
export type MutationResult = string | null | 'requeued';

export interface MutationQueueDeps {
  scheduler: Scheduler;
  /** Aborted when the manager stops: nothing more is sent. */
  stop: AbortSignal;
  /** How long until the mutation at this position (0 = the next) fits the limiter's budget, ms. */
  etaMs(position: number): number;
  /** The last streaming verdict: true while the service streams nothing. */
  held(): boolean;
  /** Re-judges streaming before each choice (it may hold or resume the queue). */
  judgeStreaming(): void;
  /** Sends one mutation to the ticker service. */
  send(item: Mutation): Promise<MutationResult>;
  /** After each mutation settles: what waits on the queue looks again. */
  settled(): void;
  /** A send that threw instead of answering (a store write failing, say): reported, its waiters settled, the queue goes on. */
  onError?(err: unknown, item: Mutation | null): void;
}

export class MutationQueue {
  private readonly items = new Map<number, Mutation>();
  private current: Mutation | null = null;
  private seq = 0;
  private working = false;

  constructor(private readonly deps: MutationQueueDeps) {}

  /** The mutation being sent now, if any (it is no longer in the queue). */
  get inFlight(): Mutation | null {
    return this.current;
  }

  /** Mutations waiting (the one in flight not counted). */
  get size(): number {
    return this.items.size;
  }

  /** The waiting mutation for a token. */
  get(token: number): Mutation | undefined {
    return this.items.get(token);
  }

  has(token: number): boolean {
    return this.items.has(token);
  }

  /** A subscribe for the token is waiting or being sent. */
  subscribing(token: number): boolean {
    return this.items.get(token)?.op === 'subscribe' || (this.current?.token === token && this.current.op === 'subscribe');
  }

  /** An unsubscribe for the token is waiting or being sent. */
  unsubscribing(token: number): boolean {
    return this.items.get(token)?.op === 'unsubscribe' || (this.current?.token === token && this.current.op === 'unsubscribe');
  }

  /** Subscribes waiting or being sent. */
  subscribeCount(): number {
    return [...this.items.values()].filter((q) => q.op === 'subscribe').length + (this.current?.op === 'subscribe' ? 1 : 0);
  }

  /** Position among waiting mutations, in the order the worker takes them. */
  position(token: number): number {
    const order = this.ordered();
    const i = order.findIndex((q) => q.token === token);
    return (this.current ? 1 : 0) + (i < 0 ? order.length : i);
  }

  etaMs(position: number): number {
    return this.deps.etaMs(position);
  }

  /**
   * Queues a mutation for the token. The same mutation already waiting keeps its place and takes the better rank;
   * the opposite one is superseded (settled with the reason) and replaced.
   */
  enqueue(token: number, op: MutationOp, rank: number, why: MutationReason): Mutation {
    const existing = this.items.get(token);
    if (existing && existing.op === op) {
      existing.rank = Math.min(existing.rank, rank);
      return existing;
    }
    if (existing) for (const done of existing.done) done(`superseded by ${op}`);
    const item: Mutation = { token, op, rank, seq: this.seq++, why, done: [] };
    this.items.set(token, item);
    return item;
  }

  /** Puts a mutation back in its place (a 429 is not the token's fault). Its waiters are settled later. */
  requeue(item: Mutation): void {
    this.items.set(item.token, item);
  }

  /** Takes the token's waiting mutation out of the queue and settles it with the reason. */
  drop(token: number, reason: string): void {
    const item = this.items.get(token);
    if (!item) return;
    this.items.delete(token);
    for (const done of item.done) done(reason);
  }

  /** Starts the worker unless it runs (or the manager stopped). */
  kick(): void {
    if (this.working || this.deps.stop.aborted) return;
    this.working = true;
    // work() settles every failure of a send itself; the catch is the net under the limiter and the streaming judge,
    // so a throw there ends this run (reported) rather than becoming an unhandled rejection that takes the core down.
    // A run that failed is not restarted from here (it would fail again at once, in a loop): the next kick is.
    let failed = false;
    void this.work()
      .catch((err: unknown) => {
        failed = true;
        this.deps.onError?.(err, null);
      })
      .finally(() => {
        this.working = false;
        if (
          !failed &&
          this.items.size &&
          !this.deps.stop.aborted &&
          this.ordered().some((q) => (q.op === 'subscribe' && !this.deps.held()) || q.why === 'manual')
        )
          this.kick();
      });
  }

  /** Settles every waiting mutation with 'stopped' (the worker ends on the stop signal). */
  stopped(): void {
    for (const item of this.items.values()) for (const done of item.done) done('stopped');
  }

  private ordered(): Mutation[] {
    return [...this.items.values()].sort((a, b) => a.rank - b.rank || a.seq - b.seq);
  }

  private async work(): Promise<void> {
    while (!this.deps.stop.aborted) {
      // Wait for budget BEFORE choosing, so a request that arrives meanwhile (an ATM strike) can still go first.
      const eta = this.etaMs(0);
      if (eta > 0) {
        try {
          await this.deps.scheduler.sleep(eta, this.deps.stop);
        } catch {
          return;
        }
        continue;
      }
      // While the service streams nothing only an operator's unsubscribe goes out; subscribes and idle releases wait.
      this.deps.judgeStreaming();
      const held = this.deps.held();
      const item = this.ordered().find((q) => q.why === 'manual' || (!held && (q.op === 'subscribe' || this.spareBudget())));
      if (!item) return;
      this.items.delete(item.token);
      this.current = item;
      try {
        let error: MutationResult;
        try {
          error = await this.deps.send(item);
        } catch (err) {
          // A send should answer, not throw; one that throws must not leave its waiters hanging nor stop the worker.
          this.deps.onError?.(err, item);
          error = `internal error: ${err instanceof Error ? err.message : String(err)}`;
        }
        if (error !== 'requeued') for (const done of item.done) done(error);
      } finally {
        this.current = null;
        this.deps.settled();
      }
    }
  }

  /** Releases use spare budget only: at least half of the mutation window must be free. */
  private spareBudget(): boolean {
    return this.etaMs(14) === 0;
  }
}
