// The state store: one SQLite file (WAL) in the data directory holding flags and audit, settings, jobs, the event
// inbox and metrics history. Synchronous better-sqlite3 is right here: every statement is small and local.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { tightenStateFiles } from './home';
import { migrateSqlite } from './migrate';
import { STATE_MIGRATIONS } from './migrations';

export class StateStore {
  readonly db: Database.Database;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let db: Database.Database | null = null;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (err) {
      db?.close();
      throw this.named(err);
    }
    this.db = db;
    // It holds the generated webhook secret: owner-only, whatever the umask was when the file was made.
    if (path !== ':memory:') tightenStateFiles(path);
  }

  /** An error that names the file, so an operator knows what to restore or move aside. */
  private named(err: unknown): Error {
    const message = (err as Error).message;
    const hint = /not a database|malformed|corrupt/i.test(message)
      ? ' (the file is damaged: restore it from a backup, or move it aside to start with empty state)'
      : '';
    return new Error(`state store ${this.path} cannot be opened: ${message}${hint}`, { cause: err });
  }

  migrate(): void {
    try {
      migrateSqlite(this.db, STATE_MIGRATIONS);
    } catch (err) {
      throw this.named(err);
    }
  }

  getSetting(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setSetting(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      )
      .run(key, value, new Date().toISOString());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
