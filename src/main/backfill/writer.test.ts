// The backfill writer on a real market store: both legs of a strike in one unit, rows as market-data.md says a
// candle gives them, idempotent (run twice, same rows), never clobbering a complete live bucket, no-trade minutes
// recorded, failed windows cleared by a later success.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromIstWallClock, toIstOffsetString } from '../calendar';
import { upsertStrikeSides } from '../market/bars';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import type { HistoryCandle } from '../ticker/types';
import { CoverageStore } from './coverage-store';
import type { PlannedInstrument } from './types';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchCandles, strikeSideBar, writeUnit, type FetchedChunk } from './writer';

const M = 60_000;
const T = fromIstWallClock('2025-11-06T09:15');
const CE: PlannedInstrument = {
  token: 2001,
  kind: 'option',
  symbol: 'NIFTY',
  tradingsymbol: 'NIFTY25NOV25000CE',
  expiry: '2025-11-25',
  strike: 25000,
  side: 'CE',
};
const PE: PlannedInstrument = { ...CE, token: 2002, tradingsymbol: 'NIFTY25NOV25000PE', side: 'PE' };
const FUT: PlannedInstrument = { token: 3001, kind: 'future', symbol: 'NIFTY', tradingsymbol: 'NIFTY25NOVFUT', expiry: '2025-11-25', strike: null, side: null };

const candle = (t: number, k: number): HistoryCandle => ({
  date: toIstOffsetString(t),
  open: 100 + k,
  high: 105 + k,
  low: 99 + k,
  close: 102 + k,
  volume: 1000 + k,
  oi: 50_000 + k,
  iv: 0.12 + k / 1000,
  delta: 0.5,
  gamma: 0.001,
  theta: -2.5,
  vega: 8.1,
  underlying: 25_010 + k,
});

const chunk = (inst: PlannedInstrument, minutes: number, candles: HistoryCandle[]): FetchedChunk => ({
  instrument: inst,
  gaps: [[T, T + minutes * M]],
  from: T,
  to: T + minutes * M,
  candles,
});

async function rows(db: TestMarketDb['db']) {
  return db.query(`SELECT symbol, expiry, strike, bucket, underlying_close, call_token, call_oi, call_volume, call_open, call_high, call_low, call_close, call_iv,
    call_delta, call_gamma, call_theta, call_vega, call_ticks, call_source, call_complete, put_token, put_oi, put_volume, put_close, put_iv, put_source, put_complete
    FROM fo_strike_bars WHERE timeframe = 1 ORDER BY bucket, strike`);
}

describe('candle units', () => {
  it("reads the real service's history candles (fixture) into true units, all-zero and null greeks missing", () => {
    const history = JSON.parse(readFileSync(join(process.cwd(), 'fixtures', 'ticker-service', 'history-option.json'), 'utf8')) as { candles: HistoryCandle[] };
    const [first, second] = history.candles.map((c, i) => strikeSideBar(CE, T + i * M, c));
    expect(first).toMatchObject({
      volume: 12450,
      oi: 2310225,
      iv: 0.1432,
      delta: 0.52,
      gamma: 0.0011,
      ticks: null,
      greekTicks: null,
      source: 'backfill',
      complete: true,
    });
    expect(first.theta).toBeCloseTo(-0.0328767 * 365, 9);
    expect(first.vega).toBeCloseTo(0.1425 * 100, 9);
    expect(second).toMatchObject({ volume: 8100, iv: null, delta: null, gamma: null, theta: null, vega: null });
    const asIs = strikeSideBar(CE, T, history.candles[0], 'true');
    expect([asIs.theta, asIs.vega]).toEqual([-0.0328767, 0.1425]);
    const zeros = strikeSideBar(CE, T, { ...history.candles[0], iv: 0, delta: 0, gamma: 0, theta: 0, vega: 0 });
    expect([zeros.iv, zeros.delta, zeros.theta]).toEqual([null, null, null]);
  });
});

