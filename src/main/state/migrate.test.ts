import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { MigrationChangedError, migrateSqlite, SchemaTooNewError } from './migrate';
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
    const broken = [
      ...STATE_MIGRATIONS,
      { version: STATE_MIGRATIONS.length + 1, name: 'broken', up: 'CREATE TABLE half (x INT); INSERT INTO nowhere VALUES (1);' },
    ];
    expect(() => migrateSqlite(db, broken)).toThrow(/no such table: nowhere/);
    const half = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get() as { n: number };
    expect(half.n).toBe(0);
    const max = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number };
    expect(max.v).toBe(STATE_MIGRATIONS.length);
  });

  it('records the sha256 of each migration text', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, STATE_MIGRATIONS);
    const rows = db.prepare('SELECT version, checksum FROM schema_migrations ORDER BY version').all() as { version: number; checksum: string }[];
    expect(rows).toEqual(STATE_MIGRATIONS.map((m) => ({ version: m.version, checksum: createHash('sha256').update(m.up).digest('hex') })));
  });

  it('refuses to start when an applied migration was edited, naming it, and changes nothing', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sd-state-')), 'state.db');
    let db = new Database(path);
    migrateSqlite(db, STATE_MIGRATIONS);
    db.close();
    const edited = STATE_MIGRATIONS.map((m) => (m.version === 3 ? { ...m, up: `${m.up}\nCREATE TABLE sneaky (x INT);` } : m));
    const later = { version: 99, name: 'later', up: 'CREATE TABLE later_table (x INT);' };
    db = new Database(path);
    expect(() => migrateSqlite(db, [...edited, later])).toThrow(MigrationChangedError);
    expect(() => migrateSqlite(db, [...edited, later])).toThrow(
      new RegExp(`state store migration 0003 \\(${STATE_MIGRATIONS[2].name}\\) was changed after it was applied`),
    );
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE name IN ('sneaky', 'later_table')").all();
    expect(tables).toEqual([]);
    // The original text starts again.
    expect(migrateSqlite(db, STATE_MIGRATIONS)).toEqual({ from: STATE_MIGRATIONS.length, to: STATE_MIGRATIONS.length });
    db.close();
  });

  it('upgrades a store from before checksums: adds the column and records the checksums on first run', () => {
    const db = new Database(':memory:');
    // The table and rows exactly as the previous build wrote them.
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const old = STATE_MIGRATIONS.slice(0, 4);
    for (const m of old) {
      db.exec(m.up);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00.000Z');
    }
    expect(migrateSqlite(db, STATE_MIGRATIONS)).toEqual({ from: 4, to: STATE_MIGRATIONS.length });
    const rows = db.prepare('SELECT version, checksum FROM schema_migrations ORDER BY version').all() as { version: number; checksum: string | null }[];
    expect(rows.map((r) => r.version)).toEqual(STATE_MIGRATIONS.map((m) => m.version));
    expect(
      rows.every(
        (r) =>
          r.checksum ===
          createHash('sha256')
            .update(STATE_MIGRATIONS.find((m) => m.version === r.version)!.up)
            .digest('hex'),
      ),
    ).toBe(true);
    // From now on an edit of an old migration is caught.
    const edited = STATE_MIGRATIONS.map((m) => (m.version === 1 ? { ...m, up: m.up.replace(/;\s*$/, '; ') + '-- edited' } : m));
    expect(() => migrateSqlite(db, edited)).toThrow(/migration 0001 .* was changed after it was applied/);
  });

  it('allows gaps: applies in version order and fills a gap that arrives later', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE run_order (seq INTEGER PRIMARY KEY AUTOINCREMENT, version INT)');
    const m = (version: number) => ({
      version,
      name: `m${version}`,
      up: `CREATE TABLE t${version} (x INT); INSERT INTO run_order (version) VALUES (${version});`,
    });
    // Listed out of order with a gap at 2: applied 1, 3.
    expect(migrateSqlite(db, [m(3), m(1)])).toEqual({ from: 0, to: 3 });
    // A later build fills the gap and adds 7: only 2 and 7 run.
    expect(migrateSqlite(db, [m(1), m(2), m(3), m(7)])).toEqual({ from: 3, to: 7 });
    const rows = db.prepare('SELECT version FROM run_order ORDER BY seq').all() as { version: number }[];
    expect(rows.map((r) => r.version)).toEqual([1, 3, 2, 7]);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't%' ORDER BY name").all() as { name: string }[];
    expect(tables.map((t) => t.name)).toEqual(['t1', 't2', 't3', 't7']);
    // An older build that does not know 2 refuses the store, naming the migration.
    expect(() => migrateSqlite(db, [m(1), m(3), m(7)])).toThrow(/state store has migration 0002 \(m2\) applied, which this build does not know/);
  });

  it('refuses a list with a repeated or invalid version', () => {
    const db = new Database(':memory:');
    expect(() =>
      migrateSqlite(db, [
        { version: 2, name: 'a', up: '' },
        { version: 2, name: 'b', up: '' },
      ]),
    ).toThrow(/version 0002 is used twice \(a, b\)/);
    expect(() => migrateSqlite(db, [{ version: 0, name: 'zero', up: '' }])).toThrow(/"zero" has version 0/);
  });
});
