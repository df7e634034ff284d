import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateSqlite, SchemaTooNewError } from './migrate';
import { STATE_MIGRATIONS } from './migrations';

describe('state store migrations', () => {
  it('replay the whole chain from empty on a real file, once', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sd-state-')), 'state.db');
    const db = new Database(path);
    expect(migrateSqlite(db, STATE_MIGRATIONS)).toEqual({ from: 0, to: STATE_MIGRATIONS.length });
    expect(migrateSqlite(db, STATE_MIGRATIONS)).toEqual({ from: STATE_MIGRATIONS.length, to: STATE_MIGRATIONS.length });
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual(STATE_MIGRATIONS.map((m) => m.version));
    db.close();
  });

  it('refuses a schema newer than the build', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, STATE_MIGRATIONS);
    expect(() => migrateSqlite(db, STATE_MIGRATIONS.slice(0, STATE_MIGRATIONS.length - 1))).toThrow(SchemaTooNewError);
  });

  it('rolls back a failing migration completely', () => {
    const db = new Database(':memory:');
    const broken = [...STATE_MIGRATIONS, { version: STATE_MIGRATIONS.length + 1, name: 'broken', up: 'CREATE TABLE half (x INT); INSERT INTO nowhere VALUES (1);' }];
    expect(() => migrateSqlite(db, broken)).toThrow(/no such table: nowhere/);
    const half = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get() as { n: number };
    expect(half.n).toBe(0);
    const max = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number };
    expect(max.v).toBe(STATE_MIGRATIONS.length);
  });

  it('refuses a gap in the numbering', () => {
    const db = new Database(':memory:');
    expect(() => migrateSqlite(db, [{ version: 2, name: 'x', up: '' }])).toThrow(/numbered 1..n/);
  });
});
