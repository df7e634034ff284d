// The planner against hand-computed gaps on a real market store (PGlite; PostgreSQL when DATABASE_URL is set):
// a window across a holiday and two sessions, a half-filled strike next to an empty one, a live index, no-trade
// windows, an expired contract, a contract marked not backfillable.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HolidayCalendar, fromIstWallClock } from '../calendar';
import { upsertInstrumentBars, upsertStrikeSides, type StrikeSideBar } from '../market/bars';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import { CoverageStore } from './coverage-store';
import { Planner } from './planner';
import type { PlannedInstrument } from './types';
import { lookbackWindow } from './window';

const cal = new HolidayCalendar(['2025-11-05']);
const ist = fromIstWallClock;
const M = 60_000;
// Thu 2025-11-06 10:15:40 IST; 375 session minutes back = Tue 11-04 10:15 .. Thu 11-06 10:15 (Wed is a holiday).
const NOW = ist('2025-11-06T10:15:40');

const leg = (token: number, strike: number, side: 'CE' | 'PE', expiry = '2025-11-25'): PlannedInstrument => ({
  token,
  kind: 'option',
  symbol: 'NIFTY',
  tradingsymbol: `NIFTY25NOV${strike}${side}`,
  expiry,
  strike,
  side,
});
const INDEX: PlannedInstrument = { token: 256265, kind: 'index', symbol: 'NIFTY', tradingsymbol: 'NIFTY 50', expiry: null, strike: null, side: null };
const CE_A = leg(1001, 25000, 'CE');
const PE_A = leg(1002, 25000, 'PE');
const CE_B = leg(1003, 25050, 'CE');
const EXPIRED = leg(1009, 25000, 'CE', '2025-11-04');

function liveBar(inst: PlannedInstrument, bucket: number, complete = true): StrikeSideBar {
  return {
    symbol: inst.symbol,
    expiry: inst.expiry as string,
    strike: inst.strike as number,
    bucket,
    side: inst.side as 'CE' | 'PE',
    token: inst.token,
    oi: 100,
    volume: 5,
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    iv: 0.1,
    delta: 0.5,
    gamma: 0.01,
    theta: -1,
    vega: 1,
    ticks: 3,
    underlyingClose: 25000,
    source: 'live',
    complete,
  };
}
const range = (from: number, to: number) => Array.from({ length: (to - from) / M }, (_, i) => from + i * M);

