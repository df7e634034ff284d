// Test support: a fresh, migrated market store per backend. PGlite always; PostgreSQL 15 when DATABASE_URL is set
// (CI starts a throwaway cluster), each call in its own new database so test files never share state.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openMarketDb, type MarketDb } from '../db';
import { migrateMarket } from '../migrate';

export interface TestMarketDb {
  name: 'pglite' | 'postgres';
  db: MarketDb;
  close(): Promise<void>;
}

export const testBackends = (): ('pglite' | 'postgres')[] => (process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);

export async function createTestMarketDb(backend: 'pglite' | 'postgres', opts: { migrate?: boolean } = {}): Promise<TestMarketDb> {
  const migrate = opts.migrate ?? true;
  if (backend === 'pglite') {
    const db = await openMarketDb({});
    if (migrate) await migrateMarket(db);
    return { name: 'pglite', db, close: () => db.close() };
  }
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is not set');
  const dbName = `sdtest_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const db = await openMarketDb({ databaseUrl: url.toString(), poolSize: 4 });
  if (migrate) await migrateMarket(db);
  return {
    name: 'postgres',
    db,
    close: async () => {
      await db.close();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
