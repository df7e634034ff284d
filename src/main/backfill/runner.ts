// The worker: one job at a time (immediate before scheduled; a running scheduled job gives way to a queued
// immediate one between requests), its write units processed with bounded concurrency. Each unit: re-read coverage
// (another job, console or the live feed may have filled it since planning), fetch the still-missing windows, write
// them in one transaction, then record the settled chunks in SQLite. A crash between the write and the record only
// repeats an idempotent write; a finished chunk is never fetched again.
import type { Clock } from '../../shared/clock';
import type { Logger } from '../log';
import { refreshRollups } from '../market/bars';
import type { MarketDb } from '../market/db';
import type { Telemetry } from '../metrics/telemetry';
import type { ClaimStore } from './claims';
import type { CoverageStore } from './coverage-store';
import { isAbort, type HistoryFetcher } from './fetcher';
import type { ChunkSettlement, JobProgress, JobQueue, JobRow, StoredChunk } from './queue';
import { NO_TRADE_SETTLE_MS, writeUnit, type FetchedChunk } from './writer';
import type { GapRun } from './types';

export interface RunnerDeps {
  queue: JobQueue;
  market: MarketDb;
  coverage: CoverageStore;
  fetcher: HistoryFetcher;
  claims: ClaimStore;
  signals: { stored(tokens: Iterable<number>, atMs: number): void };
  telemetry: () => Telemetry;
  clock: Clock;
  logger: Logger;
  /** Units in flight at once (each one request at a time): bounds this side's share of the ticker budget. */
  concurrency: number;
  /** What history candles carry for theta and vega (STRIKEDESK_SOURCE_GREEKS; default 'scaled'). */
  sourceGreeks?: 'scaled' | 'true';
  /** Whether jobs can run now (a ticker client exists). */
  ready: () => boolean;
  /** Progress or state of a job changed. */
  onChange: (jobId: number) => void;
  /** A job reached a final state (done, failed, cancelled). */
  onFinal: (job: JobRow) => void;
  /**
   * Roll-ups of long jobs are refreshed at most this often while they run (always at the end). Sparingly: a roll-up
   * over a chain is a few hundred ms of work that, in process (PGlite), holds the event loop and delays the requests
   * the limiter has already timed.
   */
  rollupEveryMs?: number;
}

interface RunControl {
  jobId: number;
  priority: number;
  stop: boolean;
}

const groupUnits = (chunks: StoredChunk[]): StoredChunk[][] => {
  const units = new Map<number, StoredChunk[]>();
  for (const c of chunks) units.set(c.unit, [...(units.get(c.unit) ?? []), c]);
  return [...units.values()];
};

/** Remaining gap runs of a chunk once `covers` says which minutes got data meanwhile. */
function remainingGaps(gaps: readonly GapRun[], covers: (m: number) => boolean): GapRun[] {
  const out: GapRun[] = [];
  for (const [a, b] of gaps) {
    let start: number | null = null;
    for (let m = a; m < b; m += 60_000) {
      if (!covers(m)) {
        if (start === null) start = m;
      } else if (start !== null) {
        out.push([start, m]);
        start = null;
      }
    }
    if (start !== null) out.push([start, b]);
  }
  return out;
}

