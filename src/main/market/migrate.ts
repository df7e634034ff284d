// Market store migrations: one transaction under an advisory lock (several consoles may share one Postgres),
// refusing a schema newer than this build. TimescaleDB hypertables only when the extension is available.
import type { MarketDb } from './db';
import { assertMigrationList, SchemaTooNewError } from '../state/migrate';
import { MARKET_MIGRATIONS, type MarketMigration } from './migrations';

const MIGRATION_LOCK = 727_001;

export async function migrateMarket(db: MarketDb, migrations: readonly MarketMigration[] = MARKET_MIGRATIONS): Promise<{ from: number; to: number }> {
  assertMigrationList(migrations);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS strikedesk_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const [{ v }] = await tx.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM strikedesk_migrations');
    if (v > migrations.length) throw new SchemaTooNewError('market store', v, migrations.length);
    for (const migration of migrations.slice(v)) {
      await tx.exec(migration.up);
      await tx.query('INSERT INTO strikedesk_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    }
    return { from: v, to: migrations.length };
  });
}

/** Turns the bar tables into hypertables when TimescaleDB can be created; a no-op elsewhere (PGlite, plain PG). */
export async function enableTimescale(db: MarketDb): Promise<boolean> {
  if (db.backend !== 'postgres') return false;
  const available = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'timescaledb'");
  if (!available[0]?.n) return false;
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    await db.exec("SELECT create_hypertable('fo_strike_bars', 'bucket', if_not_exists => TRUE, migrate_data => TRUE)");
    await db.exec("SELECT create_hypertable('instrument_bars', 'bucket', if_not_exists => TRUE, migrate_data => TRUE)");
    return true;
  } catch {
    return false;
  }
}
