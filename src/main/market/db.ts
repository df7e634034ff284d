// The market store's connection: PostgreSQL through `pg` when DATABASE_URL is set, embedded PGlite otherwise.
// Both return the same JS types: int8/numeric as number, date as 'YYYY-MM-DD' text, timestamptz as Date.
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import type { PGlite as PGliteType } from '@electric-sql/pglite';

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface MarketDb extends Queryable {
  readonly backend: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;

const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
    if (oid === DATE) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

class PostgresDb implements MarketDb {
  readonly backend = 'postgres' as const;
  constructor(readonly pool: pg.Pool) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.pool.query(sql, params);
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx: Queryable = {
      query: async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[],
      exec: async (sql: string) => {
        await client.query(sql);
      },
    };
    try {
      await client.query('BEGIN');
      const value = await fn(tx);
      await client.query('COMMIT');
      return value;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PgliteDb implements MarketDb {
  readonly backend = 'pglite' as const;
  constructor(readonly pglite: PGliteType) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.pglite.query<T>(sql, params);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pglite.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pglite.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params: unknown[] = []) => (await t.query<R>(sql, params)).rows,
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}

export interface OpenMarketDbOptions {
  databaseUrl?: string;
  /** PGlite data directory; undefined = in memory (tests). */
  pgliteDir?: string;
  poolSize?: number;
  /** An idle pooled connection failed (server restart, network): logged; the pool replaces it on the next query. */
  onIdleError?: (err: Error) => void;
}

export async function openMarketDb(options: OpenMarketDbOptions): Promise<MarketDb> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 8, types: pgTypes });
    // Without a listener, pg re-emits an idle client's error (the server restarted, a DBA terminated the backend) as
    // an uncaught exception that takes the whole console down. The broken client is discarded by the pool anyway.
    pool.on('error', (err) => options.onIdleError?.(err));
    // Fail at start-up, with the reason, rather than at the first query.
    const client = await pool.connect();
    client.release();
    return new PostgresDb(pool);
  }
  const { PGlite } = await import('@electric-sql/pglite');
  if (options.pgliteDir) mkdirSync(options.pgliteDir, { recursive: true });
  const pglite = await PGlite.create({
    dataDir: options.pgliteDir,
    relaxedDurability: false,
    parsers: {
      [INT8]: (v: string) => Number(v),
      [NUMERIC]: (v: string) => Number(v),
      [DATE]: (v: string) => v,
    },
  });
  return new PgliteDb(pglite);
}
