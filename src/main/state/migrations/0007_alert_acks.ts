// Operators answer alerts: an acknowledgement belongs to one firing (who took it, when, why); a silence belongs to a
// rule for a while (who, when, why, until when), so a rule that fires again inside its silence stays quiet too.
// A silence lifted early keeps its row, with who lifted it and when: the history of who muted what stays.
// metric_slots: the metrics history again in 15-second slots, kept about an hour and a half, so a 15-minute chart
// has 15-second buckets (metric_minutes stays the long history).
export default {
  version: 7,
  name: 'alert acknowledgements and silences, 15-second metric slots',
  up: `
    ALTER TABLE alerts ADD COLUMN acked_by TEXT;
    ALTER TABLE alerts ADD COLUMN acked_at INTEGER;      -- epoch ms
    ALTER TABLE alerts ADD COLUMN ack_reason TEXT;
    CREATE TABLE alert_silences (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      rule TEXT NOT NULL,
      actor TEXT NOT NULL,
      reason TEXT NOT NULL,
      created_at INTEGER NOT NULL,     -- epoch ms
      until INTEGER NOT NULL,          -- epoch ms, exclusive
      lifted_at INTEGER,               -- set when lifted before its end
      lifted_by TEXT
    );
    CREATE INDEX alert_silences_rule ON alert_silences (rule, until);
    CREATE TABLE metric_slots (
      metric TEXT NOT NULL,
      minute INTEGER NOT NULL,         -- slot start (15 s slots), epoch ms (UTC); named as in metric_minutes
      labels TEXT NOT NULL,
      count INTEGER NOT NULL,
      sum REAL NOT NULL,
      min REAL,
      max REAL,
      last REAL,
      buckets TEXT,
      PRIMARY KEY (metric, minute, labels)
    ) WITHOUT ROWID;
    CREATE INDEX metric_slots_minute ON metric_slots (minute);
  `,
};