export class JobRunner {
  private stopping = false;
  private readonly abort = new AbortController();
  private wakeUp: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private current: RunControl | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: RunnerDeps) {}

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Something was queued, cancelled or retried, or the ticker became available. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** Stop a running job after its in-flight requests. */
  requestStop(jobId: number): void {
    if (this.current?.jobId === jobId) this.current.stop = true;
  }

  runningJobId(): number | null {
    return this.current?.jobId ?? null;
  }

  /** Resolves when no job is queued or running (tests, benchmarks). */
  whenIdle(): Promise<void> {
    if (this.deps.queue.depth() === 0 && !this.current) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the worker; a running job stays 'running' and resumes at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort(new DOMException('backfill stopping', 'AbortError'));
    this.wake();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const job = this.deps.ready() ? this.deps.queue.next() : undefined;
      if (!job) {
        if (this.deps.queue.depth() === 0) for (const w of this.idleWaiters.splice(0)) w();
        // Without a ticker client the queue waits; look again now and then in case it appears.
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          if (!this.deps.ready()) setTimeout(resolve, 2000).unref?.();
        });
        continue;
      }
      try {
        await this.runJob(job);
      } catch (err) {
        if (this.stopping) break;
        this.deps.logger.error({ err, jobId: job.id }, 'backfill job failed unexpectedly');
        this.deps.queue.finish(job.id, 'failed', `internal error: ${(err as Error).message}`, 0);
        await this.deps.claims.release(job.id).catch(() => undefined);
        this.deps.onChange(job.id);
        this.deps.onFinal(this.deps.queue.mustGet(job.id));
      } finally {
        this.current = null;
      }
    }
  }

  private async runJob(job: JobRow): Promise<void> {
    const { queue, logger } = this.deps;
    const started = Date.now();
    const newAttempt = job.state === 'running' || job.started_at === null;
    if (!queue.markRunning(job.id, newAttempt)) {
      logger.warn({ jobId: job.id, owner: job.owner }, 'backfill job is leased by another console; not run here');
      return;
    }
    if (job.state === 'running') logger.info({ jobId: job.id, label: job.label }, 'resuming backfill job after a restart');
    await this.deps.claims.refresh([job.id]).catch((err) => logger.warn({ err, jobId: job.id }, 'could not refresh backfill claims'));
    this.deps.onChange(job.id);

    const ctl: RunControl = { jobId: job.id, priority: job.priority, stop: false };
    this.current = ctl;
    const units = groupUnits(queue.pendingChunks(job.id));
    const dirty = new DirtyRanges();
    let lastRollup = Date.now();
    let next = 0;
    const halted = () => this.stopping || ctl.stop || queue.get(job.id)?.stop_requested === 1 || queue.hasWaitingAbove(job.priority);
    let failure: unknown = null;
    const worker = async () => {
      while (!halted() && failure === null) {
        const unit = units[next++];
        if (!unit) return;
        try {
          await this.runUnit(job, unit, dirty, halted);
          if (Date.now() - lastRollup >= (this.deps.rollupEveryMs ?? 60_000)) {
            lastRollup = Date.now();
            await dirty.flush(this.deps.market);
          }
        } catch (err) {
          failure ??= err;
        }
      }
    };
    // Every worker settles before the job moves on: none keeps writing for a job that has ended.
    await Promise.all(Array.from({ length: Math.max(1, this.deps.concurrency) }, worker));
    if (this.stopping) return;
    if (failure !== null) throw failure;

    const runMs = Date.now() - started;
    const row = queue.mustGet(job.id);
    const pending = queue.pendingChunks(job.id).length;
    if (ctl.stop || row.stop_requested === 1) {
      await this.finalize(row, 'cancelled', `stopped by request after ${row.requests_done} of ${row.requests_planned} requests`, runMs);
      return;
    }
    if (pending > 0) {
      // Preempted by an immediate job: keep the progress, run again after it.
      queue.requeue(job.id, runMs);
      logger.info({ jobId: job.id, pending }, 'backfill job gives way to an immediate job');
      this.deps.onChange(job.id);
      return;
    }
    const chunks = queue.chunks(job.id);
    const failed = chunks.filter((c) => c.state === 'failed');
    const refused = chunks.filter((c) => c.state === 'not_backfillable');
    const refusedNote = refused.length ? `${new Set(refused.map((c) => c.token)).size} contract(s) not backfillable: ${refused[0].last_error}` : null;
    if (failed.length) {
      const text = `${failed.length} of ${chunks.length} requests failed; last: ${failed[failed.length - 1].last_error}${refusedNote ? `; ${refusedNote}` : ''}`;
      await this.finalize(row, 'failed', text, runMs);
    } else {
      await this.finalize(row, 'done', refusedNote, runMs);
    }
  }

  private async finalize(row: JobRow, state: 'done' | 'failed' | 'cancelled', lastError: string | null, runMs: number): Promise<void> {
    const { queue } = this.deps;
    // The 5/15-minute bars of everything this job wrote, over all its runs (a crash loses no refresh).
    const written = new DirtyRanges();
    for (const c of queue.chunks(row.id)) {
      if (c.state === 'done' || c.state === 'covered') written.add((JSON.parse(c.instrument) as { symbol: string }).symbol, c.from_ms, c.to_ms);
    }
    await written.flush(this.deps.market);
    queue.finish(row.id, state, lastError, runMs);
    const final = queue.mustGet(row.id);
    void this.deps.claims.release(row.id).catch((err) => this.deps.logger.warn({ err, jobId: row.id }, 'could not release backfill claims'));
    const telemetry = this.deps.telemetry();
    telemetry.backfillJob(state, final.run_ms, final.rows_written);
    telemetry.backfillCycle({
      considered: final.considered,
      backfilled: queue.tokensIn(final.id, 'done').length,
      requests: final.requests_sent,
      minimumRequests: final.requests_planned,
      rowsWritten: final.rows_written,
      gapsFilled: final.gaps_filled,
      noTradeWindows: final.no_trade_windows,
      failures: JSON.parse(final.failures) as Record<string, number>,
      durationMs: final.run_ms,
      trigger: final.trigger,
    });
    this.deps.logger.info(
      {
        jobId: final.id,
        state,
        label: final.label,
        requests: final.requests_sent,
        planned: final.requests_planned,
        rows: final.rows_written,
        ms: final.run_ms,
      },
      `backfill job ${state}`,
    );
    this.deps.onChange(final.id);
    this.deps.onFinal(final);
  }

  private async runUnit(job: JobRow, unit: StoredChunk[], dirty: DirtyRanges, halted: () => boolean): Promise<void> {
    const { coverage, fetcher, queue } = this.deps;
    const from = Math.min(...unit.map((c) => c.from));
    const to = Math.max(...unit.map((c) => c.to));
    const now = await coverage.coverage(
      unit.map((c) => c.instrument),
      from,
      to,
    );
    const settlements: ChunkSettlement[] = [];
    const progress: JobProgress = { requestsSent: 0, rows: 0, gapsFilled: 0, noTradeWindows: 0, failures: {} };
    const fetched: { chunk: StoredChunk; data: FetchedChunk; requests: number }[] = [];
    for (const chunk of unit) {
      // A stop (or preemption) takes effect after the current request: the unit's other legs stay pending.
      if (fetched.length + settlements.length > 0 && halted()) break;
      const cov = now.get(chunk.instrument.token);
      const gaps = cov ? remainingGaps(chunk.gaps, (m) => cov.covers(m)) : chunk.gaps;
      if (gaps.length === 0) {
        settlements.push({ seq: chunk.seq, state: 'covered', attempts: 0, rows: 0, error: null });
        continue;
      }
      const reqFrom = gaps[0][0];
      const reqTo = gaps[gaps.length - 1][1];
      let outcome;
      try {
        outcome = await fetcher.fetch(chunk.instrument.token, reqFrom, reqTo, this.abort.signal);
      } catch (err) {
        if (isAbort(err)) return; // stopping: the unit stays pending
        throw err;
      }
      progress.requestsSent += outcome.requests;
      if (outcome.ok) {
        fetched.push({
          chunk,
          requests: outcome.requests,
          data: {
            instrument: chunk.instrument,
            gaps,
            from: reqFrom,
            to: reqTo,
            candles: outcome.candles,
            hadFailures: cov?.hasFailed ?? true,
            settledBefore: this.deps.clock.now() - NO_TRADE_SETTLE_MS,
          },
        });
        continue;
      }
      progress.failures[outcome.reason] = (progress.failures[outcome.reason] ?? 0) + 1;
      if (outcome.reason === 'expired') {
        await coverage.markNotBackfillable(chunk.instrument.token, chunk.instrument.tradingsymbol, outcome.message);
        settlements.push({
          seq: chunk.seq,
          state: 'not_backfillable',
          attempts: outcome.requests,
          rows: 0,
          error: `${chunk.instrument.tradingsymbol}: ${outcome.message}`,
        });
      } else {
        await coverage.recordWindows(this.deps.market, chunk.instrument.token, 'failed', gaps, `${outcome.reason}: ${outcome.message}`).catch(() => undefined);
        settlements.push({
          seq: chunk.seq,
          state: 'failed',
          attempts: outcome.requests,
          rows: 0,
          error: `${chunk.instrument.tradingsymbol}: ${outcome.reason}: ${outcome.message}`,
        });
      }
    }
    if (fetched.length) {
      try {
        const results = await writeUnit(
          this.deps.market,
          coverage,
          fetched.map((f) => f.data),
          { sourceGreeks: this.deps.sourceGreeks },
        );
        const stored: number[] = [];
        results.forEach((r, i) => {
          const { chunk, requests, data } = fetched[i];
          settlements.push({ seq: chunk.seq, state: 'done', attempts: requests, rows: r.rows, error: null });
          progress.rows += r.rows;
          progress.gapsFilled += r.gapsFilled;
          progress.noTradeWindows += r.noTradeRuns.length;
          if (r.gapsFilled > 0) stored.push(chunk.instrument.token);
          dirty.add(chunk.instrument.symbol, data.from, data.to);
        });
        if (stored.length) this.deps.signals.stored(stored, this.deps.clock.now());
      } catch (err) {
        const message = (err as Error).message;
        progress.failures.write = (progress.failures.write ?? 0) + fetched.length;
        for (const { chunk, requests } of fetched)
          settlements.push({ seq: chunk.seq, state: 'failed', attempts: requests, rows: 0, error: `write failed: ${message}` });
      }
    }
    queue.settle(job.id, settlements, progress);
    this.deps.onChange(job.id);
  }
}

/** Per symbol, the span written since the last roll-up refresh. */
class DirtyRanges {
  private readonly spans = new Map<string, { from: number; to: number }>();

  add(symbol: string, from: number, to: number): void {
    const s = this.spans.get(symbol);
    this.spans.set(symbol, s ? { from: Math.min(s.from, from), to: Math.max(s.to, to) } : { from, to });
  }

  async flush(db: MarketDb): Promise<void> {
    const spans = [...this.spans];
    this.spans.clear();
    for (const [symbol, { from, to }] of spans) await refreshRollups(db, symbol, from, to);
  }
}
