// Market store migrations: one transaction under an advisory lock (several consoles may share one Postgres). The
// rules (checksums, gaps allowed, a newer schema refused) are the state store's: see src/main/state/migrate.ts.
// TimescaleDB hypertables only when the extension is available.
import type { MarketDb } from './db';
import { migrationChecksum, planMigrations, type AppliedMigration } from '../state/migrate';
import { MARKET_MIGRATIONS, type MarketMigration } from './migrations';

const MIGRATION_LOCK = 727_001;

export async function migrateMarket(db: MarketDb, migrations: readonly MarketMigration[] = MARKET_MIGRATIONS): Promise<{ from: number; to: number }> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS strikedesk_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), checksum text)`);
    // Stores from before checksums: add the column; the plan records each applied migration's checksum below.
    await tx.exec('ALTER TABLE strikedesk_migrations ADD COLUMN IF NOT EXISTS checksum text');
    const applied = await tx.query<AppliedMigration>('SELECT version, name, checksum FROM strikedesk_migrations');
    const plan = planMigrations('market store', migrations, applied);
    for (const b of plan.backfill) await tx.query('UPDATE strikedesk_migrations SET checksum = $1 WHERE version = $2', [b.checksum, b.version]);
    for (const migration of plan.pending) {
      await tx.exec(migration.up);
      await tx.query('INSERT INTO strikedesk_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migrationChecksum(migration),
      ]);
    }
    return { from: plan.from, to: plan.to };
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
