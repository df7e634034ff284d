// The durable job queue in the SQLite state store. A job is stored with its planned chunks in one transaction; each
// settled chunk is recorded as it settles, so after a crash (kill -9) the job resumes with the chunks not yet done.
// States: queued -> running -> done | failed | cancelled; running -> queued when an immediate job preempts a
// scheduled one; failed -> queued on retry (failed chunks only).
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { BackfillJob, BackfillScope, JobState } from '../../shared/api';
import { DomainError } from '../../shared/result';
import { HISTORY_REQUESTS_PER_SECOND, type GapRun, type PlannedChunk, type PlannedInstrument, type Trigger } from './types';

export type ChunkState = 'pending' | 'done' | 'covered' | 'failed' | 'not_backfillable';
export const PRIORITY: Record<Trigger, 0 | 1> = { immediate: 0, manual: 0, scheduled: 1 };

export interface JobRow {
  id: number;
  /** The console run that holds the job (running jobs) and until when (epoch ms). */
  owner?: string | null;
  lease_until?: number | null;
  scope: string;
  label: string;
  trigger: Trigger;
  priority: 0 | 1;
  window_start: number;
  window_end: number;
  state: JobState;
  considered: number;
  instruments: number;
  missing_minutes: number;
  requests_planned: number;
  requests_done: number;
  requests_sent: number;
  rows_written: number;
  gaps_filled: number;
  no_trade_windows: number;
  failures: string;
  attempts: number;
  last_error: string | null;
  notes: string;
  created_by: string;
  reason: string | null;
  stop_requested: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  run_ms: number;
}

export interface ChunkRow {
  job_id: number;
  seq: number;
  unit: number;
  token: number;
  instrument: string;
  from_ms: number;
  to_ms: number;
  gaps: string;
  missing: number;
  state: ChunkState;
  attempts: number;
  rows_written: number;
  last_error: string | null;
}

export interface StoredChunk {
  seq: number;
  unit: number;
  instrument: PlannedInstrument;
  from: number;
  to: number;
  gaps: GapRun[];
  missing: number;
}

export const toStoredChunk = (r: ChunkRow): StoredChunk => ({
  seq: r.seq,
  unit: r.unit,
  instrument: JSON.parse(r.instrument) as PlannedInstrument,
  from: r.from_ms,
  to: r.to_ms,
  gaps: JSON.parse(r.gaps) as GapRun[],
  missing: r.missing,
});

export interface NewJob {
  scope: BackfillScope;
  label: string;
  trigger: Trigger;
  windowStart: number;
  windowEnd: number;
  considered: number;
  instruments: number;
  missingMinutes: number;
  notes: string[];
  createdBy: string;
  reason?: string | null;
  chunks: readonly PlannedChunk[];
  /** A job with nothing to do is stored as done, with its notes, so the caller has a record to show. */
  doneNote?: string | null;
}

/** What one settled chunk adds to its job. */
export interface ChunkSettlement {
  seq: number;
  state: Exclude<ChunkState, 'pending'>;
  attempts: number;
  rows: number;
  error: string | null;
}

export interface JobProgress {
  requestsSent: number;
  rows: number;
  gapsFilled: number;
  noTradeWindows: number;
  failures: Record<string, number>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** This process's owner id for the jobs it runs (a restart is a new owner). */
export const processOwner = (): string => `pid:${process.pid}:${randomUUID().slice(0, 8)}`;

export interface LeaseOptions {
  owner: string;
  /** How long a running job stays this owner's without a renewal (every settled batch renews). */
  ms: number;
}

export class JobQueue {
  readonly lease: LeaseOptions;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    lease: Partial<LeaseOptions> = {},
  ) {
    this.lease = { owner: lease.owner ?? processOwner(), ms: lease.ms ?? 120_000 };
  }

  /**
   * At start, under the home lock: running jobs of an owner that is gone (this home's previous run, killed) become
   * ours at once rather than after their lease lapses. Returns how many.
   */
  adoptOrphans(): number {
    return this.db
      .prepare(`UPDATE backfill_jobs SET owner = ?, lease_until = ? WHERE state = 'running' AND (owner IS NULL OR owner <> ?)`)
      .run(this.lease.owner, this.now() + this.lease.ms, this.lease.owner).changes;
  }

  /** Finished jobs (and, by cascade, their chunks) older than the retention. Returns jobs removed. */
  prune(retentionMs: number): number {
    return this.db
      .prepare(`DELETE FROM backfill_jobs WHERE state IN ('done', 'failed', 'cancelled') AND finished_at IS NOT NULL AND finished_at < ?`)
      .run(this.now() - retentionMs).changes;
  }

