// The coverage grid against hand-made coverage on a real market store: filled bars, a no-trade window, a failed
// window, a contract marked not backfillable, nothing at all, and a side that is not listed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HolidayCalendar, fromIstWallClock } from '../calendar';
import { upsertStrikeSides } from '../market/bars';
import { createTestMarketDb, type TestMarketDb } from '../market/testing/db';
import { CoverageStore } from './coverage-store';
import { coverageGrid } from './grid';
import type { RegistryInstrument, RegistryView } from './types';

const ist = fromIstWallClock;
const M = 60_000;
const NOW = ist('2025-11-06T10:15:30');
const cal = new HolidayCalendar(['2025-11-05']);

const inst = (token: number, strike: number, type: 'CE' | 'PE'): RegistryInstrument => ({
  token,
  tradingsymbol: `NIFTY25NOV${strike}${type}`,
  name: 'NIFTY',
  segment: 'NFO-OPT',
  instrumentType: type,
  strike,
  expiry: '2025-11-25',
});
const CHAIN = [inst(11, 25_000, 'CE'), inst(12, 25_000, 'PE'), inst(21, 25_050, 'CE'), inst(22, 25_050, 'PE'), inst(31, 25_100, 'CE')];

/** The registry as a plain in-memory view of one chain. */
const registry: RegistryView = {
  byTokens: async (tokens) => new Map(CHAIN.filter((i) => tokens.includes(i.token)).map((i) => [i.token, i])),
  expiries: async () => ['2025-11-25'],
  chain: async () => CHAIN,
  underlyingToken: () => 256265,
  futures: async () => [],
  underlyings: async () => ['NIFTY'],
};

describe('coverage grid', () => {
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb('pglite');
  });
  afterAll(async () => t.close());

  it('classifies each strike, side and slot', async () => {
    const coverage = new CoverageStore(t.db);
    const start = ist('2025-11-06T09:15');
    // 25000 CE: complete bars 09:15..09:44 (the first two 15-minute slots), and 10:00..10:14.
    const minutes = [...Array.from({ length: 30 }, (_, i) => start + i * M), ...Array.from({ length: 15 }, (_, i) => start + (45 + i) * M)];
    await upsertStrikeSides(
      t.db,
      minutes.map((bucket) => ({
        symbol: 'NIFTY',
        expiry: '2025-11-25',
        strike: 25_000,
        bucket,
        side: 'CE' as const,
        token: 11,
        oi: 1,
        volume: 1,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        iv: null,
        delta: null,
        gamma: null,
        theta: null,
        vega: null,
        ticks: 1,
        underlyingClose: 25_000,
        source: 'live' as const,
        complete: true,
      })),
    );
    // 25000 CE had no trades 09:45..09:59; 25000 PE failed 09:15..09:30; 25050 CE is not backfillable.
    await coverage.recordWindows(t.db, 11, 'no_trades', [[start + 30 * M, start + 45 * M]], 'empty');
    await coverage.recordWindows(t.db, 12, 'failed', [[start, start + 15 * M]], 'timeout');
    await coverage.markNotBackfillable(21, 'NIFTY25NOV25050CE', 'expired');

    const grid = await coverageGrid(
      { symbol: 'nifty', expiry: '2025-11-25', strikeRange: 5, lookbackMinutes: 60, slotMinutes: 15 },
      { registry, coverage, calendar: cal, nowMs: NOW, spot: async () => 25_040 },
    );
    expect(grid.slots).toEqual([0, 15, 30, 45].map((k) => new Date(start + k * M).toISOString()));
    const cells = Object.fromEntries(grid.rows.map((r) => [`${r.strike}${r.side}`, r.cells]));
    expect(cells).toEqual({
      '25000CE': ['filled', 'filled', 'no_trades', 'filled'],
      '25000PE': ['failed', 'missing', 'missing', 'missing'],
      '25050CE': ['failed', 'failed', 'failed', 'failed'],
      '25050PE': ['missing', 'missing', 'missing', 'missing'],
      '25100CE': ['missing', 'missing', 'missing', 'missing'],
      '25100PE': ['not_expected', 'not_expected', 'not_expected', 'not_expected'],
    });
    expect(grid.rows.find((r) => r.strike === 25_100 && r.side === 'PE')?.token).toBeNull();
  });
});
