// The market store's connection: PostgreSQL through `pg` when DATABASE_URL is set, embedded PGlite otherwise.
// Both return the same JS types: int8/numeric as number, date as 'YYYY-MM-DD' text, timestamptz as Date.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import pg from 'pg';
import type { PGlite as PGliteType } from '@electric-sql/pglite';
import { tightenTree } from '../state/home';

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

/**
 * PGlite's WASM file layer sets its own file modes (0666) whatever the process umask is. The directory is 0700, so
 * nobody else can reach the files; they are still made owner-only at open, every minute and at close, so a copied or
 * re-permissioned directory does not hand the bars (or pg_hba.conf) to other users.
 */
const TIGHTEN_EVERY_MS = 60_000;

class PgliteDb implements MarketDb {
  readonly backend = 'pglite' as const;
  private readonly tightener: NodeJS.Timeout | null = null;

  constructor(
    readonly pglite: PGliteType,
    private readonly dir?: string,
  ) {
    if (dir) {
      this.tighten();
      this.tightener = setInterval(() => this.tighten(), TIGHTEN_EVERY_MS);
      this.tightener.unref();
    }
  }

  private tighten(): void {
    if (!this.dir) return;
    try {
      tightenTree(this.dir);
    } catch {
      // A file PGlite removed between readdir and chmod: the next pass sees the new state.
    }
  }

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
    if (this.tightener) clearInterval(this.tightener);
    if (!this.pglite.closed) await this.pglite.close();
    this.tighten();
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

/**
 * PGlite initialises a directory without PG_VERSION as a NEW cluster, over whatever is there: a damaged or half-copied
 * market store would be silently replaced by an empty one. Refuse instead, naming the directory.
 */
export function checkPgliteDir(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes('PG_VERSION')) {
    throw new Error(
      `the market store directory ${dir} is not empty but has no PG_VERSION: it is not a PGlite data directory (or it is damaged). ` +
        'Strikedesk will not initialise over it: restore it, move it aside, or set STRIKEDESK_HOME to another directory.',
    );
  }
}

/** PGlite's shared_buffers (see openMarketDb). */
export const PGLITE_SHARED_BUFFERS = '16MB';

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
  if (options.pgliteDir) {
    checkPgliteDir(options.pgliteDir);
    mkdirSync(options.pgliteDir, { recursive: true, mode: 0o700 });
  }
  const pglite = await PGlite.create({
    dataDir: options.pgliteDir,
    relaxedDurability: false,
    // PGlite keeps PostgreSQL's 128 MB shared_buffers default, resident in the WASM heap once touched, on top of the
    // file layer's own copy of the pages: the buffers double what is already in memory. A smaller pool keeps the
    // console's RSS lower (bench:memory). Passed as a start parameter, not `postgresqlconf`, which would replace the
    // postgresql.conf initdb wrote (timezone, datestyle, locale settings) with only this line.
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
    parsers: {
      [INT8]: (v: string) => Number(v),
      [NUMERIC]: (v: string) => Number(v),
      [DATE]: (v: string) => v,
    },
  });
  return new PgliteDb(pglite, options.pgliteDir);
}
