// The registry export: a Kite-format CSV file and the instrument_registry table in a real, throwaway PostgreSQL 15
// (scripts/throwaway-postgres.sh). Skipped, with the reason printed, only when initdb is not installed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIstWallClock } from '../shared/calendar';
import { ManualClock } from '../testing/clock';
import { KITE_CSV_HEADER, startDevTicker } from './index';

const SCRIPT = resolve(__dirname, '../../scripts/throwaway-postgres.sh');
const INITDB = '/usr/lib/postgresql/15/bin/initdb';
const pgSkip = existsSync(INITDB) ? null : `initdb not found at ${INITDB} (apt-get install -y postgresql-15)`;
if (pgSkip) process.stdout.write(`export.test.ts: instrument_registry tests skipped: ${pgSkip}\n`);

const T0 = fromIstWallClock('2025-11-04T11:00:00');

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

describe('Kite CSV file', () => {
  it('writes the registry as Kite lays out its dump, and rewrites it on a new IST date', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devticker-csv-'));
    const clock = new ManualClock(T0);
    const file = join(dir, 'instruments.csv');
    const dt = await startDevTicker({ port: 0, clock, autoTick: false, instrumentsCsvPath: file });
    try {
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n')[0]).toBe(KITE_CSV_HEADER);
      const fixture = readFileSync(resolve(__dirname, '../../fixtures/ticker-service/instruments.csv'), 'utf8');
      expect(fixture.split('\n')[0]).toBe(KITE_CSV_HEADER);
      const rows = parse(text, { columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength(dt.registry.live.length);
      // an index row as the fixture has it: named by itself, tick size and lot size 0, no expiry
      expect(rows.find((r) => r.instrument_token === '256265')).toEqual({
        instrument_token: '256265',
        exchange_token: '1001',
        tradingsymbol: 'NIFTY 50',
        name: 'NIFTY 50',
        last_price: '0',
        expiry: '',
        strike: '0',
        tick_size: '0',
        lot_size: '0',
        instrument_type: 'EQ',
        segment: 'INDICES',
        exchange: 'NSE',
      });
      const opt = dt.registry.byTradingsymbol('NIFTY25NOV24500CE')!;
      expect(rows.find((r) => r.tradingsymbol === 'NIFTY25NOV24500CE')).toEqual({
        instrument_token: String(opt.token),
        exchange_token: String(opt.exchangeToken),
        tradingsymbol: 'NIFTY25NOV24500CE',
        name: 'NIFTY',
        last_price: '0',
        expiry: '2025-11-25',
        strike: '24500',
        tick_size: '0.05',
        lot_size: '75',
        instrument_type: 'CE',
        segment: 'NFO-OPT',
        exchange: 'NFO',
      });
      expect(rows.some((r) => r.expiry === '2025-11-04')).toBe(true); // the day's expiry is still live
      clock.set(fromIstWallClock('2025-11-06T09:00:00'));
      dt.sim.tick();
      await dt.registryExported();
      const next = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
      expect(next.some((r) => r.expiry === '2025-11-04')).toBe(false);
      expect(next).toHaveLength(dt.registry.live.length);
    } finally {
      await dt.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a path that cannot be written is a start-up error naming the setting', async () => {
    await expect(startDevTicker({ port: 0, autoTick: false, instrumentsCsvPath: '/nonexistent-dir/x/instruments.csv' })).rejects.toThrow(
      /--instruments-csv \/nonexistent-dir/,
    );
  });
});

describe.skipIf(pgSkip !== null)('instrument_registry in PostgreSQL 15', () => {
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'devticker-pg-'));
    const port = await freePort();
    url = execFileSync(SCRIPT, ['start', dir, String(port)], { encoding: 'utf8', timeout: 120_000 }).trim();
  }, 150_000);

  afterAll(() => {
    if (dir) {
      execFileSync(SCRIPT, ['stop', dir], { timeout: 60_000 });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function query<T>(sql: string, params: unknown[] = [], db = url): Promise<T[]> {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('creates the real table and fills it: live rows active, expired rows inactive, expiry TEXT', async () => {
    const clock = new ManualClock(T0);
    const dt = await startDevTicker({ port: 0, clock, autoTick: false, instrumentDbUrl: url });
    try {
      const cols = await query<{ column_name: string; data_type: string }>(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'instrument_registry' ORDER BY ordinal_position",
      );
      expect(cols).toEqual([
        { column_name: 'instrument_token', data_type: 'bigint' },
        { column_name: 'tradingsymbol', data_type: 'text' },
        { column_name: 'name', data_type: 'text' },
        { column_name: 'segment', data_type: 'text' },
        { column_name: 'instrument_type', data_type: 'text' },
        { column_name: 'strike', data_type: 'double precision' },
        { column_name: 'expiry', data_type: 'text' },
        { column_name: 'tick_size', data_type: 'double precision' },
        { column_name: 'lot_size', data_type: 'integer' },
        { column_name: 'exchange', data_type: 'text' },
        { column_name: 'is_active', data_type: 'boolean' },
        { column_name: 'last_refreshed_at', data_type: 'timestamp with time zone' },
      ]);
      const [counts] = await query<{ active: string; inactive: string }>(
        'SELECT count(*) FILTER (WHERE is_active) AS active, count(*) FILTER (WHERE NOT is_active) AS inactive FROM instrument_registry',
      );
      expect(Number(counts.active)).toBe(dt.registry.live.length);
      expect(Number(counts.inactive)).toBe(dt.registry.expired.length);
      const opt = dt.registry.byTradingsymbol('NIFTY25NOV24500CE')!;
      const [row] = await query<Record<string, unknown>>('SELECT * FROM instrument_registry WHERE instrument_token = $1', [opt.token]);
      expect(row).toEqual({
        instrument_token: String(opt.token),
        tradingsymbol: 'NIFTY25NOV24500CE',
        name: 'NIFTY',
        segment: 'NFO-OPT',
        instrument_type: 'CE',
        strike: 24500,
        expiry: '2025-11-25',
        tick_size: 0.05,
        lot_size: 75,
        exchange: 'NFO',
        is_active: true,
        last_refreshed_at: new Date(T0),
      });
      const [index] = await query<Record<string, unknown>>('SELECT name, expiry, segment, is_active FROM instrument_registry WHERE instrument_token = 256265');
      expect(index).toEqual({ name: 'NIFTY 50', expiry: null, segment: 'INDICES', is_active: true });
      // a new IST date: the rows of the day's expiry go inactive
      clock.set(fromIstWallClock('2025-11-06T09:00:00'));
      dt.sim.tick();
      await dt.registryExported();
      const expired = dt.registry.byTradingsymbol('NIFTY25N0426000CE')!;
      const [gone] = await query<{ is_active: boolean; last_refreshed_at: Date }>(
        'SELECT is_active, last_refreshed_at FROM instrument_registry WHERE instrument_token = $1',
        [expired.token],
      );
      expect(gone.is_active).toBe(false);
      const [active] = await query<{ n: string }>('SELECT count(*) AS n FROM instrument_registry WHERE is_active');
      expect(Number(active.n)).toBe(dt.registry.live.length);
    } finally {
      await dt.close();
    }
  });

  it('fills a table whose expiry is DATE (some deployments) as well', async () => {
    await query('CREATE DATABASE dated');
    const dated = url.replace(/\/postgres$/, '/dated');
    const dt = await startDevTicker({ port: 0, clock: new ManualClock(T0), autoTick: false, instrumentDbUrl: dated, instrumentDbExpiryType: 'date' });
    try {
      const [col] = await query<{ data_type: string }>(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'instrument_registry' AND column_name = 'expiry'",
        [],
        dated,
      );
      expect(col.data_type).toBe('date');
      const [row] = await query<{ e: string }>(
        "SELECT to_char(expiry, 'YYYY-MM-DD') AS e FROM instrument_registry WHERE tradingsymbol = 'NIFTY25NOV24500CE'",
        [],
        dated,
      );
      expect(row.e).toBe('2025-11-25');
    } finally {
      await dt.close();
    }
  });

  it('an unreachable database is a start-up error naming the setting, without the password', async () => {
    const port = await freePort();
    await expect(startDevTicker({ port: 0, autoTick: false, instrumentDbUrl: `postgres://u:s3cretpw@127.0.0.1:${port}/x` })).rejects.toThrow(
      /^devticker: --instrument-db postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/x: instrument_registry not written/,
    );
    await expect(startDevTicker({ port: 0, autoTick: false, instrumentDbUrl: `postgres://u:s3cretpw@127.0.0.1:${port}/x` })).rejects.not.toThrow(/s3cretpw/);
  });
});