  create(job: NewJob): number {
    const insertJob = this.db.prepare(`INSERT INTO backfill_jobs
      (scope, label, trigger, priority, window_start, window_end, state, considered, instruments, missing_minutes,
       requests_planned, notes, created_by, reason, created_at, finished_at, last_error)
      VALUES (@scope, @label, @trigger, @priority, @windowStart, @windowEnd, @state, @considered, @instruments, @missing,
       @planned, @notes, @createdBy, @reason, @now, @finishedAt, @lastError)`);
    const insertChunk = this.db.prepare(`INSERT INTO backfill_chunks (job_id, seq, unit, token, instrument, from_ms, to_ms, gaps, missing, state)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`);
    return this.db.transaction(() => {
      const now = this.now();
      const empty = job.chunks.length === 0;
      const { lastInsertRowid } = insertJob.run({
        scope: JSON.stringify(job.scope),
        label: job.label,
        trigger: job.trigger,
        priority: PRIORITY[job.trigger],
        windowStart: job.windowStart,
        windowEnd: job.windowEnd,
        state: empty ? 'done' : 'queued',
        considered: job.considered,
        instruments: job.instruments,
        missing: job.missingMinutes,
        planned: job.chunks.length,
        notes: JSON.stringify(job.notes),
        createdBy: job.createdBy,
        reason: job.reason ?? null,
        now,
        finishedAt: empty ? now : null,
        lastError: empty ? (job.doneNote ?? null) : null,
      });
      const id = Number(lastInsertRowid);
      job.chunks.forEach((c, seq) => {
        insertChunk.run(id, seq, c.unit, c.instrument.token, JSON.stringify(c.instrument), c.from, c.to, JSON.stringify(c.gaps), c.missing);
      });
      return id;
    })();
  }

