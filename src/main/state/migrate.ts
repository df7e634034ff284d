// Numbered migrations, each recorded with the sha256 of its SQL. The rules, shared by the state store (SQLite, here)
// and the market store (src/main/market/migrate.ts):
// - Numbers order the migrations but need not be contiguous: helpers working in parallel take numbers ahead of
//   time, so 0001, 0002, 0004 is a valid chain, and a 0003 that arrives later is applied when it appears.
// - An applied migration must never change: its recorded checksum is compared on every start, and a mismatch refuses
//   to start naming the migration (an edited migration would otherwise go unnoticed on existing databases while new
//   ones get the new text). Databases from before checksums have the current text's checksum recorded on first run.
// - A database with a migration this build does not know was written by a newer build: refused, so an old console
//   does not scribble on a new schema.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export type SqliteMigration = Migration;

/** A row of the store's migration table; `checksum` is null for rows written before checksums were recorded. */
export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string | null;
}

export class SchemaTooNewError extends Error {
  constructor(store: string, found: number, known: number, detail?: string) {
    super(detail ?? `${store} schema version ${found} is newer than this build knows (${known}); upgrade Strikedesk`);
    this.name = 'SchemaTooNewError';
  }
}

/** An applied migration whose SQL differs from the text this build carries. */
export class MigrationChangedError extends Error {
  constructor(
    readonly store: string,
    readonly version: number,
    readonly migrationName: string,
    readonly recorded: string,
    readonly current: string,
  ) {
    super(
      `${store} migration ${formatVersion(version)} (${migrationName}) was changed after it was applied ` +
        `(recorded sha256 ${recorded.slice(0, 12)}, this build ${current.slice(0, 12)}); ` +
        'restore its original text and put the change in a new migration',
    );
    this.name = 'MigrationChangedError';
  }
}

export const formatVersion = (version: number): string => String(version).padStart(4, '0');

/** sha256 (hex) of the migration's SQL text, as recorded in the store's migration table. */
export function migrationChecksum(migration: Pick<Migration, 'up'>): string {
  return createHash('sha256').update(migration.up, 'utf8').digest('hex');
}

/** Checks the list (positive integer versions, each once) and returns it in version order. Gaps are allowed. */
export function assertMigrationList<M extends { version: number; name: string }>(migrations: readonly M[]): M[] {
  const seen = new Map<number, string>();
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version < 1)
      throw new Error(`migration ${JSON.stringify(m.name)} has version ${m.version}; versions are positive integers`);
    const other = seen.get(m.version);
    if (other !== undefined) throw new Error(`migration version ${formatVersion(m.version)} is used twice (${other}, ${m.name})`);
    seen.set(m.version, m.name);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}

export interface MigrationPlan<M extends Migration> {
  /** Migrations not yet applied, in version order (gap fillers included). */
  pending: M[];
  /** Applied rows without a checksum (written before checksums existed): record these. */
  backfill: { version: number; checksum: string }[];
  /** Highest applied version before this run (0 when none). */
  from: number;
  /** Highest version this build knows (0 when none). */
  to: number;
}

/** Compares the applied rows with the build's migrations; throws when the store is newer or a migration changed. */
export function planMigrations<M extends Migration>(store: string, migrations: readonly M[], applied: readonly AppliedMigration[]): MigrationPlan<M> {
  const ordered = assertMigrationList(migrations);
  const known = new Map(ordered.map((m) => [m.version, m]));
  const to = ordered.at(-1)?.version ?? 0;
  const from = applied.reduce((max, a) => Math.max(max, Number(a.version)), 0);
  if (from > to) throw new SchemaTooNewError(store, from, to);
  for (const row of applied) {
    if (!known.has(Number(row.version))) {
      throw new SchemaTooNewError(
        store,
        Number(row.version),
        to,
        `${store} has migration ${formatVersion(Number(row.version))} (${row.name}) applied, which this build does not know; upgrade Strikedesk`,
      );
    }
  }
  const backfill: MigrationPlan<M>['backfill'] = [];
  for (const row of [...applied].sort((a, b) => Number(a.version) - Number(b.version))) {
    const migration = known.get(Number(row.version))!;
    const current = migrationChecksum(migration);
    if (row.checksum === null || row.checksum === undefined) backfill.push({ version: migration.version, checksum: current });
    else if (row.checksum !== current) throw new MigrationChangedError(store, migration.version, migration.name, row.checksum, current);
  }
  const appliedVersions = new Set(applied.map((a) => Number(a.version)));
  return { pending: ordered.filter((m) => !appliedVersions.has(m.version)), backfill, from, to };
}

/**
 * Brings a SQLite store up to date: checks the applied migrations' checksums, then applies each missing migration in
 * version order, each in its own transaction with its row in schema_migrations.
 */
export function migrateSqlite(db: Database.Database, migrations: readonly SqliteMigration[]): { from: number; to: number } {
  const plan = db
    .transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL, checksum TEXT)`);
      const columns = db.prepare('PRAGMA table_info(schema_migrations)').all() as { name: string }[];
      // Stores from before checksums: add the column; the plan records each applied migration's checksum below.
      if (!columns.some((c) => c.name === 'checksum')) db.exec('ALTER TABLE schema_migrations ADD COLUMN checksum TEXT');
      const applied = db.prepare('SELECT version, name, checksum FROM schema_migrations').all() as AppliedMigration[];
      const planned = planMigrations('state store', migrations, applied);
      const record = db.prepare('UPDATE schema_migrations SET checksum = ? WHERE version = ?');
      for (const b of planned.backfill) record.run(b.checksum, b.version);
      return planned;
    })
    .immediate();
  const insert = db.prepare('INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES (?, ?, ?, ?)');
  for (const migration of plan.pending) {
    db.transaction(() => {
      db.exec(migration.up);
      insert.run(migration.version, migration.name, new Date().toISOString(), migrationChecksum(migration));
    })();
  }
  return { from: plan.from, to: plan.to };
}
