// The PostgreSQL market store survives a server-side kill of an idle pooled connection: the error is reported, not
// thrown as an uncaught exception (which would take the console down), and the next query gets a fresh connection.
// A new PGlite store is copied from the build's template (no initdb), is the same cluster initdb would have made, and
// falls back to initdb when there is no template or a bad one.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMarketDb, PgliteDb, type MarketDb, type PgliteOrigin } from './db';
import { unpackPgliteTemplate } from './pglite-template';
import { migrateMarket } from './migrate';
import { MARKET_MIGRATIONS } from './migrations';

const url = process.env.DATABASE_URL;
if (!url) process.stdout.write('market db (PostgreSQL) tests skipped: DATABASE_URL is not set\n');

describe.skipIf(!url)('PostgreSQL market store', () => {
  it('reports an idle connection killed by the server and carries on with a new one', async () => {
    const errors: string[] = [];
    const db = await openMarketDb({ databaseUrl: url, poolSize: 1, onIdleError: (err) => errors.push(err.message) });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const [{ pid }] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const [{ killed }] = (await admin.query('SELECT pg_terminate_backend($1) AS killed', [pid])).rows as { killed: boolean }[];
      expect(killed).toBe(true);
      await expect.poll(() => errors[0], { message: 'the idle error reported', timeout: 5_000 }).toMatch(/terminat/i);
      const [{ pid: next }] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(next).not.toBe(pid);
    } finally {
      await admin.end();
      await db.close();
    }
  });
});

// The build script's own function (a plain .mjs, imported by URL so the typecheck does not need its declarations).
type BuildTemplate = (outFile: string) => Promise<number>;
async function buildTemplate(outFile: string): Promise<number> {
  const url = pathToFileURL(resolve(__dirname, '../../../scripts/pglite-template.mjs')).href;
  const { buildPgliteTemplate } = (await import(/* @vite-ignore */ url)) as { buildPgliteTemplate: BuildTemplate };
  return buildPgliteTemplate(outFile);
}

function capturingLogger(): { logger: pino.Logger; lines: () => { msg: string; template?: string }[] } {
  const out: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void out.push(line) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as { msg: string; template?: string }) };
}

function originOf(db: MarketDb): PgliteOrigin {
  expect(db).toBeInstanceOf(PgliteDb);
  return (db as PgliteDb).origin;
}

/** Files or directories other users could reach. */
function countAccessible(dir: string): number {
  let n = 0;
  const walk = (p: string) => {
    const s = statSync(p);
    if (s.mode & 0o077) n++;
    if (s.isDirectory()) for (const c of readdirSync(p)) walk(join(p, c));
  };
  walk(dir);
  return n;
}

/** What a cluster is, apart from its data: its settings, databases and roles. */
async function clusterShape(db: MarketDb) {
  // plpgsql.* settings exist once the session has loaded plpgsql (a migration's trigger function does): a property of
  // the session, not of the cluster.
  const settings = await db.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name NOT LIKE 'plpgsql.%' ORDER BY name");
  const databases = await db.query('SELECT datname, pg_encoding_to_char(encoding) AS encoding, datcollate, datctype FROM pg_database ORDER BY datname');
  const roles = await db.query('SELECT rolname, rolsuper FROM pg_roles ORDER BY rolname');
  const catalog = await db.query('SELECT count(*)::int AS n FROM pg_class');
  return { settings, databases, roles, catalog };
}

/** A NUL-terminated text field of a tar header. */
const tarText = (tar: Buffer, from: number, length: number) => tar.toString('latin1', from, from + length).replace(/\0.*$/s, '');

/**
 * Rewrites the cluster's PG_VERSION inside an uncompressed tarball, in place and at the same length (a tar's checksum
 * covers its headers, not the data). False when the tarball has no PG_VERSION.
 */
