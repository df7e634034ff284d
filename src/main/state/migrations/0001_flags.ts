export default {
  version: 1,
  name: 'flags, audit, settings',
  up: `
    CREATE TABLE flags (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,          -- JSON
      updated_at TEXT NOT NULL,
      updated_by TEXT NOT NULL
    );
    CREATE TABLE flag_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      key TEXT NOT NULL,
      old_value TEXT,               -- JSON, null for the first change from the default
      new_value TEXT NOT NULL,
      actor TEXT NOT NULL,
      reason TEXT NOT NULL,
      at TEXT NOT NULL
    );
    CREATE INDEX flag_audit_at ON flag_audit (at DESC);
    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `,
};
