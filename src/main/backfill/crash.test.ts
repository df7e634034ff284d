// Crash-resume with a real process kill: a child process runs the backfill worker against a SQLite file and a market
// store (a PGlite data directory; a PostgreSQL database too when DATABASE_URL is set), is killed with SIGKILL in the
// middle of a job, and is started again. The resumed job must not refetch the chunks it had finished, and must end
// with exactly the rows of an uninterrupted run of the same plan.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import { fromIstWallClock } from '../calendar';
import { openMarketDb } from '../market/db';
import { testBackends } from '../market/testing/db';
import { runningClock } from './testing/support';

const CHILD = fileURLToPath(new URL('./testing/crash-child.ts', import.meta.url));
const START = fromIstWallClock('2025-11-12T11:15:20');
// Planned a few minutes back: every minute of the window has settled (no-trade records do not depend on when it ran).
const PLAN_AT = fromIstWallClock('2025-11-12T11:12:10');
const SCOPE = { kind: 'chain', symbol: 'NIFTY', strikeRange: 5 };

interface Store {
  statePath: string;
  market: string;
}

function child(mode: 'plan' | 'run', store: Store, ticker: string, t0: number): { proc: ChildProcess; done: Promise<number | null>; messages: unknown[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      STRIKEDESK_LOG_LEVEL: 'silent',
      BF_STATE: store.statePath,
      BF_MARKET: store.market,
      BF_TICKER: ticker,
      BF_START: String(START),
      BF_T0: String(t0),
      BF_PLAN_AT: String(PLAN_AT),
      BF_SCOPE: JSON.stringify(SCOPE),
    },
  });
  const messages: unknown[] = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => messages.push(JSON.parse(line)));
  const done = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, done, messages };
}

const jobOf = (path: string) => {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const job = db.prepare('SELECT id, state, requests_done, requests_planned, attempts FROM backfill_jobs ORDER BY id DESC LIMIT 1').get() as
      { id: number; state: string; requests_done: number; requests_planned: number; attempts: number } | undefined;
    const doneTokens = (db.prepare(`SELECT token FROM backfill_chunks WHERE state = 'done'`).all() as { token: number }[]).map((r) => r.token);
    return { job, doneTokens };
  } finally {
    db.close();
  }
};

const BAR_QUERIES = [
  `SELECT timeframe, symbol, expiry, strike, bucket, underlying_close,
          call_token, call_oi, call_volume, call_open, call_high, call_low, call_close, call_iv, call_delta, call_gamma, call_theta, call_vega, call_ticks, call_source, call_complete,
          put_token, put_oi, put_volume, put_open, put_high, put_low, put_close, put_iv, put_delta, put_gamma, put_theta, put_vega, put_ticks, put_source, put_complete
     FROM fo_strike_bars ORDER BY timeframe, symbol, expiry, strike, bucket`,
  `SELECT timeframe, token, bucket, symbol, kind, expiry, open, high, low, close, volume, oi, ticks, source, complete FROM instrument_bars ORDER BY timeframe, token, bucket`,
  `SELECT token, state, from_bucket, to_bucket FROM backfill_windows ORDER BY token, state, from_bucket`,
];

async function snapshot(market: string): Promise<unknown[][]> {
  const db = await openMarketDb(market.startsWith('postgres') ? { databaseUrl: market, poolSize: 1 } : { pgliteDir: market });
  try {
    const out: unknown[][] = [];
    for (const q of BAR_QUERIES) out.push(await db.query(q));
    return out;
  } finally {
    await db.close();
  }
}

describe.each(testBackends())('backfill crash-resume (kill -9) on %s', (backend) => {
  let dt: DevTicker;
  let t0: number;
  const databases: string[] = [];
  const admin = process.env.DATABASE_URL;

  async function newStore(): Promise<Store> {
    const dir = mkdtempSync(join(tmpdir(), 'sd-bf-crash-'));
    if (backend === 'pglite') return { statePath: join(dir, 'state.db'), market: join(dir, 'market') };
    const name = `sdbf_${randomBytes(5).toString('hex')}`;
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    databases.push(name);
    const url = new URL(admin as string);
    url.pathname = `/${name}`;
    return { statePath: join(dir, 'state.db'), market: url.toString() };
  }

  beforeAll(async () => {
    t0 = Date.now();
    dt = await startDevTicker({ port: 0, clock: runningClock(START), autoTick: false, instrumentsRoute: true });
  });
  afterAll(async () => {
    await dt?.close();
    if (databases.length) {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    }
  });

  it('resumes after SIGKILL without refetching finished chunks and ends with the rows of an uninterrupted run', async () => {
    const clean = await newStore();
    const crashed = await newStore();
    for (const store of [clean, crashed]) expect(await child('plan', store, dt.url, t0).done).toBe(0);
    const planned = jobOf(clean.statePath).job;
    // NIFTY index + 11 strikes x 2 legs, one request each over the hour before the plan instant.
    expect(planned).toMatchObject({ state: 'queued', requests_planned: 23 });
    expect(jobOf(crashed.statePath).job).toMatchObject({ requests_planned: 23 });

    // The uninterrupted run.
    expect(await child('run', clean, dt.url, t0).done).toBe(0);
    expect(jobOf(clean.statePath).job).toMatchObject({ state: 'done', requests_done: 23, attempts: 1 });

    // The crashed run: kill -9 once a third of the requests are done.
    const first = child('run', crashed, dt.url, t0);
    await expect
      .poll(() => (jobOf(crashed.statePath).job?.requests_done ?? 0) >= 8 || first.proc.exitCode !== null, { message: 'a third of the job', timeout: 60_000 })
      .toBeTruthy();
    first.proc.kill('SIGKILL');
    expect(await first.done).toBeNull();
    const atKill = jobOf(crashed.statePath);
    expect(atKill.job?.state).toBe('running');
    expect(atKill.job?.requests_done).toBeLessThan(23);
    const finishedBefore = new Set(atKill.doneTokens);
    expect(finishedBefore.size).toBeGreaterThanOrEqual(8);

    const restartedAt = dt.sim.clock.now();
    const second = child('run', crashed, dt.url, t0);
    expect(await second.done).toBe(0);
    expect(jobOf(crashed.statePath).job).toMatchObject({ state: 'done', requests_done: 23, attempts: 2 });
    // Finished chunks were not fetched again after the restart.
    const refetched = dt.sim.counters().historyCalls.filter((c) => c.at >= restartedAt && c.instrumentToken !== null && finishedBefore.has(c.instrumentToken));
    expect(refetched).toEqual([]);

    const [a, b] = [await snapshot(clean.market), await snapshot(crashed.market)];
    expect(a[0].length).toBeGreaterThan(0);
    // 1-minute bars and coverage windows: identical. 5/15-minute roll-ups average floats in table order, which the
    // interrupted run inserted differently: equal to 12 significant digits.
    const oneMinute = (rows: unknown[]) =>
      rows.filter((r) => (r as { timeframe?: number }).timeframe === undefined || (r as { timeframe: number }).timeframe === 1);
    const rollups = (rows: unknown[]) =>
      rows
        .filter((r) => ((r as { timeframe?: number }).timeframe ?? 1) !== 1)
        .map((r) => Object.fromEntries(Object.entries(r as object).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(12)) : v])));
    for (let i = 0; i < a.length; i++) {
      expect(oneMinute(b[i])).toEqual(oneMinute(a[i]));
      expect(rollups(b[i])).toEqual(rollups(a[i]));
    }
    expect(rollups(a[0]).length).toBeGreaterThan(0);
  }, 180_000);
});
