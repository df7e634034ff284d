// The decoupled bar writer: a bounded queue between the tick reader and the database. The reader only enqueues
// (never awaits the database), so a stalled database never stops tick intake. Pending bars are keyed: a newer
// version of a bar still waiting replaces the older one in place (keeping its place in line), so re-flushes cost
// no capacity. When the queue is full, NEW bars are refused and counted (the oldest pending work is kept: it is
// the work closest to being lost for good). A failed write is retried with backoff, the same batch first.
// Writes go through the one bar writer (market/bars.ts) with its no-clobber rules.
import { backoffDelay } from '../../shared/backoff';
import { workScheduler, type Clock } from '../../shared/clock';
import type { Logger } from '../log';
import { refreshRollups, upsertInstrumentBars, upsertStrikeSides, type InstrumentBar, type StrikeSideBar } from '../market/bars';
import type { Queryable } from '../market/db';

/** `final`: a flushed bar (not an optional snapshot): its range's 5/15-minute roll-ups are refreshed. */
type Entry = { kind: 'strike'; bar: StrikeSideBar; final: boolean } | { kind: 'instrument'; bar: InstrumentBar; final: boolean };

export interface WrittenBatch {
  /** Tokens whose bars were written. */
  tokens: number[];
  /** Underlying symbols touched. */
  symbols: string[];
  /** Rows written (the bar writer's count; rows skipped by its no-clobber rules are not counted). */
  rows: number;
  /** Bars in the batch. */
  bars: number;
  /** Wall-clock ms when the write finished. */
  at: number;
  /** The bars of the batch (for latency accounting). */
  batch: { complete: number; partial: number; oldestBucket: number | null; newestCompleteBucket: number | null };
}

export interface BarWriterOptions {
  db: Queryable;
  clock: Clock;
  logger?: Logger;
  /** Most bars waiting (default 250 000: about 27 minutes of 9000 instruments). */
  capacity?: number;
  /** Most bars per write (default 20 000). */
  batchSize?: number;
  /** Refresh 5/15-minute roll-ups for the ranges of complete bars written (default true). */
  rollups?: boolean;
  retryBaseMs?: number;
  retryMaxMs?: number;
  onWritten?: (batch: WrittenBatch) => void;
  onDropped?: (count: number) => void;
}

export interface BarWriterStats {
  depth: number;
  maxDepth: number;
  capacity: number;
  written: number;
  rows: number;
  dropped: number;
  failures: number;
  lastError: string | null;
  lastWriteAt: number | null;
  paused: boolean;
}

const keyOf = (e: Entry): string =>
  e.kind === 'strike' ? `s|${e.bar.symbol}|${e.bar.expiry}|${e.bar.strike}|${e.bar.bucket}|${e.bar.side}` : `i|${e.bar.token}|${e.bar.bucket}`;

export class BarWriter {
  private pending = new Map<string, Entry>();
  private inflight: Entry[] = [];
  private running = false;
  private paused = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Aborted to cut a retry wait short (a drain or close wants the write now). */
  private retryWake: AbortController | null = null;
  private readonly rollupRanges = new Map<string, { from: number; to: number }>();
  private s = { maxDepth: 0, written: 0, rows: 0, dropped: 0, failures: 0, lastError: null as string | null, lastWriteAt: null as number | null };
  readonly capacity: number;
  private readonly batchSize: number;

  constructor(private readonly opts: BarWriterOptions) {
    this.capacity = opts.capacity ?? 250_000;
    this.batchSize = opts.batchSize ?? 20_000;
  }

  get depth(): number {
    return this.pending.size + this.inflight.length;
  }

  /**
   * Queues bars; returns how many were refused because the queue is full. Never blocks. `optional` bars (partial
   * snapshots, which a complete bar will supersede) are not queued at all once the queue is half full: they would
   * only crowd out the bars that matter, and skipping them is not a loss. Non-optional (flushed) bars also get
   * their 5/15-minute roll-ups refreshed after the write.
   */
  enqueue(strike: readonly StrikeSideBar[], instruments: readonly InstrumentBar[] = [], opts: { optional?: boolean } = {}): number {
    if (opts.optional && this.depth >= this.capacity / 2) return 0;
    let dropped = 0;
    const add = (e: Entry) => {
      const key = keyOf(e);
      const existing = this.pending.get(key);
      if (existing) {
        // Never replace a waiting complete bar by a partial one of the same bucket.
        if (!existing.bar.complete || e.bar.complete) this.pending.set(key, { ...e, final: e.final || existing.final } as Entry);
        return;
      }
      if (this.depth >= this.capacity) {
        dropped++;
        return;
      }
      this.pending.set(key, e);
    };
    const final = !opts.optional;
    for (const bar of strike) add({ kind: 'strike', bar, final });
    for (const bar of instruments) add({ kind: 'instrument', bar, final });
    if (this.depth > this.s.maxDepth) this.s.maxDepth = this.depth;
    if (dropped > 0) {
      this.s.dropped += dropped;
      this.opts.onDropped?.(dropped);
    }
    this.kick();
    return dropped;
  }

