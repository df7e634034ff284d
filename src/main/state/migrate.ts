// Numbered migrations, each applied in its own transaction and recorded in schema_migrations.
// A database whose schema is newer than this build is refused: an old console must not scribble on a new schema.
import type Database from 'better-sqlite3';

export interface SqliteMigration {
  version: number;
  name: string;
  up: string;
}

export class SchemaTooNewError extends Error {
  constructor(store: string, found: number, known: number) {
    super(`${store} schema version ${found} is newer than this build knows (${known}); upgrade Strikedesk`);
    this.name = 'SchemaTooNewError';
  }
}

export function assertMigrationList(migrations: readonly { version: number }[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list must be numbered 1..n without gaps; found ${m.version} at position ${i + 1}`);
  });
}

export function migrateSqlite(db: Database.Database, migrations: readonly SqliteMigration[]): { from: number; to: number } {
  assertMigrationList(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const current = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  const latest = migrations.length;
  if (current > latest) throw new SchemaTooNewError('state store', current, latest);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations.slice(current)) {
    db.transaction(() => {
      db.exec(migration.up);
      record.run(migration.version, migration.name, new Date().toISOString());
    })();
  }
  return { from: current, to: latest };
}