  get(id: number): JobRow | undefined {
    return this.db.prepare('SELECT * FROM backfill_jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  mustGet(id: number): JobRow {
    const row = this.get(id);
    if (!row) throw new DomainError('NOT_FOUND', `backfill job ${id} not found`, 'id');
    return row;
  }

  list(state: JobState | 'all', limit: number): JobRow[] {
    if (state === 'all') return this.db.prepare('SELECT * FROM backfill_jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[];
    return this.db.prepare('SELECT * FROM backfill_jobs WHERE state = ? ORDER BY id DESC LIMIT ?').all(state, limit) as JobRow[];
  }

  /** Queued and running jobs in the order the worker takes them (see next()). */
  active(): JobRow[] {
    return this.db
      .prepare(`SELECT * FROM backfill_jobs WHERE state IN ('queued', 'running') ORDER BY priority, CASE state WHEN 'running' THEN 0 ELSE 1 END, id`)
      .all() as JobRow[];
  }

  /** The next job to run: a running job (resumed after a restart, or preempted and requeued) or the best queued. */
  next(): JobRow | undefined {
    return this.db
      .prepare(
        `SELECT * FROM backfill_jobs WHERE state IN ('queued', 'running') AND stop_requested = 0
                  AND (state = 'queued' OR owner IS NULL OR owner = @owner OR lease_until IS NULL OR lease_until < @now)
                ORDER BY priority, CASE state WHEN 'running' THEN 0 ELSE 1 END, id LIMIT 1`,
      )
      .get({ owner: this.lease.owner, now: this.now() }) as JobRow | undefined;
  }

  /** A queued job that should run before one of `priority`. */
  hasWaitingAbove(priority: number): boolean {
    return !!this.db.prepare(`SELECT 1 FROM backfill_jobs WHERE state = 'queued' AND priority < ? LIMIT 1`).get(priority);
  }

  /** Tokens with pending chunks in queued or running jobs: token -> the job (best priority, oldest). */
  activeTokens(): Map<number, { jobId: number; priority: number }> {
    const rows = this.db
      .prepare(
        `SELECT c.token, j.id, j.priority FROM backfill_chunks c JOIN backfill_jobs j ON j.id = c.job_id
                WHERE j.state IN ('queued', 'running') AND j.stop_requested = 0 AND c.state = 'pending'
                ORDER BY j.priority DESC, j.id DESC`,
      )
      .all() as { token: number; id: number; priority: number }[];
    const out = new Map<number, { jobId: number; priority: number }>();
    for (const r of rows) out.set(r.token, { jobId: r.id, priority: r.priority });
    return out;
  }

  /** Marks a job running. A fresh start or a resume after a crash counts as an attempt; a preempted job's does not. */
  /** Takes the job under this owner's lease; false when another owner's lease still holds it (it runs elsewhere). */
  markRunning(id: number, newAttempt: boolean): boolean {
    const now = this.now();
    return (
      this.db
        .prepare(
          `UPDATE backfill_jobs SET state = 'running', started_at = COALESCE(started_at, @now), attempts = attempts + @inc,
                    owner = @owner, lease_until = @until
                  WHERE id = @id AND (state = 'queued' OR owner IS NULL OR owner = @owner OR lease_until IS NULL OR lease_until < @now)`,
        )
        .run({ now, inc: newAttempt ? 1 : 0, owner: this.lease.owner, until: now + this.lease.ms, id }).changes === 1
    );
  }

  pendingChunks(id: number): StoredChunk[] {
    return (this.db.prepare(`SELECT * FROM backfill_chunks WHERE job_id = ? AND state = 'pending' ORDER BY unit, seq`).all(id) as ChunkRow[]).map(
      toStoredChunk,
    );
  }

  chunks(id: number): ChunkRow[] {
    return this.db.prepare('SELECT * FROM backfill_chunks WHERE job_id = ? ORDER BY seq').all(id) as ChunkRow[];
  }

  /** Records settled chunks and their contribution to the job, in one transaction. */
  settle(id: number, settled: readonly ChunkSettlement[], progress: JobProgress): void {
    const updateChunk = this.db.prepare(`UPDATE backfill_chunks SET state = ?, attempts = attempts + ?, rows_written = ?, last_error = ?
                                         WHERE job_id = ? AND seq = ? AND state = 'pending'`);
    this.db.transaction(() => {
      let done = 0;
      for (const s of settled) done += updateChunk.run(s.state, s.attempts, s.rows, s.error, id, s.seq).changes;
      const job = this.mustGet(id);
      const failures = JSON.parse(job.failures) as Record<string, number>;
      for (const [k, v] of Object.entries(progress.failures)) failures[k] = (failures[k] ?? 0) + v;
      this.db
        .prepare(
          `UPDATE backfill_jobs SET requests_done = requests_done + ?, requests_sent = requests_sent + ?, rows_written = rows_written + ?,
                  gaps_filled = gaps_filled + ?, no_trade_windows = no_trade_windows + ?, failures = ?, lease_until = ? WHERE id = ?`,
        )
        .run(
          done,
          progress.requestsSent,
          progress.rows,
          progress.gapsFilled,
          progress.noTradeWindows,
          JSON.stringify(failures),
          this.now() + this.lease.ms,
          id,
        );
    })();
  }

  /** Requests spent without a settled chunk (a retry that was interrupted). */
  addRequests(id: number, requests: number): void {
    if (requests > 0) this.db.prepare('UPDATE backfill_jobs SET requests_sent = requests_sent + ? WHERE id = ?').run(requests, id);
  }

  finish(id: number, state: 'done' | 'failed' | 'cancelled', lastError: string | null, runMs: number): void {
    this.db
      .prepare(`UPDATE backfill_jobs SET state = ?, last_error = ?, finished_at = ?, run_ms = run_ms + ?, stop_requested = 0 WHERE id = ?`)
      .run(state, lastError, this.now(), Math.max(0, Math.round(runMs)), id);
  }

  /** Jobs asked to stop when the console went down: they end cancelled (they would never be picked up again). */
  settleStopped(): number[] {
    const ids = (this.db.prepare(`SELECT id FROM backfill_jobs WHERE state = 'running' AND stop_requested = 1`).all() as { id: number }[]).map((r) => r.id);
    for (const id of ids) this.finish(id, 'cancelled', 'stopped by request (the console stopped before the job did)', 0);
    return ids;
  }

  /** A running job gives way to a higher-priority one; it keeps its progress. */
  requeue(id: number, runMs: number): void {
    this.db
      .prepare(`UPDATE backfill_jobs SET state = 'queued', run_ms = run_ms + ? WHERE id = ? AND state = 'running'`)
      .run(Math.max(0, Math.round(runMs)), id);
  }

  /** Cancel a queued job at once; ask a running one to stop after its current requests. */
  cancel(id: number): JobRow {
    const job = this.mustGet(id);
    if (job.state === 'queued') {
      this.db
        .prepare(`UPDATE backfill_jobs SET state = 'cancelled', finished_at = ?, last_error = COALESCE(last_error, 'cancelled while queued') WHERE id = ?`)
        .run(this.now(), id);
    } else if (job.state === 'running') {
      this.db.prepare('UPDATE backfill_jobs SET stop_requested = 1 WHERE id = ?').run(id);
    } else {
      throw new DomainError('CONFLICT', `job ${id} is ${job.state}: only a queued or running job can be cancelled`, 'id');
    }
    return this.mustGet(id);
  }

  /** A failed job runs again for its failed chunks only. */
  retry(id: number): JobRow {
    const job = this.mustGet(id);
    if (job.state !== 'failed') throw new DomainError('CONFLICT', `job ${id} is ${job.state}: only a failed job can be retried`, 'id');
    this.db.transaction(() => {
      const reopened = this.db.prepare(`UPDATE backfill_chunks SET state = 'pending', last_error = NULL WHERE job_id = ? AND state = 'failed'`).run(id).changes;
      this.db
        .prepare(
          `UPDATE backfill_jobs SET state = 'queued', requests_done = requests_done - ?, last_error = NULL, started_at = NULL, finished_at = NULL,
                  stop_requested = 0, failures = '{}' WHERE id = ?`,
        )
        .run(reopened, id);
    })();
    return this.mustGet(id);
  }

  depth(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM backfill_jobs WHERE state IN ('queued', 'running')`).get() as { n: number }).n;
  }

  /** Distinct tokens of a job's chunks in a state. */
  tokensIn(id: number, state: ChunkState): number[] {
    return (this.db.prepare('SELECT DISTINCT token FROM backfill_chunks WHERE job_id = ? AND state = ?').all(id, state) as { token: number }[]).map(
      (r) => r.token,
    );
  }

  /** Removes pending chunks of these tokens from a job (another console holds them); returns how many. */
  dropTokens(id: number, tokens: readonly number[]): number {
    if (tokens.length === 0) return 0;
    const del = this.db.prepare(`DELETE FROM backfill_chunks WHERE job_id = ? AND token = ? AND state = 'pending'`);
    return this.db.transaction(() => {
      let n = 0;
      for (const t of tokens) n += del.run(id, t).changes;
      const left = this.db
        .prepare('SELECT count(*) AS n, count(DISTINCT token) AS t, COALESCE(sum(missing), 0) AS m FROM backfill_chunks WHERE job_id = ?')
        .get(id) as { n: number; t: number; m: number };
      this.db.prepare('UPDATE backfill_jobs SET requests_planned = ?, instruments = ?, missing_minutes = ? WHERE id = ?').run(left.n, left.t, left.m, id);
      return n;
    })();
  }

  addNote(id: number, note: string): void {
    const job = this.mustGet(id);
    const notes = JSON.parse(job.notes) as string[];
    notes.push(note);
    this.db.prepare('UPDATE backfill_jobs SET notes = ? WHERE id = ?').run(JSON.stringify(notes), id);
  }

  /** Pending requests per active job (for ETAs). */
  remainingRequests(): Map<number, number> {
    const rows = this.db
      .prepare(
        `SELECT j.id, count(c.seq) AS n FROM backfill_jobs j LEFT JOIN backfill_chunks c ON c.job_id = j.id AND c.state = 'pending'
                WHERE j.state IN ('queued', 'running') GROUP BY j.id`,
      )
      .all() as { id: number; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  /** Requests the worker has queued ahead of a new job of this priority. */
  requestsAhead(priority: number): number {
    const row = this.db
      .prepare(
        `SELECT count(*) AS n FROM backfill_chunks c JOIN backfill_jobs j ON j.id = c.job_id
                WHERE j.state IN ('queued', 'running') AND c.state = 'pending' AND (j.priority <= ? OR j.state = 'running')`,
      )
      .get(priority) as { n: number };
    return row.n;
  }

  /** Views with ETAs: an active job's ETA counts the pending requests of every active job ahead of it. */
  views(rows: readonly JobRow[]): BackfillJob[] {
    const remaining = this.remainingRequests();
    const order = this.active();
    const etaOf = new Map<number, number>();
    let ahead = 0;
    for (const j of order) {
      const mine = remaining.get(j.id) ?? 0;
      ahead += mine;
      etaOf.set(j.id, Math.ceil(ahead / HISTORY_REQUESTS_PER_SECOND));
    }
    return rows.map((r) => toView(r, etaOf.get(r.id) ?? null));
  }
}

export function toView(r: JobRow, etaSeconds: number | null): BackfillJob {
  return {
    id: r.id,
    scope: JSON.parse(r.scope) as BackfillScope,
    label: r.label,
    windowStart: iso(r.window_start) as string,
    windowEnd: iso(r.window_end) as string,
    priority: r.priority === 0 ? 'immediate' : 'scheduled',
    state: r.state,
    requestsDone: r.requests_done,
    requestsPlanned: r.requests_planned,
    rowsWritten: r.rows_written,
    instruments: r.instruments,
    attempts: r.attempts,
    lastError: r.last_error,
    createdBy: r.created_by,
    reason: r.reason,
    createdAt: iso(r.created_at) as string,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    etaSeconds: r.state === 'queued' || r.state === 'running' ? etaSeconds : null,
    stopRequested: r.stop_requested === 1,
  };
}