describe.each(testBackends())('Planner on %s', (backend) => {
  let t: TestMarketDb;
  let planner: Planner;
  let coverage: CoverageStore;
  const window = lookbackWindow(cal, NOW, 375);

  beforeAll(async () => {
    t = await createTestMarketDb(backend);
    coverage = new CoverageStore(t.db);
    planner = new Planner(coverage, cal);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db.exec('DELETE FROM fo_strike_bars; DELETE FROM instrument_bars; DELETE FROM backfill_windows; DELETE FROM backfill_not_backfillable;');
  });

  it('plans per leg: a half-filled strike keeps its own gaps, the empty leg beside it is not hidden', async () => {
    // CE_A has complete live bars for today's first 30 minutes (09:15..09:44); its put and CE_B have nothing.
    const today = range(ist('2025-11-06T09:15'), ist('2025-11-06T09:45'));
    await upsertStrikeSides(
      t.db,
      today.map((m) => liveBar(CE_A, m)),
    );
    // An incomplete (partial) live bar is not coverage: 09:45 stays missing.
    await upsertStrikeSides(t.db, [liveBar(CE_A, ist('2025-11-06T09:45'), false)]);

    const plan = await planner.plan({ instruments: [CE_A, PE_A, CE_B], windowStart: window.start, windowEnd: window.end, nowMs: NOW });
    expect(window).toEqual({ start: ist('2025-11-04T10:15'), end: ist('2025-11-06T10:15') });
    const byToken = new Map(plan.chunks.map((c) => [c.instrument.token, c]));
    // Hand-computed: Tue 10:15..15:30 (315 min) for everyone; today 09:15..10:15 (60) minus CE_A's 30 filled.
    expect(byToken.get(CE_A.token)?.gaps).toEqual([
      [ist('2025-11-04T10:15'), ist('2025-11-04T15:30')],
      [ist('2025-11-06T09:45'), ist('2025-11-06T10:15')],
    ]);
    expect(byToken.get(CE_A.token)?.missing).toBe(345);
    for (const inst of [PE_A, CE_B]) {
      expect(byToken.get(inst.token)?.gaps).toEqual([
        [ist('2025-11-04T10:15'), ist('2025-11-04T15:30')],
        [ist('2025-11-06T09:15'), ist('2025-11-06T10:15')],
      ]);
    }
    // One request per leg covering both sessions (well within 60 days), clipped to sessions at both ends.
    expect(plan.chunks).toHaveLength(3);
    expect(byToken.get(PE_A.token)).toMatchObject({ from: ist('2025-11-04T10:15'), to: ist('2025-11-06T10:15') });
    expect(plan.missingMinutes).toBe(345 + 375 + 375);
    // Both legs of strike 25000 share a write unit; 25050 CE has its own.
    expect(byToken.get(CE_A.token)?.unit).toBe(byToken.get(PE_A.token)?.unit);
    expect(byToken.get(CE_B.token)?.unit).not.toBe(byToken.get(CE_A.token)?.unit);
  });

  it('a fully live index needs nothing; no-trade windows are covered; a full day gap after a holiday is found', async () => {
    await upsertInstrumentBars(
      t.db,
      cal.sessionMinutesBetween(window.start, window.end).map((m) => ({
        token: INDEX.token,
        bucket: m,
        symbol: 'NIFTY',
        kind: 'index' as const,
        expiry: null,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 0,
        oi: null,
        ticks: 2,
        source: 'live' as const,
        complete: true,
      })),
    );
    // PE_A had no trades on Tuesday 10:15..12:00 (recorded earlier by backfill).
    await coverage.recordWindows(t.db, PE_A.token, 'no_trades', [[ist('2025-11-04T10:15'), ist('2025-11-04T12:00')]], 'empty');
    const plan = await planner.plan({ instruments: [INDEX, PE_A], windowStart: window.start, windowEnd: window.end, nowMs: NOW });
    expect(plan.chunks.map((c) => c.instrument.token)).toEqual([PE_A.token]);
    expect(plan.chunks[0].gaps).toEqual([
      [ist('2025-11-04T12:00'), ist('2025-11-04T15:30')],
      [ist('2025-11-06T09:15'), ist('2025-11-06T10:15')],
    ]);
    expect(plan.instruments).toBe(1);
    expect(plan.considered).toHaveLength(2);
  });

  it('leaves out an expired contract and one marked not backfillable, and says so', async () => {
    await coverage.markNotBackfillable(CE_B.token, CE_B.tradingsymbol, 'Historical fetch failed: Intraday history for expired contracts is not available');
    const plan = await planner.plan({ instruments: [EXPIRED, CE_B, PE_A], windowStart: window.start, windowEnd: window.end, nowMs: NOW });
    expect(plan.chunks.map((c) => c.instrument.token)).toEqual([PE_A.token]);
    expect(plan.notes.join('\n')).toMatch(/1 expired contract left out .*NIFTY25NOV25000CE/);
    expect(plan.notes.join('\n')).toMatch(/1 contract marked not backfillable left out: 1003/);
    // Marking is per contract: the other leg of the same strike is still planned.
    expect(plan.considered).toHaveLength(3);
  });

  it('nothing considered means nothing planned', async () => {
    const plan = await planner.plan({
      instruments: [],
      windowStart: window.start,
      windowEnd: window.end,
      nowMs: NOW,
      notes: ['no active subscriptions: nothing to do'],
    });
    expect(plan.chunks).toEqual([]);
    expect(plan.notes).toEqual(['no active subscriptions: nothing to do']);
  });
});
