// The subscription-event intake (src/main/events): the durable inbox every intake path writes to before it answers,
// the webhook signatures already seen (replay protection that survives a restart), and the poll reconciler's last
// seen set of active subscriptions (so a restart diffs against what was really seen, not against nothing).
export default {
  version: 2,
  name: 'event inbox, webhook replay guard, poll reconciler set',
  up: `
    CREATE TABLE event_inbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      -- (type, token, occurred_at) or the sender's X-Event-Id; NULL on rows recording a duplicate delivery
      idempotency_key TEXT UNIQUE,
      source TEXT NOT NULL,           -- webhook | redis | poll | manual
      type TEXT NOT NULL,             -- created | removed (normalized)
      raw_type TEXT NOT NULL,         -- the sender's event_type (activated, subscription_removed, ...)
      token INTEGER NOT NULL,
      tradingsymbol TEXT,
      occurred_at TEXT NOT NULL,      -- ISO-8601 UTC
      received_at TEXT NOT NULL,      -- ISO-8601 UTC
      state TEXT NOT NULL,            -- queued | processing | done | failed | duplicate
      outcome TEXT,                   -- what was done, in words
      outcome_code TEXT,              -- the same as a metrics label
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0, -- epoch ms
      duplicate_of INTEGER,
      metadata TEXT,                  -- JSON, as sent
      finished_at TEXT
    );
    -- The claim query's WHERE must repeat this condition exactly for SQLite to use the partial index.
    CREATE INDEX event_inbox_queued ON event_inbox (id) WHERE state = 'queued';
    CREATE INDEX event_inbox_token ON event_inbox (token, id);
    CREATE INDEX event_inbox_source ON event_inbox (source, id);
    CREATE TABLE webhook_signatures (
      signature TEXT PRIMARY KEY,
      expires_at INTEGER NOT NULL     -- epoch ms: after this the timestamp is stale anyway
    );
    CREATE INDEX webhook_signatures_expiry ON webhook_signatures (expires_at);
    CREATE TABLE intake_poll_set (
      token INTEGER PRIMARY KEY,
      tradingsymbol TEXT,
      first_seen_at TEXT NOT NULL
    );
  `,
};