function setPgVersion(tar: Buffer, change: (version: string) => string): boolean {
  for (let at = 0; at + 512 <= tar.length;) {
    const name = tarText(tar, at, 100);
    const size = parseInt(tarText(tar, at + 124, 12).trim() || '0', 8);
    if (name === '' && size === 0) return false;
    if (name.replace(/^\//, '') === 'PG_VERSION') {
      const version = tar.toString('latin1', at + 512, at + 512 + size).trim();
      const next = change(version);
      expect(next.length).toBe(version.length);
      tar.write(next, at + 512, 'latin1');
      return true;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return false;
}

/** A ustar header (checksum included) for a test archive. */
function tarHeader(name: string, size: number, type = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'latin1');
  header.write('0000600\0', 100, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\u000000', 257, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

const PGLITE_TIMEOUT = 240_000;

describe('PGlite market store from the build template', () => {
  let work: string;
  let template: string;
  let templateStore: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sd-pglite-template-'));
    template = join(work, 'build', 'pglite-template.tar.gz');
    templateStore = join(work, 'home-a', 'market');
    const size = await buildTemplate(template);
    expect(size).toBe(statSync(template).size);
    expect(size).toBeGreaterThan(100_000); // a whole cluster, gzipped
  }, PGLITE_TIMEOUT);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(
    'a new directory opens from the template, migrates, answers, stays private and is reused on restart',
    async () => {
      const log = capturingLogger();
      const db = await openMarketDb({ pgliteDir: templateStore, pgliteTemplate: template, logger: log.logger });
      try {
        expect(originOf(db)).toBe('template');
        expect(log.lines().map((l) => l.msg)).toContain('market store: new PGlite cluster unpacked from the template (no initdb)');
        const migrated = await migrateMarket(db);
        expect(migrated).toEqual({ from: 0, to: MARKET_MIGRATIONS[MARKET_MIGRATIONS.length - 1].version });
        const versions = await db.query<{ version: number }>('SELECT version FROM strikedesk_migrations ORDER BY version');
        expect(versions.map((v) => v.version)).toEqual(MARKET_MIGRATIONS.map((m) => m.version));
        await db.query('INSERT INTO instrument_registry (instrument_token, tradingsymbol, name, strike, expiry) VALUES ($1, $2, $3, $4, $5)', [
          12_345_678,
          'NIFTY26DEC24000CE',
          'NIFTY',
          24_000,
          '2026-12-31',
        ]);
        expect(countAccessible(templateStore)).toBe(0);
      } finally {
        await db.close();
      }
      expect(countAccessible(templateStore)).toBe(0);

      const again = capturingLogger();
      const reopened = await openMarketDb({ pgliteDir: templateStore, pgliteTemplate: template, logger: again.logger });
      try {
        expect(originOf(reopened)).toBe('existing');
        expect(await migrateMarket(reopened)).toEqual({
          from: MARKET_MIGRATIONS[MARKET_MIGRATIONS.length - 1].version,
          to: MARKET_MIGRATIONS[MARKET_MIGRATIONS.length - 1].version,
        });
        const rows = await reopened.query<{ instrument_token: number; strike: number }>(
          'SELECT instrument_token, strike FROM instrument_registry WHERE name = $1',
          ['NIFTY'],
        );
        expect(rows).toEqual([{ instrument_token: 12_345_678, strike: 24_000 }]);
        expect(countAccessible(templateStore)).toBe(0);
      } finally {
        await reopened.close();
      }
    },
    PGLITE_TIMEOUT,
  );

  it(
    'without a template file, initdb makes the cluster; it is the same cluster the template gives',
    async () => {
      const dir = join(work, 'home-b', 'market');
      const log = capturingLogger();
      const db = await openMarketDb({ pgliteDir: dir, pgliteTemplate: join(work, 'absent.tar.gz'), logger: log.logger });
      let initdbShape: Awaited<ReturnType<typeof clusterShape>>;
      try {
        expect(originOf(db)).toBe('initdb');
        expect(log.lines().map((l) => l.msg)).toContain('market store: no PGlite template; running initdb for the new cluster');
        await migrateMarket(db);
        initdbShape = await clusterShape(db);
        expect(countAccessible(dir)).toBe(0);
      } finally {
        await db.close();
      }
      const fromTemplate = await openMarketDb({ pgliteDir: templateStore, pgliteTemplate: false });
      try {
        const shape = await clusterShape(fromTemplate);
        expect(shape.settings.length).toBeGreaterThan(100);
        expect(shape).toEqual(initdbShape);
      } finally {
        await fromTemplate.close();
      }
    },
    PGLITE_TIMEOUT,
  );

  it(
    'a damaged template is refused and leaves nothing behind, and initdb makes the cluster',
    async () => {
      const bad = join(work, 'damaged.tar.gz');
      writeFileSync(bad, readFileSync(template).subarray(0, 200_000)); // a build cut short
      const probe = join(work, 'probe', 'market');
      await expect(unpackPgliteTemplate(bad, probe)).rejects.toThrow(`the PGlite template ${bad} is not a whole gzip file`);
      const notTar = join(work, 'not-a-tar.tar.gz');
      writeFileSync(notTar, gzipSync(Buffer.alloc(4096, 'x')));
      await expect(unpackPgliteTemplate(notTar, probe)).rejects.toThrow(`the PGlite template ${notTar} is not a usable cluster archive: TAR_ENTRY_INVALID`);
      // A tar cut mid-file inside a whole gzip stream (the gzip layer is fine, the archive is not).
      const cut = join(work, 'cut.tar.gz');
      writeFileSync(cut, gzipSync(Buffer.concat([tarHeader('PG_VERSION', 3000), Buffer.alloc(1000, 0x31)])));
      await expect(unpackPgliteTemplate(cut, probe)).rejects.toThrow(`the PGlite template ${cut} is not a usable cluster archive`);
      // Links and other entry types are refused, not skipped, even when the rest would make a cluster.
      const linked = join(work, 'linked.tar.gz');
      const link = tarHeader('PG_VERSION', 0, '2');
      link.write('/etc/passwd', 157, 'latin1'); // linkname
      link.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of link) sum += b;
      link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      writeFileSync(linked, gzipSync(Buffer.concat([link, Buffer.alloc(1024)])));
      await expect(unpackPgliteTemplate(linked, probe)).rejects.toThrow('entry PG_VERSION is neither a file nor a directory (type SymbolicLink)');
      const fifo = join(work, 'fifo.tar.gz');
      writeFileSync(fifo, gzipSync(Buffer.concat([tarHeader('base/pipe', 0, '6'), Buffer.alloc(1024)])));
      await expect(unpackPgliteTemplate(fifo, probe)).rejects.toThrow('entry base/pipe is neither a file nor a directory (type FIFO)');
      // A rooted name is the cluster's root (PGlite's own format); climbing out of it is refused.
      const rootedEscape = join(work, 'rooted-escape.tar.gz');
      writeFileSync(rootedEscape, gzipSync(Buffer.concat([tarHeader('/base/../../outside', 0), Buffer.alloc(1024)])));
      await expect(unpackPgliteTemplate(rootedEscape, probe)).rejects.toThrow('leaves the directory');
      const escaping = join(work, 'escaping.tar.gz');
      writeFileSync(escaping, gzipSync(Buffer.concat([tarHeader('../outside', 0), Buffer.alloc(1024)])));
      await expect(unpackPgliteTemplate(escaping, probe)).rejects.toThrow('entry ../outside leaves the directory');
      const empty = join(work, 'empty.tar.gz');
      writeFileSync(empty, gzipSync(Buffer.concat([tarHeader('base/', 0, '5'), Buffer.alloc(1024)])));
      await expect(unpackPgliteTemplate(empty, probe)).rejects.toThrow('holds no cluster (no PG_VERSION)');
      // Nothing of the failed unpacks is left: no store directory, no staging directory, nothing outside.
      expect(readdirSync(join(work, 'probe'))).toEqual([]);
      expect(readdirSync(work)).not.toContain('outside');

      const dir = join(work, 'home-c', 'market');
      const log = capturingLogger();
      const db = await openMarketDb({ pgliteDir: dir, pgliteTemplate: bad, logger: log.logger });
      try {
        expect(originOf(db)).toBe('initdb');
        expect(log.lines().find((l) => l.msg === 'market store: the PGlite template could not be used; running initdb')?.template).toBe(bad);
        await migrateMarket(db);
        expect(await db.query<{ n: number }>('SELECT count(*)::int AS n FROM strikedesk_migrations')).toEqual([{ n: MARKET_MIGRATIONS.length }]);
      } finally {
        await db.close();
      }
    },
    PGLITE_TIMEOUT,
  );

  it(
    'a template PGlite cannot start (another major version) is removed and initdb makes the cluster',
    async () => {
      const tar = gunzipSync(readFileSync(template));
      expect(setPgVersion(tar, (version) => String(Number(version) - 2))).toBe(true);
      const older = join(work, 'older.tar.gz');
      writeFileSync(older, gzipSync(tar));

      const dir = join(work, 'home-d', 'market');
      const log = capturingLogger();
      const db = await openMarketDb({ pgliteDir: dir, pgliteTemplate: older, logger: log.logger });
      try {
        expect(originOf(db)).toBe('initdb');
        expect(log.lines().map((l) => l.msg)).toContain('market store: the PGlite template could not be used; running initdb');
        // The directory holds initdb's cluster of the running server's major version, not the copy's.
        const [{ major }] = await db.query<{ major: number }>("SELECT current_setting('server_version_num')::int / 10000 AS major");
        expect(readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim()).toBe(String(major));
        expect(countAccessible(dir)).toBe(0);
      } finally {
        await db.close();
      }
    },
    PGLITE_TIMEOUT,
  );
});
