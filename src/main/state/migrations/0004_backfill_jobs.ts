// The durable backfill job queue (src/main/backfill). A job is planned when it is queued: its requests (chunks) are
// stored with it, so a restart after a crash resumes with the chunks not yet done and never refetches finished ones.
// Instants are epoch ms (UTC).
export default {
  version: 4,
  name: 'backfill jobs and their planned chunks',
  up: `
    CREATE TABLE backfill_jobs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      scope TEXT NOT NULL,              -- JSON BackfillScope
      label TEXT NOT NULL,
      trigger TEXT NOT NULL CHECK (trigger IN ('scheduled', 'immediate', 'manual')),
      priority INTEGER NOT NULL,        -- 0 immediate (events and the UI), 1 scheduled; lower runs first
      window_start INTEGER NOT NULL,
      window_end INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
      considered INTEGER NOT NULL DEFAULT 0,   -- instruments the planner looked at
      instruments INTEGER NOT NULL DEFAULT 0,  -- instruments with gaps (planned requests)
      missing_minutes INTEGER NOT NULL DEFAULT 0,
      requests_planned INTEGER NOT NULL DEFAULT 0,
      requests_done INTEGER NOT NULL DEFAULT 0,  -- planned requests settled (fetched, already covered, failed, skipped)
      requests_sent INTEGER NOT NULL DEFAULT 0,  -- HTTP requests made, retries included
      rows_written INTEGER NOT NULL DEFAULT 0,
      gaps_filled INTEGER NOT NULL DEFAULT 0,
      no_trade_windows INTEGER NOT NULL DEFAULT 0,
      failures TEXT NOT NULL DEFAULT '{}',       -- JSON reason -> count
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      notes TEXT NOT NULL DEFAULT '[]',          -- JSON planner notes
      created_by TEXT NOT NULL,
      reason TEXT,
      stop_requested INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER,
      run_ms INTEGER NOT NULL DEFAULT 0          -- wall time spent running, over all attempts
    );
    CREATE INDEX backfill_jobs_active ON backfill_jobs (priority, id) WHERE state IN ('queued', 'running');
    CREATE INDEX backfill_jobs_state ON backfill_jobs (state, id);

    -- One planned history request: one instrument, one Kite-sized window, the missing minutes (gap runs) inside it.
    -- unit groups the requests written in one batch (both legs of a strike).
    CREATE TABLE backfill_chunks (
      job_id INTEGER NOT NULL REFERENCES backfill_jobs(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      unit INTEGER NOT NULL,
      token INTEGER NOT NULL,
      instrument TEXT NOT NULL,         -- JSON: symbol, kind, expiry, strike, side, tradingsymbol
      from_ms INTEGER NOT NULL,
      to_ms INTEGER NOT NULL,           -- exclusive
      gaps TEXT NOT NULL,               -- JSON [[from, to), ...] minute runs
      missing INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'covered', 'failed', 'not_backfillable')),
      attempts INTEGER NOT NULL DEFAULT 0,
      rows_written INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      PRIMARY KEY (job_id, seq)
    );
    CREATE INDEX backfill_chunks_token ON backfill_chunks (token, job_id);
    CREATE INDEX backfill_chunks_pending ON backfill_chunks (job_id, unit) WHERE state = 'pending';
  `,
};
