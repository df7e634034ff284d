// The registry export: the devticker has no /instruments route in the production profile (nor has the real
// service), so it writes its registry where a console pointed at a real service reads one: a Kite-format CSV file,
// and/or the service's Postgres table `instrument_registry`. Both are rewritten whenever the registry is
// regenerated (a new IST date).
import { renameSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import type { Logger } from './core';
import type { Registry } from './registry';

export interface RegistryExportOptions {
  /** write the Kite CSV here (atomically) */
  csvPath?: string;
  /** a postgres:// URL: upsert into instrument_registry (created if missing) */
  dbUrl?: string;
  /** column type of `expiry` when the table is created: TEXT as the real service, or DATE as some deployments have */
  dbExpiryType?: 'text' | 'date';
  logger: Logger;
}

/** The real table's columns (section 2 of the ticker contract). */
export function createTableSql(expiryType: 'text' | 'date' = 'text'): string {
  return `CREATE TABLE IF NOT EXISTS instrument_registry (
  instrument_token BIGINT PRIMARY KEY,
  tradingsymbol TEXT NOT NULL,
  name TEXT,
  segment TEXT,
  instrument_type TEXT,
  strike DOUBLE PRECISION,
  expiry ${expiryType === 'date' ? 'DATE' : 'TEXT'},
  tick_size DOUBLE PRECISION,
  lot_size INTEGER,
  exchange TEXT,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  last_refreshed_at TIMESTAMPTZ
)`;
}

export function writeKiteCsv(path: string, registry: Registry): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, registry.toKiteCsv());
  renameSync(tmp, path);
}

/** `expiryDate`: the existing table's expiry column is DATE (the text is cast; otherwise it is stored as TEXT). */
const upsertSql = (expiryDate: boolean): string => `INSERT INTO instrument_registry
  (instrument_token, tradingsymbol, name, segment, instrument_type, strike, expiry, tick_size, lot_size, exchange, is_active, last_refreshed_at)
SELECT t.a, t.b, t.c, t.d, t.e, t.f, t.g${expiryDate ? '::date' : ''}, t.h, t.i, t.j, t.k, t.l
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::float8[], $9::int[], $10::text[], $11::bool[], $12::timestamptz[])
  AS t(a, b, c, d, e, f, g, h, i, j, k, l)
ON CONFLICT (instrument_token) DO UPDATE SET
  tradingsymbol = EXCLUDED.tradingsymbol, name = EXCLUDED.name, segment = EXCLUDED.segment,
  instrument_type = EXCLUDED.instrument_type, strike = EXCLUDED.strike, expiry = EXCLUDED.expiry,
  tick_size = EXCLUDED.tick_size, lot_size = EXCLUDED.lot_size, exchange = EXCLUDED.exchange,
  is_active = EXCLUDED.is_active, last_refreshed_at = EXCLUDED.last_refreshed_at`;

/**
 * Upserts every instrument (expired contracts as is_active = false, as the service keeps them) in one transaction;
 * rows of tokens the registry no longer knows are marked inactive. Parameterised, batched through unnest.
 */
export async function writeInstrumentTable(url: string, registry: Registry, expiryType: 'text' | 'date' = 'text'): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(createTableSql(expiryType));
    const typed = await client.query<{ data_type: string }>(
      "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'instrument_registry' AND column_name = 'expiry'",
    );
    const sql = upsertSql(typed.rows[0]?.data_type === 'date');
    const rows = registry.kiteRows('all');
    const refreshed = new Date(registry.refreshedAt).toISOString();
    const BATCH = 5000;
    for (let i = 0; i < rows.length; i += BATCH) {
      const b = rows.slice(i, i + BATCH);
      await client.query(sql, [
        b.map((r) => r.instrument_token),
        b.map((r) => r.tradingsymbol),
        b.map((r) => r.name),
        b.map((r) => r.segment),
        b.map((r) => r.instrument_type),
        b.map((r) => r.strike),
        b.map((r) => r.expiry),
        b.map((r) => r.tick_size),
        b.map((r) => r.lot_size),
        b.map((r) => r.exchange),
        b.map((r) => r.is_active),
        b.map(() => refreshed),
      ]);
    }
    await client.query('UPDATE instrument_registry SET is_active = FALSE WHERE is_active AND NOT (instrument_token = ANY($1::bigint[]))', [
      rows.map((r) => r.instrument_token),
    ]);
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}

/** Strips the password from a connection URL for messages. */
export function redactDbUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** Writes one registry to every configured target; the promise of the latest write is kept for start-up and tests. */
export class RegistryExporter {
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RegistryExportOptions) {}

  get enabled(): boolean {
    return Boolean(this.opts.csvPath || this.opts.dbUrl);
  }

  export(registry: Registry): Promise<void> {
    const { csvPath, dbUrl, logger } = this.opts;
    const job = this.pending.then(async () => {
      if (csvPath) {
        try {
          writeKiteCsv(csvPath, registry);
        } catch (err) {
          throw new Error(`devticker: --instruments-csv ${csvPath} cannot be written: ${(err as Error).message}`, { cause: err });
        }
        logger.info({ path: csvPath, instruments: registry.live.length, date: registry.date }, 'devticker registry written as Kite CSV');
      }
      if (dbUrl) {
        let n: number;
        try {
          n = await writeInstrumentTable(dbUrl, registry, this.opts.dbExpiryType);
        } catch (err) {
          throw new Error(`devticker: --instrument-db ${redactDbUrl(dbUrl)}: instrument_registry not written: ${(err as Error).message}`, { cause: err });
        }
        logger.info({ db: redactDbUrl(dbUrl), rows: n, date: registry.date }, 'devticker registry written to instrument_registry');
      }
    });
    this.pending = job.catch((err: unknown) => logger.error({ err: (err as Error).message }, 'devticker registry export failed'));
    return job;
  }

  /** Resolves when every export started so far has finished (errors logged). */
  settled(): Promise<void> {
    return this.pending;
  }
}
