// The market store's connection: PostgreSQL through `pg` when DATABASE_URL is set, embedded PGlite otherwise.
// Both return the same JS types: int8/numeric as number, date as 'YYYY-MM-DD' text, timestamptz as Date.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { PGlite as PGliteType, PGliteOptions } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import { scopedLogger } from '../log';
import { tightenTree } from '../state/home';
import { unpackPgliteTemplate } from './pglite-template';

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

/** How a PGlite store came to be open: copied from the build's template, made by initdb, or an existing cluster. */
export type PgliteOrigin = 'template' | 'initdb' | 'existing' | 'memory';

export class PgliteDb implements MarketDb {
  readonly backend = 'pglite' as const;
  private readonly tightener: NodeJS.Timeout | null = null;

  constructor(
    readonly pglite: PGliteType,
    private readonly dir?: string,
    readonly origin: PgliteOrigin = dir ? 'existing' : 'memory',
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
  /**
   * The empty-cluster tarball a NEW PGlite directory is copied from instead of running initdb (see
   * scripts/pglite-template.mjs): a path, `false` for initdb always, undefined to look for the build's own
   * (findPgliteTemplate). Ignored for an existing cluster.
   */
  pgliteTemplate?: string | false;
  poolSize?: number;
  /** An idle pooled connection failed (server restart, network): logged; the pool replaces it on the next query. */
  onIdleError?: (err: Error) => void;
  /** Where the PGlite start-up path (template, initdb, existing) is logged; default the `market store` scope. */
  logger?: Logger;
}

/** The template's file name, next to the build output (out/) and among a packaged app's resources. */
export const PGLITE_TEMPLATE_FILE = 'pglite-template.tar.gz';

/**
 * The build's template: a packaged app's resources directory first, then the build output this module was bundled
 * into (out/main/chunks -> out/). Only a few levels up, so running from source (vitest, tsx under src/) does not pick
 * up a template from an unrelated build and keeps today's initdb path. Null when there is none.
 */
export function findPgliteTemplate(): string | null {
  const dirs: string[] = [];
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) dirs.push(resourcesPath);
  try {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 3; i++) {
      dirs.push(dir);
      dir = dirname(dir);
    }
  } catch {
    // No import.meta.url in this bundle format: resources only.
  }
  for (const dir of dirs) {
    const candidate = join(dir, PGLITE_TEMPLATE_FILE);
    if (existsSync(candidate)) return candidate;
  }
  return null;
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
  const dir = options.pgliteDir;
  const log = options.logger ?? scopedLogger('market store');
  // A missing or empty directory is a first start: a new cluster (checkPgliteDir refuses anything else without
  // PG_VERSION).
  const fresh = dir !== undefined && (!existsSync(dir) || readdirSync(dir).length === 0);
  if (dir) {
    checkPgliteDir(dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  // Keep these in step with scripts/pglite-template.mjs (the template is made with the same options).
  const pgliteOptions: PGliteOptions = {
    dataDir: dir,
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
  };
  if (!dir) return new PgliteDb(await PGlite.create(pgliteOptions));
  if (!fresh) {
    log.info({ dir }, 'market store: opening the existing PGlite cluster');
    return new PgliteDb(await PGlite.create(pgliteOptions), dir, 'existing');
  }

  // First start. initdb runs a second PGlite instance and the initdb module beside this one (about 800 MB RSS at
  // peak); unpacking the build's initdb'd empty cluster and opening it as an existing one costs what a restart costs.
  // (Not PGlite's `loadDataDir`: it keeps the whole archive in memory, several times over; see pglite-template.ts.)
  const template = options.pgliteTemplate === false ? null : (options.pgliteTemplate ?? findPgliteTemplate());
  if (template && existsSync(template)) {
    let unpacked = false;
    try {
      await unpackPgliteTemplate(template, dir);
      unpacked = true;
      const pglite = await PGlite.create(pgliteOptions);
      log.info({ dir, template }, 'market store: new PGlite cluster unpacked from the template (no initdb)');
      return new PgliteDb(pglite, dir, 'template');
    } catch (err) {
      // A damaged template (the unpack left the directory as it was) or one PGlite cannot start, from another PGlite
      // build: the directory was empty before the unpack, so what is there now is the template's, ours to remove.
      // initdb then makes the cluster as it always did.
      log.warn({ dir, template, err: (err as Error).message }, 'market store: the PGlite template could not be used; running initdb');
      if (unpacked) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      }
      // Whatever else appeared there meanwhile is refused, not initialised over.
      checkPgliteDir(dir);
    }
  } else {
    log.info({ dir, template: template ?? undefined }, 'market store: no PGlite template; running initdb for the new cluster');
  }
  return new PgliteDb(await PGlite.create(pgliteOptions), dir, 'initdb');
}
