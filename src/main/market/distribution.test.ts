// Strike distribution maths and queries on PGlite and PostgreSQL (testBackends()), checked against brute-force
// computations written here from shared/spec/market-data.md, over bars written by the one bar writer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIstWallClock } from '../calendar';
import { upsertInstrumentBars, upsertStrikeSides, type StrikeSideBar } from './bars';
import { distributionSeries, latestBuckets, latestUnderlyingPrice, legKey, maxPain, moneyness, nearestStrike, ratio, type ExpiryChainInput } from './distribution';
import { createTestMarketDb, testBackends, type TestMarketDb } from './testing';

const MIN = 60_000;
const EXPIRY = '2025-11-25';
const EXPIRY2 = '2025-12-30';
const STRIKES = Array.from({ length: 11 }, (_, i) => 25_750 + i * 50); // 25750 .. 26250
const T_LATEST = fromIstWallClock('2025-11-04T11:30:00');

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const tokenOf = (strike: number, side: 'CE' | 'PE') => 1_000_000 + strike * 10 + (side === 'CE' ? 1 : 2);

interface Written {
  strike: number;
  side: 'CE' | 'PE';
  bucket: number;
  oi: number;
  volume: number;
  ticks: number;
}

/** Bars every minute 10:00..11:30 for every leg except: 26200 CE stops at 11:20 (quiet), 25750 PE never trades. */
function makeBars(): { bars: StrikeSideBar[]; written: Written[] } {
  const random = prng(7);
  const bars: StrikeSideBar[] = [];
  const written: Written[] = [];
  for (let t = fromIstWallClock('2025-11-04T10:00:00'); t <= T_LATEST; t += MIN) {
    for (const strike of STRIKES) {
      for (const side of ['CE', 'PE'] as const) {
        if (strike === 26_200 && side === 'CE' && t > fromIstWallClock('2025-11-04T11:20:00')) continue;
        if (strike === 25_750 && side === 'PE') continue;
        const oi = Math.round(10_000 + random() * 90_000);
        const volume = Math.round(random() * 5_000);
        const ticks = 1 + Math.floor(random() * 40);
        bars.push({
          symbol: 'NIFTY', expiry: EXPIRY, strike, bucket: t, side, token: tokenOf(strike, side), oi, volume,
          open: 100, high: 110, low: 90, close: 100 + random() * 10, iv: 0.12, delta: side === 'CE' ? 0.5 : -0.5, gamma: 0.001, theta: -5, vega: 10,
          ticks, underlyingClose: 26_010 + random() * 20, source: 'live', complete: true,
        });
        written.push({ strike, side, bucket: t, oi, volume, ticks });
      }
    }
  }
  // A second expiry with one early bar only (09:20: oi change basis must be the session open).
  for (const [t, oi] of [[fromIstWallClock('2025-11-04T09:15:00'), 500], [fromIstWallClock('2025-11-04T09:20:00'), 800]] as const) {
    bars.push({
      symbol: 'NIFTY', expiry: EXPIRY2, strike: 26_000, bucket: t, side: 'CE', token: 77, oi, volume: 10, open: 1, high: 1, low: 1, close: 1,
      iv: null, delta: null, gamma: null, theta: null, vega: null, ticks: 5, underlyingClose: 26_000, source: 'live', complete: true,
    });
  }
  return { bars, written };
}

/** Brute force, straight from the definition. */
function bruteMaxPain(rows: { strike: number; callOi: number; putOi: number }[]): number {
  let best = Number.NaN;
  let bestPain = Number.POSITIVE_INFINITY;
  for (const s of rows.map((r) => r.strike).sort((a, b) => a - b)) {
    let pain = 0;
    for (const k of rows) {
      if (s > k.strike) pain += k.callOi * (s - k.strike);
      if (k.strike > s) pain += k.putOi * (k.strike - s);
    }
    if (pain < bestPain) {
      bestPain = pain;
      best = s;
    }
  }
  return best;
}

