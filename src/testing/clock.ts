// Fake time for tests and benches: a clock moved by hand, and a scheduler whose sleepers wake only when the test
// moves time. Production code takes a Clock or Scheduler (src/shared/clock.ts) and never imports this module.
import { abortReason, type Clock, type Scheduler } from '../shared/clock';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/** A scheduler whose time moves only when a test says so. Sleepers wake in deadline order as time passes them. */
export class FakeScheduler implements Scheduler {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const sleeper: Sleeper = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve: () => undefined };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortReason(signal as AbortSignal));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Sleepers not yet woken. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** The earliest deadline among the sleepers, or null. */
  nextDeadline(): number | null {
    return this.sleepers.length ? Math.min(...this.sleepers.map((s) => s.at)) : null;
  }

  /** Moves time forward by `ms`, waking every sleeper whose deadline passes, in order, letting each one run. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle();
      const due = this.sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.t = Math.max(this.t, due.at);
      due.resolve();
    }
    this.t = target;
    await settle();
  }
}

/** Lets pending promise chains and immediate callbacks run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Fake time that follows the wall clock, for integration tests whose other parts (a devticker, stored bars) run on
 * real time, up to a ceiling a test may set. Holding time at a request's deadline turns "the request never waits
 * past its deadline" into a check that does not depend on how busy the machine is: the answer must come back while
 * this scheduler's time stands still at the deadline.
 */
export class PacedScheduler implements Scheduler {
  readonly fake: FakeScheduler;
  private ceiling = Number.POSITIVE_INFINITY;
  private timer: ReturnType<typeof setInterval> | null = null;
  private pacing: Promise<void> | null = null;

  constructor(
    private readonly wallNow: () => number = () => Date.now(),
    private readonly everyMs = 10,
  ) {
    this.fake = new FakeScheduler(wallNow());
  }

  now(): number {
    return this.fake.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.fake.sleep(ms, signal);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.pace(), this.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pacing;
  }

  /** Time goes no further than `at` until release(). */
  holdAt(at: number): void {
    this.ceiling = at;
  }

  release(): void {
    this.ceiling = Number.POSITIVE_INFINITY;
  }

  private pace(): Promise<void> {
    this.pacing ??= (async () => {
      const target = Math.min(this.wallNow(), this.ceiling);
      if (target > this.fake.now()) await this.fake.advance(target - this.fake.now());
    })().finally(() => (this.pacing = null));
    return this.pacing;
  }
}
