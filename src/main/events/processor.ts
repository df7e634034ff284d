// Drains the inbox asynchronously with bounded concurrency. A row is claimed (state processing) before its actions
// run; a failure is retried with backoff a few times, then recorded as failed with the reason. Rows of one token run
// in arrival order (the claim query enforces it). At start, rows a crash left in processing are queued again.
import type { Logger } from '../log';
import { isPermanent, type ActionOutcome } from './actions';
import type { EventInbox, InboxRow } from './inbox';

export interface ProcessorOptions {
  inbox: EventInbox;
  /** Epoch ms, the same clock the inbox uses. */
  now: () => number;
  run: (row: InboxRow) => Promise<ActionOutcome>;
  onFinished: (row: InboxRow, state: 'done' | 'failed' | 'retrying', outcome: ActionOutcome) => void;
  concurrency?: number;
  /** Delays before attempts 2, 3, ...; attempts = delays + 1. */
  retryDelaysMs?: number[];
  logger?: Logger;
}

export class EventProcessor {
  private active = 0;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private kickPending = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly concurrency: number;
  private readonly delays: number[];

  private readonly now: () => number;

  constructor(private readonly opts: ProcessorOptions) {
    this.now = opts.now;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.delays = opts.retryDelaysMs ?? [1000, 5000];
  }

  /** Resumes what a crash interrupted and starts draining. Returns how many rows were resumed. */
  start(): number {
    const resumed = this.opts.inbox.resumeInterrupted();
    if (resumed > 0) this.opts.logger?.warn({ resumed }, 'resuming events interrupted by a crash');
    this.running = true;
    this.kick();
    return resumed;
  }

  /** kick() on the next turn, coalesced: the 202 goes out before any action starts. */
  kickSoon(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.kick();
    });
  }

  /** Claims runnable rows up to the concurrency bound. */
  kick(): void {
    if (!this.running) return;
    while (this.active < this.concurrency) {
      const row = this.opts.inbox.claimNext();
      if (!row) break;
      this.active++;
      const task = this.process(row).finally(() => {
        this.active--;
        this.inFlight.delete(task);
        this.kick();
      });
      this.inFlight.add(task);
    }
    if (this.active === 0) this.armRetryTimer();
  }

  private armRetryTimer(): void {
    const at = this.opts.inbox.nextAttemptAt();
    if (at === null || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.kick();
      },
      Math.max(10, at - this.now()),
    );
    this.timer.unref();
  }

  private async process(row: InboxRow): Promise<void> {
    try {
      const outcome = await this.opts.run(row);
      this.opts.inbox.finish(row.id, 'done', outcome.text, outcome.code);
      this.opts.onFinished(row, 'done', outcome);
    } catch (err) {
      const reason = (err as Error).message || String(err);
      const delay = this.delays[row.attempts - 1];
      if (delay !== undefined && !isPermanent(err)) {
        const outcome = { code: 'retrying', text: `attempt ${row.attempts} failed: ${reason}; retrying in ${Math.round(delay / 1000)} s` };
        this.opts.inbox.retryAt(row.id, this.now() + delay, outcome.text);
        this.opts.onFinished(row, 'retrying', outcome);
      } else {
        const outcome = { code: 'failed', text: `failed after ${row.attempts} attempt(s): ${reason}` };
        this.opts.inbox.finish(row.id, 'failed', outcome.text, 'failed');
        this.opts.onFinished(row, 'failed', outcome);
        this.opts.logger?.warn({ id: row.id, token: row.token, type: row.type, err: reason }, 'intake event failed');
      }
    }
  }

  /** Stops claiming and waits (bounded) for running actions; what does not finish is resumed at the next start. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
