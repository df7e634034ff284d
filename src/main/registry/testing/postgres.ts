// Test support: a real PostgreSQL 15 for the registry's table source. DATABASE_URL when the run has one (CI),
// otherwise a throwaway cluster started with scripts/throwaway-postgres.sh on a free port and stopped afterwards.
// Each call to database() makes a new database, so tests never share rows.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '../../../../scripts/throwaway-postgres.sh');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  /** Admin URL of the cluster. */
  url: string;
  /** A fresh, empty database; returns its URL. */
  database(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  let url = process.env.DATABASE_URL;
  let dir: string | null = null;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), 'sd-pg-'));
    const { stdout } = await run('bash', [SCRIPT, 'start', dir, String(await freePort())], { timeout: 60_000 });
    url = stdout.trim();
  }
  const admin = url;
  const created: string[] = [];
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    url: admin,
    async database() {
      const name = `sdreg_${randomBytes(5).toString('hex')}`;
      await query(`CREATE DATABASE ${name}`);
      created.push(name);
      const u = new URL(admin);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async stop() {
      if (dir) {
        await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 }).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      } else {
        for (const name of created) await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      }
    },
  };
}
