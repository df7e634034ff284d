// The market store's migration rules on every backend: checksums recorded, an edited applied migration refused
// (naming it, changing nothing), stores from before checksums upgraded, gaps in the numbering filled.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationChangedError } from '../state/migrate';
import { migrateMarket } from './migrate';
import { MARKET_MIGRATIONS } from './migrations';
import { createTestMarketDb, testBackends, type TestMarketDb } from './testing/db';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const latest = Math.max(...MARKET_MIGRATIONS.map((m) => m.version));

describe.each(testBackends())('market migrations on %s', (backend) => {
  // One database per backend (a PGlite start is slow), emptied before each case.
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb(backend, { migrate: false });
  });
  afterAll(async () => t?.close());
  const fresh = async () => {
    await t.db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    return t.db;
  };

  it('records the sha256 of each migration text', async () => {
    const db = await fresh();
    expect(await migrateMarket(db)).toEqual({ from: 0, to: latest });
    const rows = await db.query<{ version: number; checksum: string }>('SELECT version, checksum FROM strikedesk_migrations ORDER BY version');
    expect(rows).toEqual(MARKET_MIGRATIONS.map((m) => ({ version: m.version, checksum: sha256(m.up) })));
  });

  it('refuses an applied migration edited afterwards, naming it, and applies nothing', async () => {
    const db = await fresh();
    await migrateMarket(db);
    const edited = MARKET_MIGRATIONS.map((m) => (m.version === 2 ? { ...m, up: `${m.up}\nCREATE TABLE sneaky (x int);` } : m));
    const later = { version: 90, name: 'later', up: 'CREATE TABLE later_table (x int);' };
    const attempt = migrateMarket(db, [...edited, later]);
    await expect(attempt).rejects.toBeInstanceOf(MigrationChangedError);
    await expect(attempt).rejects.toThrow(`market store migration 0002 (${MARKET_MIGRATIONS[1].name}) was changed after it was applied`);
    const tables = await db.query("SELECT table_name FROM information_schema.tables WHERE table_name IN ('sneaky', 'later_table')");
    expect(tables).toEqual([]);
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM strikedesk_migrations WHERE version = 90');
    expect(n).toBe(0);
    expect(await migrateMarket(db)).toEqual({ from: latest, to: latest });
  });

  it('upgrades a store from before checksums: adds the column and records them on first run', async () => {
    const db = await fresh();
    // The table and rows exactly as the previous build wrote them, with the first three migrations applied.
    await db.exec('CREATE TABLE strikedesk_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of MARKET_MIGRATIONS.filter((m) => m.version <= 3)) {
      await db.exec(m.up);
      await db.query('INSERT INTO strikedesk_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    expect(await migrateMarket(db)).toEqual({ from: 3, to: latest });
    const rows = await db.query<{ version: number; checksum: string }>('SELECT version, checksum FROM strikedesk_migrations ORDER BY version');
    expect(rows).toEqual(MARKET_MIGRATIONS.map((m) => ({ version: m.version, checksum: sha256(m.up) })));
    const edited = MARKET_MIGRATIONS.map((m) => (m.version === 1 ? { ...m, up: `${m.up} -- edited` } : m));
    await expect(migrateMarket(db, edited)).rejects.toThrow(/market store migration 0001 .* was changed after it was applied/);
  });

  it('allows gaps: applies in version order and fills a gap that arrives later', async () => {
    const db = await fresh();
    await db.exec('CREATE TABLE run_order (seq serial PRIMARY KEY, version int)');
    const m = (version: number) => ({
      version,
      name: `m${version}`,
      up: `CREATE TABLE gap_t${version} (x int); INSERT INTO run_order (version) VALUES (${version});`,
    });
    expect(await migrateMarket(db, [m(30), m(10)])).toEqual({ from: 0, to: 30 });
    expect(await migrateMarket(db, [m(10), m(20), m(30), m(70)])).toEqual({ from: 30, to: 70 });
    const order = await db.query<{ version: number }>('SELECT version FROM run_order ORDER BY seq');
    expect(order.map((r) => r.version)).toEqual([10, 30, 20, 70]);
    await expect(migrateMarket(db, [m(10), m(30), m(70)])).rejects.toThrow(/market store has migration 0020 \(m20\) applied, which this build does not know/);
    await expect(migrateMarket(db, [m(10), m(20)])).rejects.toThrow(/schema version 70 is newer than this build knows \(20\)/);
  });
});
