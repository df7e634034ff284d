// The subscription manager's own state (src/main/subscriptions), so a restart keeps who asked for what and what
// failed: per-token state (whether Strikedesk made the subscription, consecutive failures with the next retry time,
// a place in the subscribe queue, the first unanswered request for time-to-data) and per-token owners
// ('auto:NIFTY 2025-11-25', 'manual', 'external') with the last time each asked.
export default {
  version: 5,
  name: 'subscription ownership and failure state',
  up: `
    CREATE TABLE subscription_tokens (
      token INTEGER PRIMARY KEY,
      created_by_us INTEGER NOT NULL DEFAULT 0,  -- Strikedesk POSTed it (only these are ever released)
      subscribed_at INTEGER,                     -- epoch ms of our successful POST
      attempts INTEGER NOT NULL DEFAULT 0,       -- consecutive failed attempts
      failure_kind TEXT,                         -- TickerError kind of the last failure
      failure_reason TEXT,
      next_retry_at INTEGER,                     -- epoch ms; never a permanent block
      first_requested_at INTEGER,                -- first request still waiting for data (time to data)
      queued_rank REAL,                          -- waiting in the subscribe queue (requeued after a restart)
      symbol TEXT,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE subscription_owners (
      token INTEGER NOT NULL,
      owner TEXT NOT NULL,
      first_at INTEGER NOT NULL,
      last_at INTEGER NOT NULL,
      PRIMARY KEY (token, owner)
    );
    CREATE INDEX subscription_owners_last ON subscription_owners (last_at);
  `,
};