describe('maths', () => {
  it('moneyness: calls below ATM are ITM, puts below ATM are OTM', () => {
    expect(moneyness(26_000, 26_000, 50, 'CE')).toBe('ATM');
    expect(moneyness(25_900, 26_000, 50, 'CE')).toBe('ITM2');
    expect(moneyness(25_900, 26_000, 50, 'PE')).toBe('OTM2');
    expect(moneyness(26_150, 26_000, 50, 'CE')).toBe('OTM3');
    expect(moneyness(26_150, 26_000, 50, 'PE')).toBe('ITM3');
  });

  it('max pain uses calls for S above K and puts for S below K (not swapped)', () => {
    // Heavy put OI at high strikes pulls the pain minimum up; the swapped formula would pull it down.
    const rows = [
      { strike: 100, callOi: 10, putOi: 0 },
      { strike: 110, callOi: 0, putOi: 0 },
      { strike: 120, callOi: 0, putOi: 1_000 },
    ];
    expect(maxPain(rows)).toBe(120);
    expect(maxPain(rows)).toBe(bruteMaxPain(rows));
    expect(maxPain([{ strike: 1, callOi: 0, putOi: 0 }])).toBeNull();
    const random = prng(3);
    for (let trial = 0; trial < 50; trial++) {
      const r = STRIKES.map((strike) => ({ strike, callOi: Math.round(random() * 1e5), putOi: Math.round(random() * 1e5) }));
      expect(maxPain(r)).toBe(bruteMaxPain(r));
    }
  });

  it('ratio is null for a zero denominator; nearest strike breaks ties low', () => {
    expect(ratio(5, 0)).toBeNull();
    expect(ratio(6, 3)).toBe(2);
    expect(nearestStrike([100, 150, 200], 125)).toBe(100);
    expect(nearestStrike([100, 150, 200], 126)).toBe(150);
    expect(nearestStrike([], 126)).toBeNull();
  });
});

