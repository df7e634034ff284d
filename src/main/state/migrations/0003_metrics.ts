// Metrics history and alerts (src/main/metrics). History is aggregated per minute: one row per metric, label set
// and minute with count/sum/min/max (and bucket counts for distributions), pruned after several days. Alerts keep
// their whole history; at most one row per rule is firing at a time (the partial unique index says so).
export default {
  version: 3,
  name: 'metrics per minute, alerts, alert thresholds',
  up: `
    CREATE TABLE metric_minutes (
      metric TEXT NOT NULL,            -- e.g. auto_subscribe, time_to_data, ticker_request
      minute INTEGER NOT NULL,         -- minute start, epoch ms (UTC)
      labels TEXT NOT NULL,            -- sorted name=value pairs joined by ','; '' for none
      count INTEGER NOT NULL,          -- observations (events, samples)
      sum REAL NOT NULL,
      min REAL,
      max REAL,
      last REAL,                       -- gauges: the minute's last sample
      buckets TEXT,                    -- distributions: JSON {le: count} per bucket, not cumulative
      PRIMARY KEY (metric, minute, labels)
    ) WITHOUT ROWID;
    CREATE INDEX metric_minutes_minute ON metric_minutes (minute);
    CREATE TABLE metrics_state (
      key TEXT PRIMARY KEY,            -- last_backfill_cycle, feed
      value TEXT NOT NULL,             -- JSON
      updated_at INTEGER NOT NULL      -- epoch ms
    );
    CREATE TABLE data_waits (
      token INTEGER PRIMARY KEY,       -- subscribed by auto-subscribe, no first data yet
      since INTEGER NOT NULL           -- epoch ms of the successful attempt
    );
    CREATE TABLE alerts (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      rule TEXT NOT NULL,              -- auto_subscribe_failures | slow_data | excessive_subscription_calls | feed_stale
      state TEXT NOT NULL,             -- firing | resolved
      message TEXT NOT NULL,
      value REAL,
      threshold REAL,
      fired_at INTEGER NOT NULL,       -- epoch ms
      resolved_at INTEGER,
      resolved_message TEXT
    );
    CREATE UNIQUE INDEX alerts_one_firing ON alerts (rule) WHERE state = 'firing';
    CREATE INDEX alerts_fired_at ON alerts (fired_at DESC);
    CREATE TABLE alert_thresholds (
      key TEXT PRIMARY KEY,
      value REAL NOT NULL,
      updated_at TEXT NOT NULL,
      updated_by TEXT NOT NULL
    );
    CREATE TABLE alert_threshold_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      key TEXT NOT NULL,
      old_value REAL NOT NULL,
      new_value REAL NOT NULL,
      actor TEXT NOT NULL,
      reason TEXT NOT NULL,
      at TEXT NOT NULL
    );
  `,
};
