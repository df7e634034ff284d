// The PostgreSQL market store survives a server-side kill of an idle pooled connection: the error is reported, not
// thrown as an uncaught exception (which would take the console down), and the next query gets a fresh connection.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openMarketDb } from './db';

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
