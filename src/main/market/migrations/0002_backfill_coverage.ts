// What backfill learned about coverage, shared by every console on one Postgres:
// - backfill_windows: minute ranges per instrument where history had no trades (an empty in-session answer, so the
//   planner stops asking) or where fetching failed (shown as failed in the coverage grid until a later fetch succeeds);
// - backfill_not_backfillable: contracts Kite refuses (expired): per contract, never a process-wide blacklist;
// - backfill_claims: which console is backfilling an instrument now, so immediate jobs are not duplicated across
//   consoles (a claim expires unless its owner keeps it alive).
export default {
  version: 2,
  name: 'backfill coverage: no-trade and failed windows, not-backfillable contracts, claims',
  up: `
    CREATE TABLE backfill_windows (
      token bigint NOT NULL,
      state text NOT NULL CHECK (state IN ('no_trades', 'failed')),
      from_bucket timestamptz NOT NULL,   -- first minute, inclusive
      to_bucket timestamptz NOT NULL,     -- exclusive
      reason text,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (token, state, from_bucket)
    );
    CREATE INDEX backfill_windows_range ON backfill_windows (token, to_bucket);

    CREATE TABLE backfill_not_backfillable (
      token bigint PRIMARY KEY,
      tradingsymbol text,
      reason text NOT NULL,
      marked_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE backfill_claims (
      token bigint PRIMARY KEY,
      owner text NOT NULL,                -- console id
      job_id integer NOT NULL,            -- the owner's local job
      priority smallint NOT NULL,         -- 0 immediate, 1 scheduled: an immediate claim may take a scheduled one
      claimed_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    );
    CREATE INDEX backfill_claims_owner ON backfill_claims (owner, job_id);
  `,
};
