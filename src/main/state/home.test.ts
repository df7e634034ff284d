// The data directory (issue 14): private files, one console per home, a damaged store named, never re-initialised.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPgliteDir, openMarketDb } from '../market/db';
import { HomeLockedError, lockHome, prepareHome, tightenTree, type HomeLock } from './home';
import { StateStore } from './store';

const tempHome = () => mkdtempSync(join(tmpdir(), 'sd-home-'));
const mode = (path: string) => statSync(path).mode & 0o777;
const locks: HomeLock[] = [];
const originalUmask = process.umask();
afterEach(() => {
  for (const l of locks.splice(0)) l.release();
  process.umask(originalUmask);
});

describe('private data directory', () => {
  it('creates the home 0700 and sets umask 077 before any store opens', () => {
    const home = join(tempHome(), 'nested', 'home');
    const prepared = prepareHome(home);
    locks.push(prepared.lock);
    expect(mode(home)).toBe(0o700);
    expect(process.umask()).toBe(0o077);
    expect(prepared.warnings).toEqual([]);
    writeFileSync(join(home, 'probe'), 'x');
    expect(mode(join(home, 'probe'))).toBe(0o600);
  });

  it('warns about a home other users can read and makes it 0700', () => {
    const home = tempHome();
    chmodSync(home, 0o755);
    const prepared = prepareHome(home);
    locks.push(prepared.lock);
    expect(prepared.warnings.join('\n')).toMatch(/readable by other users \(mode 755\)/);
    expect(mode(home)).toBe(0o700);
  });

  it('state.db, its WAL and shm are 0600 whatever the umask (the generated webhook secret lives there)', () => {
    const home = tempHome();
    process.umask(0o000);
    const store = new StateStore(join(home, 'state.db'));
    store.migrate();
    store.setSetting('webhook.secret', 'x'.repeat(40));
    for (const name of readdirSync(home).filter((n) => n.startsWith('state.db'))) expect(mode(join(home, name)), name).toBe(0o600);
    expect(readdirSync(home)).toContain('state.db-wal');
    store.close();
  });

  it('existing world-accessible files of the market store are made owner-only at start', () => {
    const home = tempHome();
    mkdirSync(join(home, 'market', 'global'), { recursive: true });
    writeFileSync(join(home, 'market', 'pg_hba.conf'), 'trust');
    writeFileSync(join(home, 'market', 'global', '1261'), 'x');
    chmodSync(join(home, 'market', 'pg_hba.conf'), 0o666);
    chmodSync(join(home, 'market', 'global', '1261'), 0o666);
    chmodSync(join(home, 'market', 'global'), 0o777);
    const prepared = prepareHome(home);
    locks.push(prepared.lock);
    expect(mode(join(home, 'market', 'pg_hba.conf'))).toBe(0o600);
    expect(mode(join(home, 'market', 'global', '1261'))).toBe(0o600);
    expect(mode(join(home, 'market', 'global'))).toBe(0o700);
    expect(prepared.warnings.join('\n')).toMatch(/4 files of the market store/); // market, global, pg_hba.conf, 1261;
  });

  it('PGlite files are not group- or world-accessible after open and close', async () => {
    const dir = join(tempHome(), 'market');
    const db = await openMarketDb({ pgliteDir: dir });
    await db.exec('CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
    const open = countAccessible(dir);
    await db.close();
    expect(open).toBe(0);
    expect(countAccessible(dir)).toBe(0);
  }, 60_000);

  it('tightenTree leaves the owner bits alone', () => {
    const dir = tempHome();
    writeFileSync(join(dir, 'a'), 'x');
    chmodSync(join(dir, 'a'), 0o755);
    expect(tightenTree(dir)).toBe(1);
    expect(mode(join(dir, 'a'))).toBe(0o700);
  });
});

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

describe('one console per home', () => {
  it('a second lock on the same home is refused, naming the holder pid; free again after release', () => {
    const home = tempHome();
    const first = lockHome(home);
    let caught: unknown;
    try {
      lockHome(home);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HomeLockedError);
    expect((caught as Error).message).toContain(`pid ${process.pid}`);
    expect((caught as Error).message).toContain(home);
    first.release();
    locks.push(lockHome(home));
  });

  it('another process holding the home is named; its lock goes when it is killed -9', async () => {
    const home = tempHome();
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(${JSON.stringify(join(home, 'console.lock'))});
      db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE');
      require('fs').writeFileSync(${JSON.stringify(join(home, 'console.pid'))}, String(process.pid));
      process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(() => lockHome(home)).toThrow(new RegExp(`pid ${child.pid}\\b`));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    locks.push(lockHome(home));
    expect(readFileSync(join(home, 'console.pid'), 'utf8').trim()).toBe(String(process.pid));
  });
});

describe('damaged stores', () => {
  it('a corrupt state.db names the file', () => {
    const home = tempHome();
    const path = join(home, 'state.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const attempt = () => {
      const s = new StateStore(path);
      s.migrate();
    };
    expect(attempt).toThrow(path);
    expect(attempt).toThrow(/damaged/);
  });

  it('a non-empty PGlite directory without PG_VERSION is refused, naming it, and left untouched', async () => {
    const dir = join(tempHome(), 'market');
    mkdirSync(join(dir, 'base'), { recursive: true });
    writeFileSync(join(dir, 'base', '16384'), 'old bars');
    expect(() => checkPgliteDir(dir)).toThrow(dir);
    await expect(openMarketDb({ pgliteDir: dir })).rejects.toThrow(/not empty but has no PG_VERSION/);
    expect(readdirSync(dir)).toEqual(['base']);
    expect(readFileSync(join(dir, 'base', '16384'), 'utf8')).toBe('old bars');
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false);
  });

  it('an empty or absent directory is fine (first start)', () => {
    const home = tempHome();
    expect(() => checkPgliteDir(join(home, 'absent'))).not.toThrow();
    mkdirSync(join(home, 'empty'));
    expect(() => checkPgliteDir(join(home, 'empty'))).not.toThrow();
  });
});