describe.each(testBackends())('backfill writer on %s', (backend) => {
  let t: TestMarketDb;
  let coverage: CoverageStore;
  beforeAll(async () => {
    t = await createTestMarketDb(backend);
    coverage = new CoverageStore(t.db);
  });
  afterAll(async () => t.close());
  beforeEach(async () => t.db.exec('DELETE FROM fo_strike_bars; DELETE FROM instrument_bars; DELETE FROM backfill_windows;'));

  it('writes both legs into one row per bucket with the candle values; twice gives the same rows', async () => {
    const unit = [
      chunk(
        CE,
        3,
        [0, 1, 2].map((k) => candle(T + k * M, k)),
      ),
      chunk(
        PE,
        3,
        [0, 1, 2].map((k) => candle(T + k * M, 10 + k)),
      ),
    ];
    const first = await writeUnit(t.db, coverage, unit);
    expect(first.map((r) => r.rows)).toEqual([3, 3]);
    const once = await rows(t.db);
    expect(once).toHaveLength(3);
    expect(once[1]).toMatchObject({
      bucket: new Date(T + M),
      strike: 25000,
      call_token: CE.token,
      call_oi: 50_001,
      call_volume: 1001,
      call_close: 103,
      call_iv: 0.121,
      // The real service's candles carry theta / 365 and vega / 100: stored in true units (the default source setting).
      call_theta: -2.5 * 365,
      call_vega: 8.1 * 100,
      call_ticks: null,
      call_source: 'backfill',
      call_complete: true,
      put_token: PE.token,
      put_oi: 50_011,
      put_volume: 1011,
      put_source: 'backfill',
    });
    // underlying from the candle (the put, written second, carries 25_021)
    expect(once[1].underlying_close).toBe(25_021);

    await writeUnit(t.db, coverage, unit);
    expect(await rows(t.db)).toEqual(once);
  });

  it('never clobbers a complete live bucket, and writing one side keeps the other', async () => {
    await upsertStrikeSides(t.db, [
      {
        symbol: 'NIFTY',
        expiry: '2025-11-25',
        strike: 25000,
        bucket: T,
        side: 'CE',
        token: CE.token,
        oi: 7,
        volume: 8,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        iv: 0.2,
        delta: 0.4,
        gamma: 0.002,
        theta: -1,
        vega: 2,
        ticks: 42,
        underlyingClose: 24_999,
        source: 'live',
        complete: true,
      },
    ]);
    const [ce, pe] = await writeUnit(t.db, coverage, [chunk(CE, 2, [candle(T, 0), candle(T + M, 1)]), chunk(PE, 1, [candle(T, 5)])]);
    expect(ce.rows).toBe(1); // only 09:16; 09:15 is live and complete
    expect(pe.rows).toBe(1);
    const [first] = await rows(t.db);
    expect(first).toMatchObject({ call_oi: 7, call_ticks: 42, call_source: 'live', put_token: PE.token, put_oi: 50_005, put_source: 'backfill' });
  });

  it('records the gap minutes without a candle as no trades, ignores candles outside the gaps, clears failed windows', async () => {
    await coverage.recordWindows(t.db, FUT.token, 'failed', [[T, T + 5 * M]], 'timeout');
    const c = chunk(FUT, 5, [candle(T + M, 1), candle(T + 3 * M, 3), candle(T + 9 * M, 9), { ...candle(T, 0), date: '2025-11-06T09:15:30+05:30' }]);
    const [r] = await writeUnit(t.db, coverage, [c]);
    expect(r.rows).toBe(2);
    expect(r.noTradeRuns).toEqual([
      [T, T + M],
      [T + 2 * M, T + 3 * M],
      [T + 4 * M, T + 5 * M],
    ]);
    const windows = await coverage.windows([FUT.token], T, T + 10 * M);
    expect(windows.filter((w) => w.state === 'failed')).toEqual([]);
    expect(windows.filter((w) => w.state === 'no_trades').map((w) => [w.from, w.to])).toEqual(r.noTradeRuns);
    const bars = await t.db.query<{ bucket: Date; kind: string; expiry: string; oi: number; volume: number }>(
      'SELECT bucket, kind, expiry, oi, volume FROM instrument_bars ORDER BY bucket',
    );
    expect(bars).toEqual([
      { bucket: new Date(T + M), kind: 'future', expiry: '2025-11-25', oi: 50_001, volume: 1001 },
      { bucket: new Date(T + 3 * M), kind: 'future', expiry: '2025-11-25', oi: 50_003, volume: 1003 },
    ]);
    // Minutes that ended less than the settle time before the answer are not taken as no trades.
    const late = matchCandles({ ...c, settledBefore: T + 3 * M });
    expect(late.noTrades).toEqual([
      [T, T + M],
      [T + 2 * M, T + 3 * M],
    ]);
    // Idempotent here too: the same unit again changes nothing.
    await writeUnit(t.db, coverage, [c]);
    expect(await coverage.windows([FUT.token], T, T + 10 * M)).toHaveLength(3);
  });
});