  /** Stops taking batches (the one in flight finishes). For tests and maintenance; intake goes on queueing. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  stats(): BarWriterStats {
    return { depth: this.depth, capacity: this.capacity, paused: this.paused, ...this.s };
  }

  /** Resolves true when everything queued so far is written, false on timeout. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    if (this.depth === 0 && !this.running) return true;
    // A drain is a request to write now: cut a retry wait short.
    this.retryWake?.abort();
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
      this.kick();
    });
  }

  /** Writes what it can within `timeoutMs`, then refuses further work. */
  async close(timeoutMs = 5_000): Promise<boolean> {
    this.paused = false;
    const ok = await this.drain(timeoutMs);
    this.closed = true;
    this.retryWake?.abort();
    return ok;
  }

  private kick(): void {
    if (this.running || this.closed) return;
    if (this.paused || this.depth === 0) {
      if (this.depth === 0) this.notifyIdle();
      return;
    }
    this.running = true;
    void this.loop();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    try {
      while (!this.closed) {
        if (this.inflight.length === 0) {
          if (this.paused || this.pending.size === 0) break;
          for (const [key, entry] of this.pending) {
            this.inflight.push(entry);
            this.pending.delete(key);
            if (this.inflight.length >= this.batchSize) break;
          }
        }
        try {
          await this.write(this.inflight);
          this.inflight = [];
          attempt = 0;
        } catch (err) {
          attempt++;
          this.s.failures++;
          this.s.lastError = (err as Error).message;
          if (attempt === 1 || attempt % 10 === 0)
            this.opts.logger?.warn({ err: (err as Error).message, attempt, depth: this.depth }, 'bar write failed; retrying');
          const delay = backoffDelay({ baseMs: this.opts.retryBaseMs ?? 250, maxMs: this.opts.retryMaxMs ?? 10_000 }, attempt - 1);
          this.retryWake = new AbortController();
          await workScheduler.sleep(delay, this.retryWake.signal).catch(() => undefined);
          this.retryWake = null;
        }
      }
    } finally {
      this.running = false;
    }
    if (this.depth === 0) this.notifyIdle();
    else if (!this.paused && !this.closed) this.kick();
  }

  private async write(entries: Entry[]): Promise<void> {
    const strike: StrikeSideBar[] = [];
    const instruments: InstrumentBar[] = [];
    const tokens = new Set<number>();
    const symbols = new Set<string>();
    let complete = 0;
    let oldestBucket: number | null = null;
    let newestCompleteBucket: number | null = null;
    for (const e of entries) {
      if (e.kind === 'strike') strike.push(e.bar);
      else instruments.push(e.bar);
      tokens.add(e.bar.token);
      symbols.add(e.bar.symbol);
      if (e.bar.complete) {
        complete++;
        if (newestCompleteBucket === null || e.bar.bucket > newestCompleteBucket) newestCompleteBucket = e.bar.bucket;
      }
      if (e.final) {
        const r = this.rollupRanges.get(e.bar.symbol);
        const end = e.bar.bucket + 60_000;
        if (!r) this.rollupRanges.set(e.bar.symbol, { from: e.bar.bucket, to: end });
        else {
          if (e.bar.bucket < r.from) r.from = e.bar.bucket;
          if (end > r.to) r.to = end;
        }
      }
      if (oldestBucket === null || e.bar.bucket < oldestBucket) oldestBucket = e.bar.bucket;
    }
    const db = this.opts.db;
    let rows = 0;
    if (strike.length) rows += await upsertStrikeSides(db, strike);
    if (instruments.length) rows += await upsertInstrumentBars(db, instruments);
    if (this.opts.rollups ?? true) {
      // A failed roll-up keeps its range and is retried after the next batch; the 1-minute rows are already safe.
      for (const [symbol, r] of [...this.rollupRanges]) {
        try {
          await refreshRollups(db, symbol, r.from, r.to, this.opts.clock.now());
          this.rollupRanges.delete(symbol);
        } catch (err) {
          this.s.lastError = `roll-up ${symbol}: ${(err as Error).message}`;
          this.opts.logger?.warn({ err: (err as Error).message, symbol }, 'roll-up refresh failed; kept for the next batch');
        }
      }
    }
    const at = this.opts.clock.now();
    this.s.written += entries.length;
    this.s.rows += rows;
    this.s.lastWriteAt = at;
    this.opts.onWritten?.({
      tokens: [...tokens],
      symbols: [...symbols],
      rows,
      bars: entries.length,
      at,
      batch: { complete, partial: entries.length - complete, oldestBucket, newestCompleteBucket },
    });
  }
}