describe.each(testBackends())('distribution queries on %s', (backend) => {
  let store: TestMarketDb;
  let written: Written[];

  beforeAll(async () => {
    store = await createTestMarketDb(backend);
    const made = makeBars();
    written = made.written;
    await upsertStrikeSides(store.db, made.bars);
    await upsertInstrumentBars(store.db, [
      { token: 256265, bucket: T_LATEST - 2 * MIN, symbol: 'NIFTY', kind: 'index', expiry: null, open: 1, high: 1, low: 1, close: 26_040.5, volume: 0, oi: null, ticks: 60, source: 'live', complete: true },
    ]);
  });
  afterAll(async () => {
    await store?.close();
  });

  const chainInput = (atm: number): ExpiryChainInput => {
    const tokens = new Map<string, number>();
    for (const k of STRIKES) for (const side of ['CE', 'PE'] as const) tokens.set(legKey(k, side), tokenOf(k, side));
    return { expiry: EXPIRY, strikes: STRIKES, atm, step: 50, tokens };
  };

  it('finds the latest bucket per expiry, or the latest at or before a time', async () => {
    const latest = await latestBuckets(store.db, 'NIFTY', '1min', [EXPIRY, EXPIRY2, '2026-01-27']);
    expect(latest).toEqual(new Map([[EXPIRY, T_LATEST], [EXPIRY2, fromIstWallClock('2025-11-04T09:20:00')]]));
    const before = await latestBuckets(store.db, 'NIFTY', '1min', [EXPIRY], T_LATEST - 10 * MIN + 30_000);
    expect(before.get(EXPIRY)).toBe(T_LATEST - 10 * MIN);
  });

  it('takes the newest underlying price of the index bars and the strike bars', async () => {
    const price = await latestUnderlyingPrice(store.db, { symbol: 'NIFTY', indexToken: 256265, now: T_LATEST + 30_000 });
    expect(price?.source).toBe('strike_bars'); // 11:30 strike bar is newer than the 11:28 index bar
    expect(price?.at).toBe(T_LATEST);
    const early = await latestUnderlyingPrice(store.db, { symbol: 'NIFTY', indexToken: 256265, atOrBefore: T_LATEST - 2 * MIN, now: T_LATEST });
    expect(early).toMatchObject({ source: 'index', price: 26_040.5 });
  });

  it('builds a series whose PCR, max pain, oi change and legs match a brute-force recomputation', async () => {
    const [series] = await distributionSeries(store.db, {
      symbol: 'NIFTY', timeframe: '1min', expiries: [chainInput(26_000)], now: T_LATEST + 30_000, expectingData: () => true, legState: () => 'missing',
    });
    expect(series.bucket_time).toBe(new Date(T_LATEST).toISOString());
    expect(series.is_stale).toBe(false);
    expect(series.oi_change_basis).toBe('one_hour_earlier');

    const asOf = (strike: number, side: 'CE' | 'PE', t: number) =>
      written.filter((w) => w.strike === strike && w.side === side && w.bucket <= t).sort((a, b) => b.bucket - a.bucket)[0];
    let callOi = 0;
    let putOi = 0;
    let callVol = 0;
    let putVol = 0;
    const painRows: { strike: number; callOi: number; putOi: number }[] = [];
    for (const [i, strike] of STRIKES.entries()) {
      const row = { strike, callOi: 0, putOi: 0 };
      for (const side of ['CE', 'PE'] as const) {
        const leg = (side === 'CE' ? series.call : series.put)[i];
        const now = asOf(strike, side, T_LATEST);
        const hourAgo = asOf(strike, side, T_LATEST - 60 * MIN);
        expect(leg.strike).toBe(strike);
        if (!now) {
          expect(leg).toMatchObject({ oi: null, volume: null, state: 'missing', illiquid: false, token: tokenOf(strike, side) });
          continue;
        }
        const volume = now.bucket === T_LATEST ? now.volume : 0;
        expect(leg.oi).toBe(now.oi);
        expect(leg.volume).toBe(volume);
        expect(leg.oi_change).toBe(now.oi - hourAgo.oi);
        expect(leg.state).toBe('live');
        expect(leg.illiquid).toBe(now.bucket !== T_LATEST || now.ticks < 2);
        if (side === 'CE') {
          callOi += now.oi;
          callVol += volume;
          row.callOi = now.oi;
        } else {
          putOi += now.oi;
          putVol += volume;
          row.putOi = now.oi;
        }
      }
      painRows.push(row);
    }
    // The quiet 26200 CE keeps its 11:20 OI, with no volume in the 11:30 bucket.
    expect(series.call[STRIKES.indexOf(26_200)]).toMatchObject({ volume: 0, ticks: 0, illiquid: true, state: 'live' });
    expect(series.pcr_oi).toBeCloseTo(putOi / callOi, 12);
    expect(series.pcr_volume).toBeCloseTo(putVol / callVol, 12);
    expect(series.max_pain_strike).toBe(bruteMaxPain(painRows));
    expect(series.call.map((l) => l.moneyness)).toEqual(['ITM5', 'ITM4', 'ITM3', 'ITM2', 'ITM1', 'ATM', 'OTM1', 'OTM2', 'OTM3', 'OTM4', 'OTM5']);
    expect(series.put.map((l) => l.moneyness)).toEqual(['OTM5', 'OTM4', 'OTM3', 'OTM2', 'OTM1', 'ATM', 'ITM1', 'ITM2', 'ITM3', 'ITM4', 'ITM5']);
  });

  it('answers as of an earlier time, flags staleness, and says which oi-change basis it used', async () => {
    const at = T_LATEST - 15 * MIN;
    const [series] = await distributionSeries(store.db, {
      symbol: 'NIFTY', timeframe: '1min', expiries: [chainInput(26_000)], at, now: T_LATEST + 30_000, expectingData: () => true, legState: () => 'pending',
    });
    expect(series.bucket_time).toBe(new Date(at).toISOString());
    expect(series.is_stale).toBe(true); // 15 minutes old during the session
    const early = written.find((w) => w.strike === 26_000 && w.side === 'CE' && w.bucket === at);
    expect(series.call[STRIKES.indexOf(26_000)].oi).toBe(early?.oi);

    const [second] = await distributionSeries(store.db, {
      symbol: 'NIFTY', timeframe: '1min', now: T_LATEST, expectingData: () => false, legState: () => 'pending',
      expiries: [{ expiry: EXPIRY2, strikes: [26_000, 26_050], atm: 26_000, step: 50, tokens: new Map([[legKey(26_050, 'PE'), 99]]) }],
    });
    expect(second.oi_change_basis).toBe('session_open');
    expect(second.is_stale).toBe(false); // not expecting data: never stale
    expect(second.call[0]).toMatchObject({ oi: 800, oi_change: 300, state: 'live' });
    expect(second.put[1]).toMatchObject({ token: 99, oi: null, state: 'pending' });
    expect(second.pcr_oi).toBe(0);
  });

  it('rolls up to 5 minutes and keeps the same maths (oi = last 1-minute oi)', async () => {
    const { refreshRollups } = await import('./bars');
    await refreshRollups(store.db, 'NIFTY', fromIstWallClock('2025-11-04T10:00:00'), T_LATEST + MIN);
    const [series] = await distributionSeries(store.db, {
      symbol: 'NIFTY', timeframe: '5min', expiries: [chainInput(26_000)], now: T_LATEST + 30_000, expectingData: () => true, legState: () => 'missing',
    });
    expect(series.bucket_time).toBe(new Date(T_LATEST).toISOString()); // 11:30 is a 5-minute boundary
    const leg = series.call[STRIKES.indexOf(26_000)];
    expect(leg.oi).toBe(written.find((w) => w.strike === 26_000 && w.side === 'CE' && w.bucket === T_LATEST)?.oi);
  });
});
