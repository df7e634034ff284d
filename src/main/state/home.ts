// The data directory (STRIKEDESK_HOME) before any store opens:
//  - private: the process umask becomes 077 (every file this console creates from here on, PGlite's included, is the
//    owner's only), the home is 0700, existing files of ours lose group/world bits. state.db holds the generated
//    webhook secret: anyone who can read it can forge signed deliveries.
//  - one console per home: an exclusive lock (SQLite's, an OS file lock the kernel drops when the process dies, even
//    on kill -9). A second console on the same home refuses to start and names the first one's pid; two consoles
//    would both run every backfill job and both open one PGlite directory.
import Database from 'better-sqlite3';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'console.lock';
export const PID_FILE = 'console.pid';

export class HomeLockedError extends Error {
  constructor(
    readonly home: string,
    readonly otherPid: number | null,
  ) {
    super(
      `Another Strikedesk console${otherPid ? ` (pid ${otherPid})` : ''} is using the data directory ${home}. ` +
        'Stop it first, or start this one with another STRIKEDESK_HOME.',
    );
    this.name = 'HomeLockedError';
  }
}

export interface HomeLock {
  readonly home: string;
  release(): void;
}

export interface PreparedHome {
  lock: HomeLock;
  /** What an operator should hear about (a home others could read, files whose permissions were tightened). */
  warnings: string[];
}

const others = (mode: number) => (mode & 0o077) !== 0;
const octal = (mode: number) => (mode & 0o777).toString(8);

/** Removes group/world bits from every file and directory under `dir` (symlinks are left alone). Returns how many. */
export function tightenTree(dir: string): number {
  let changed = 0;
  const walk = (path: string) => {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) return;
    if (others(info.mode)) {
      chmodSync(path, info.mode & 0o700);
      changed++;
    }
    if (info.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  if (existsSync(dir)) walk(dir);
  return changed;
}

/** Makes the state store's files (state.db, -wal, -shm) the owner's only. */
export function tightenStateFiles(dbPath: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    const file = `${dbPath}${suffix}`;
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/** Takes the home's exclusive lock or throws HomeLockedError naming the console that holds it. */
export function lockHome(home: string): HomeLock {
  const lockPath = join(home, LOCK_FILE);
  const db = new Database(lockPath, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if (/locked|busy/i.test((err as Error).message)) {
      let pid: number | null;
      try {
        pid = Number.parseInt(readFileSync(join(home, PID_FILE), 'utf8'), 10) || null;
      } catch {
        pid = null;
      }
      throw new HomeLockedError(home, pid);
    }
    throw new Error(`cannot lock the data directory ${home} (${lockPath}): ${(err as Error).message}`, { cause: err });
  }
  writeFileSync(join(home, PID_FILE), `${process.pid}\n`, { mode: 0o600 });
  let released = false;
  return {
    home,
    release() {
      if (released) return;
      released = true;
      if (db.open) db.close();
    },
  };
}

/** umask 077, home 0700 (created or tightened), our files tightened, then the lock. Call before any store opens. */
export function prepareHome(home: string): PreparedHome {
  process.umask(0o077);
  const warnings: string[] = [];
  if (!existsSync(home)) mkdirSync(home, { recursive: true, mode: 0o700 });
  const mode = statSync(home).mode;
  if (others(mode)) {
    try {
      chmodSync(home, 0o700);
      warnings.push(`the data directory ${home} was readable by other users (mode ${octal(mode)}); changed to 700`);
    } catch (err) {
      warnings.push(`the data directory ${home} is readable by other users (mode ${octal(mode)}) and could not be changed: ${(err as Error).message}`);
    }
  }
  const lock = lockHome(home);
  try {
    tightenStateFiles(join(home, 'state.db'));
    const market = tightenTree(join(home, 'market'));
    if (market > 0) warnings.push(`${market} files of the market store under ${join(home, 'market')} were accessible to other users; now owner-only`);
  } catch (err) {
    lock.release();
    throw err;
  }
  return { lock, warnings };
}
