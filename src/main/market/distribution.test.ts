// Strike distribution maths and queries on PGlite and PostgreSQL (testBackends()), checked against brute-force
// computations written here from docs/market-data.md over the list of bars written (never by calling the production
// functions twice), plus fast-check properties: the strike window never changes the expiry-wide figures.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIstWallClock } from '../calendar';
import { refreshRollups, upsertInstrumentBars, upsertStrikeSides, type StrikeSideBar } from './bars';
import {
  distributionSeries,
  latestBuckets,
  latestUnderlyingPrice,
  legKey,
  maxPain,
  moneyness,
  nearestStrike,
  pcr,
  ratio,
  strikeHistoryRows,
  type DistributionInput,
  type ExpiryChainInput,
  type ListedLeg,
} from './distribution';
import { createTestMarketDb, testBackends, type TestMarketDb } from './testing/db';

const MIN = 60_000;
const DAY_MS = 86_400_000;
const SYMBOL = 'NIFTY';
const EXPIRY = '2025-11-25';
const EXPIRY2 = '2025-12-30';
/** Every listed strike of the expiry: 25500 .. 26500. */
const LISTED = Array.from({ length: 21 }, (_, i) => 25_500 + i * 50);
/** The strikes shown by default (ATM 26000 +- 5). */
const WINDOW = LISTED.filter((k) => k >= 25_750 && k <= 26_250);
const T_OPEN = fromIstWallClock('2025-11-04T09:15:00');
const T_LATEST = fromIstWallClock('2025-11-04T11:30:00');
/** The wall clock of the tests: 11:31:10, so 11:30 is the latest complete minute and 11:31 is filling. */
const NOW = T_LATEST + MIN + 10_000;
const YESTERDAY_CLOSE = fromIstWallClock('2025-11-03T15:29:00');

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const tokenOf = (strike: number, side: 'CE' | 'PE') => 1_000_000 + strike * 10 + (side === 'CE' ? 1 : 2);
const LISTED_LEGS: ListedLeg[] = LISTED.flatMap((strike) => (['CE', 'PE'] as const).map((side) => ({ strike, side, token: tokenOf(strike, side) })));

interface Written {
  strike: number;
  side: 'CE' | 'PE';
  bucket: number;
  oi: number;
  volume: number | null;
  close: number;
  ticks: number;
  complete: boolean;
}

/**
 * Today 10:00..11:30 every minute for the window's legs (except: 26200 CE goes quiet after 11:20, 25750 PE never
 * trades today), every 5 minutes for the strikes outside the window, yesterday's 15:29 bar for every leg; 26500 PE
 * has only yesterday's bar (standing OI); 25500 CE never traded at all; some minutes have unknown volume (null, the
 * live feed's zero volume); and the filling 11:31 minute has partial bars.
 */
function makeBars(): { bars: StrikeSideBar[]; written: Written[] } {
  const random = prng(7);
  const bars: StrikeSideBar[] = [];
  const written: Written[] = [];
  const add = (strike: number, side: 'CE' | 'PE', bucket: number, complete = true) => {
    const oi = Math.round(10_000 + random() * 90_000);
    const volume = random() < 0.1 ? null : Math.round(random() * 5_000);
    const ticks = 1 + Math.floor(random() * 40);
    const close = 50 + random() * 100;
    bars.push({
      symbol: SYMBOL,
      expiry: EXPIRY,
      strike,
      bucket,
      side,
      token: tokenOf(strike, side),
      oi,
      volume,
      open: close,
      high: close,
      low: close,
      close,
      iv: 0.12,
      delta: side === 'CE' ? 0.5 : -0.5,
      gamma: 0.001,
      theta: -5,
      vega: 10,
      ticks,
      underlyingClose: 26_010 + random() * 20,
      source: 'live',
      complete,
    });
    written.push({ strike, side, bucket, oi, volume, close, ticks, complete });
  };
  for (const strike of LISTED) {
    for (const side of ['CE', 'PE'] as const) {
      if (strike === 25_500 && side === 'CE') continue;
      add(strike, side, YESTERDAY_CLOSE);
      if (strike === 26_500 && side === 'PE') continue;
      for (let t = fromIstWallClock('2025-11-04T10:00:00'); t <= T_LATEST; t += MIN) {
        if (strike === 26_200 && side === 'CE' && t > fromIstWallClock('2025-11-04T11:20:00')) continue;
        if (strike === 25_750 && side === 'PE') continue;
        if (!WINDOW.includes(strike) && (t - T_OPEN) % (5 * MIN) !== 0) continue;
        add(strike, side, t);
      }
      if (WINDOW.includes(strike) && strike !== 25_750) add(strike, side, T_LATEST + MIN, false);
    }
  }
  // A second expiry: calls only (its puts have not arrived), early bars (oi change basis falls back to the open).
  for (const [t, oi] of [
    [T_OPEN, 500],
    [fromIstWallClock('2025-11-04T09:20:00'), 800],
  ] as const) {
    bars.push({
      symbol: SYMBOL,
      expiry: EXPIRY2,
      strike: 26_000,
      bucket: t,
      side: 'CE',
      token: 77,
      oi,
      volume: 10,
      open: 1,
      high: 1,
      low: 1,
      close: 1,
      iv: null,
      delta: null,
      gamma: null,
      theta: null,
      vega: null,
      ticks: 5,
      underlyingClose: 26_000,
      source: 'live',
      complete: true,
    });
  }
  return { bars, written };
}

// ---------- independent computations ----------

/** Brute force, straight from the definition: S over `settlements`, pain summed over `rows`. */
function bruteMaxPain(rows: { strike: number; callOi: number; putOi: number }[], settlements: number[]): number | null {
  if (rows.every((r) => r.callOi === 0) || rows.every((r) => r.putOi === 0)) return null;
  let best: number | null = null;
  let bestPain = Number.POSITIVE_INFINITY;
  for (const s of [...settlements].sort((a, b) => a - b)) {
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

/** What every expiry-wide figure must be at bucket `b` (1-minute), from the written list alone. */
function bruteExpiryWide(written: Written[], b: number) {
  const span = MIN;
  const dayStart = fromIstWallClock('2025-11-04T00:00:00');
  const asOf = (strike: number, side: 'CE' | 'PE') =>
    written.filter((w) => w.strike === strike && w.side === side && w.bucket <= b && w.bucket >= b - 10 * DAY_MS).sort((x, y) => y.bucket - x.bucket)[0];
  const dayVolume = (strike: number, side: 'CE' | 'PE') => {
    const known = written.filter((w) => w.strike === strike && w.side === side && w.bucket >= dayStart && w.bucket < b + span && w.volume !== null);
    return known.length ? known.reduce((s, w) => s + (w.volume as number), 0) : null;
  };
  let callOi = 0;
  let putOi = 0;
  let callVol: number | null = null;
  let putVol: number | null = null;
  let legsWithData = 0;
  const strikesWithData = new Set<number>();
  const pain: { strike: number; callOi: number; putOi: number }[] = [];
  for (const strike of LISTED) {
    const row = { strike, callOi: 0, putOi: 0 };
    for (const side of ['CE', 'PE'] as const) {
      const bar = asOf(strike, side);
      if (!bar) continue;
      legsWithData++;
      strikesWithData.add(strike);
      const v = dayVolume(strike, side);
      if (side === 'CE') {
        callOi += bar.oi;
        row.callOi = bar.oi;
        if (v !== null) callVol = (callVol ?? 0) + v;
      } else {
        putOi += bar.oi;
        row.putOi = bar.oi;
        if (v !== null) putVol = (putVol ?? 0) + v;
      }
    }
    if (strikesWithData.has(strike)) pain.push(row);
  }
  return {
    pcrOi: putOi / callOi,
    pcrVolume: callVol === null || putVol === null ? null : putVol / callVol,
    maxPain: bruteMaxPain(pain, LISTED),
    legsWithData,
    strikesWithData: strikesWithData.size,
  };
}

describe('maths', () => {
  it('moneyness: calls below ATM are ITM, puts below ATM are OTM', () => {
    expect(moneyness(26_000, 26_000, 50, 'CE')).toBe('ATM');
    expect(moneyness(25_900, 26_000, 50, 'CE')).toBe('ITM2');
    expect(moneyness(25_900, 26_000, 50, 'PE')).toBe('OTM2');
    expect(moneyness(26_150, 26_000, 50, 'CE')).toBe('OTM3');
    expect(moneyness(26_150, 26_000, 50, 'PE')).toBe('ITM3');
  });

  it('max pain uses calls for S above K and puts for S below K (not swapped), S over the listed strikes', () => {
    // Heavy put OI at high strikes pulls the pain minimum up; the swapped formula would pull it down.
    const rows = [
      { strike: 100, callOi: 10, putOi: 1 },
      { strike: 110, callOi: 0, putOi: 0 },
      { strike: 120, callOi: 0, putOi: 1_000 },
    ];
    expect(maxPain(rows)).toBe(120);
    expect(maxPain(rows)).toBe(bruteMaxPain(rows, [100, 110, 120]));
    // A listed strike without data is still a settlement candidate.
    expect(maxPain(rows, [100, 110, 120, 130])).toBe(bruteMaxPain(rows, [100, 110, 120, 130]));
    fc.assert(
      fc.property(fc.array(fc.record({ callOi: fc.nat(100_000), putOi: fc.nat(100_000) }), { minLength: 1, maxLength: 15 }), (ois) => {
        const r = ois.map((o, i) => ({ strike: 1000 + i * 50, ...o }));
        expect(maxPain(r)).toBe(
          bruteMaxPain(
            r,
            r.map((x) => x.strike),
          ),
        );
      }),
    );
  });

  it('one-sided data gives null, never 0: PCR and max pain', () => {
    expect(
      maxPain([
        { strike: 1, callOi: 10, putOi: 0 },
        { strike: 2, callOi: 5, putOi: null },
      ]),
    ).toBeNull();
    expect(maxPain([{ strike: 1, callOi: 0, putOi: 0 }])).toBeNull();
    expect(pcr([100, 200], [])).toBeNull();
    expect(pcr([100, null], [null])).toBeNull();
    expect(pcr([0], [50])).toBeNull();
    expect(pcr([100, 100], [50, null])).toBe(0.25);
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
      {
        token: 256265,
        bucket: T_LATEST - 2 * MIN,
        symbol: SYMBOL,
        kind: 'index',
        expiry: null,
        open: 1,
        high: 1,
        low: 1,
        close: 26_040.5,
        volume: 0,
        oi: null,
        ticks: 60,
        source: 'live',
        complete: true,
      },
    ]);
  });
  afterAll(async () => {
    await store?.close();
  });

  const chainInput = (strikes: number[] = WINDOW, atm = 26_000): ExpiryChainInput => {
    const tokens = new Map<string, number>();
    for (const k of strikes) for (const side of ['CE', 'PE'] as const) tokens.set(legKey(k, side), tokenOf(k, side));
    return { expiry: EXPIRY, strikes, atm, step: 50, tokens };
  };
  const series = async (over: Partial<DistributionInput> = {}) =>
    (
      await distributionSeries(store.db, {
        symbol: SYMBOL,
        timeframe: '1min',
        expiries: [chainInput()],
        now: NOW,
        expectingData: () => true,
        legState: () => 'missing',
        listedLegs: async (e) => (e === EXPIRY ? LISTED_LEGS : []),
        ...over,
      })
    )[0];
  const complete = (w: Written) => w.complete;

  it('picks the latest bucket ending by a bound, per expiry', async () => {
    const latest = await latestBuckets(store.db, SYMBOL, '1min', [EXPIRY, EXPIRY2, '2026-01-27'], { endBy: NOW - 5_000 });
    expect(latest).toEqual(
      new Map([
        [EXPIRY, T_LATEST],
        [EXPIRY2, fromIstWallClock('2025-11-04T09:20:00')],
      ]),
    );
    const before = await latestBuckets(store.db, SYMBOL, '1min', [EXPIRY], { endBy: T_LATEST - 10 * MIN + 30_000 });
    expect(before.get(EXPIRY)).toBe(T_LATEST - 11 * MIN); // ends at T-10min, the one ending after the bound is not taken
  });

  it('takes the newest underlying price of the index bars and the strike bars', async () => {
    const price = await latestUnderlyingPrice(store.db, { symbol: SYMBOL, indexToken: 256265, atOrBefore: T_LATEST, now: NOW });
    expect(price?.source).toBe('strike_bars');
    expect(price?.at).toBe(T_LATEST);
    const early = await latestUnderlyingPrice(store.db, { symbol: SYMBOL, indexToken: 256265, atOrBefore: T_LATEST - 2 * MIN, now: NOW });
    expect(early).toMatchObject({ source: 'index', price: 26_040.5 });
  });

  it('latest = the latest complete bucket; legs, expiry-wide PCR, max pain and coverage match a brute-force recomputation', async () => {
    const s = await series();
    expect(s.bucket_time).toBe(new Date(T_LATEST).toISOString());
    expect(s.bucket_end).toBe(new Date(T_LATEST + MIN).toISOString());
    expect(s.partial).toBe(false);
    expect(s.is_stale).toBe(false);
    expect(s.oi_change_basis).toBe('one_hour_earlier');

    const done = written.filter(complete);
    const asOf = (strike: number, side: 'CE' | 'PE', t: number) =>
      done.filter((w) => w.strike === strike && w.side === side && w.bucket <= t).sort((a, b) => b.bucket - a.bucket)[0];
    const dayStart = fromIstWallClock('2025-11-04T00:00:00');
    for (const [i, strike] of WINDOW.entries()) {
      for (const side of ['CE', 'PE'] as const) {
        const leg = (side === 'CE' ? s.call : s.put)[i];
        const now = asOf(strike, side, T_LATEST);
        const hourAgo = written
          .filter((w) => w.strike === strike && w.side === side && w.bucket <= T_LATEST - 60 * MIN && w.bucket >= dayStart)
          .sort((a, b) => b.bucket - a.bucket)[0];
        const prev = written.find((w) => w.strike === strike && w.side === side && w.bucket === YESTERDAY_CLOSE);
        const today = written.filter((w) => w.strike === strike && w.side === side && w.bucket >= dayStart && w.bucket <= T_LATEST);
        const known = today.filter((w) => w.volume !== null);
        expect(leg.strike).toBe(strike);
        expect(leg.oi).toBe(now.oi);
        expect(leg.ltp).toBe(now.close);
        expect(leg.volume).toBe(now.bucket === T_LATEST ? now.volume : today.length ? 0 : null);
        expect(leg.day_volume).toBe(known.length ? known.reduce((a, w) => a + (w.volume as number), 0) : null);
        expect(leg.oi_change).toBe(hourAgo ? now.oi - hourAgo.oi : null);
        expect(leg.ltp_change).toBeCloseTo(now.close - (prev as Written).close, 9);
        expect(leg.ltp_change_pct).toBeCloseTo(((now.close - (prev as Written).close) / (prev as Written).close) * 100, 9);
        expect(leg.state).toBe('live');
        expect(leg.illiquid).toBe(now.bucket !== T_LATEST || now.ticks < 2);
        const lastMinute = Math.max(...written.filter((w) => w.strike === strike && w.side === side && w.bucket < T_LATEST + MIN).map((w) => w.bucket));
        expect(leg.last_trade_at).toBe(new Date(lastMinute).toISOString());
        expect(leg.stale).toBe(T_LATEST + MIN - (lastMinute + MIN) > 2 * MIN);
      }
    }
    // The quiet 26200 CE keeps its 11:20 OI, no volume in the 11:30 bucket, and is stale; the 25750 PE shows
    // yesterday's standing OI on a day it has not traded yet.
    expect(s.call[WINDOW.indexOf(26_200)]).toMatchObject({ volume: 0, ticks: 0, illiquid: true, state: 'live', stale: true });
    const standing = s.put[WINDOW.indexOf(25_750)];
    expect(standing).toMatchObject({
      oi: written.find((w) => w.strike === 25_750 && w.side === 'PE')?.oi,
      volume: null,
      day_volume: null,
      ltp_change: 0,
      state: 'live',
    });

    const brute = bruteExpiryWide(done, T_LATEST);
    expect(s.pcr_oi).toBeCloseTo(brute.pcrOi, 12);
    expect(s.pcr_volume).toBeCloseTo(brute.pcrVolume as number, 12);
    expect(s.max_pain_strike).toBe(brute.maxPain);
    expect(s.coverage).toEqual({
      strikes_listed: LISTED.length,
      strikes_with_data: brute.strikesWithData,
      legs_listed: LISTED.length * 2,
      legs_with_data: brute.legsWithData,
      legs_pending: 0,
      complete: false,
    });
    expect(brute.legsWithData).toBe(LISTED.length * 2 - 1); // 25500 CE never traded
    expect(s.call.map((l) => l.moneyness)).toEqual(['ITM5', 'ITM4', 'ITM3', 'ITM2', 'ITM1', 'ATM', 'OTM1', 'OTM2', 'OTM3', 'OTM4', 'OTM5']);
    expect(s.put.map((l) => l.moneyness)).toEqual(['OTM5', 'OTM4', 'OTM3', 'OTM2', 'OTM1', 'ATM', 'ITM1', 'ITM2', 'ITM3', 'ITM4', 'ITM5']);
  });

  it('the strike window never changes the expiry-wide figures (property)', async () => {
    const reference = await series();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: LISTED.length - 1 }), fc.integer({ min: 0, max: 10 }), async (centre, each) => {
        const strikes = LISTED.slice(Math.max(0, centre - each), centre + each + 1);
        const s = await series({ expiries: [chainInput(strikes, LISTED[centre])] });
        expect({ pcr_oi: s.pcr_oi, pcr_volume: s.pcr_volume, max_pain_strike: s.max_pain_strike, coverage: s.coverage }).toEqual({
          pcr_oi: reference.pcr_oi,
          pcr_volume: reference.pcr_volume,
          max_pain_strike: reference.max_pain_strike,
          coverage: reference.coverage,
        });
        expect(s.call.map((l) => l.strike)).toEqual(strikes);
      }),
      { numRuns: 12 },
    );
  });

  it('the filling bucket only with includePartial, marked partial', async () => {
    const s = await series({ includePartial: true });
    expect(s.bucket_time).toBe(new Date(T_LATEST + MIN).toISOString());
    expect(s.partial).toBe(true);
    const partial = written.find((w) => w.strike === 26_000 && w.side === 'CE' && w.bucket === T_LATEST + MIN);
    expect(s.call[WINDOW.indexOf(26_000)].oi).toBe(partial?.oi);
    // Before it, a minute still within the flush settle time is not complete either.
    const early = await series({ now: T_LATEST + MIN + 2_000 });
    expect(early.bucket_time).toBe(new Date(T_LATEST - MIN).toISOString());
  });

  it('at=T: the bucket ending at or before T, judged at T, the same answer whenever asked', async () => {
    const at = T_LATEST - 15 * MIN + 30_000; // 11:15:30: the 11:14 minute is the last to end by then
    const a = await series({ at, legState: () => 'pending' });
    const b = await series({ at, now: NOW + 3 * DAY_MS, legState: () => 'failed', expectingData: (ms) => ms < NOW + DAY_MS });
    expect(a.bucket_time).toBe(new Date(T_LATEST - 16 * MIN).toISOString());
    expect(a.bucket_end).toBe(new Date(T_LATEST - 15 * MIN).toISOString());
    expect(a.is_stale).toBe(false); // judged at T, not at now
    expect(b).toEqual(a);
    // Nothing after the bucket end leaks in: every OI is the brute-force as-of value at that bucket.
    const b0 = T_LATEST - 16 * MIN;
    for (const [i, strike] of WINDOW.entries()) {
      const w = written.filter((x) => x.strike === strike && x.side === 'CE' && x.bucket <= b0).sort((x, y) => y.bucket - x.bucket)[0];
      expect(a.call[i].oi).toBe(w.oi);
    }
    const brute = bruteExpiryWide(written, b0);
    expect(a.pcr_oi).toBeCloseTo(brute.pcrOi, 12);
    expect(a.max_pain_strike).toBe(brute.maxPain);
    // Staleness at an `at` long after the last bar, during a session.
    const late = await series({ at: T_LATEST + 30 * MIN, now: T_LATEST + 30 * MIN });
    expect(late.bucket_time).toBe(new Date(T_LATEST + MIN).toISOString());
    expect(late.is_stale).toBe(true);
  });

  it('one-sided expiry: PCR and max pain null, oi change against the open; previous-close basis', async () => {
    const [second] = await distributionSeries(store.db, {
      symbol: SYMBOL,
      timeframe: '1min',
      now: NOW,
      expectingData: () => false,
      legState: () => 'pending',
      expiries: [{ expiry: EXPIRY2, strikes: [26_000, 26_050], atm: 26_000, step: 50, tokens: new Map([[legKey(26_050, 'PE'), 99]]) }],
      listedLegs: async () => [
        { strike: 26_000, side: 'CE', token: 77 },
        { strike: 26_000, side: 'PE', token: 78 },
        { strike: 26_050, side: 'PE', token: 99 },
      ],
    });
    expect(second.oi_change_basis).toBe('session_open');
    expect(second.is_stale).toBe(false); // not expecting data: never stale
    expect(second.call[0]).toMatchObject({ oi: 800, oi_change: 300, state: 'live' });
    expect(second.put[1]).toMatchObject({ token: 99, oi: null, state: 'pending' });
    expect(second.pcr_oi).toBeNull();
    expect(second.pcr_volume).toBeNull();
    expect(second.max_pain_strike).toBeNull();
    expect(second.coverage).toEqual({ strikes_listed: 2, strikes_with_data: 1, legs_listed: 3, legs_with_data: 1, legs_pending: 2, complete: false });

    const s = await series({ oiChangeBasis: 'previous_close' });
    expect(s.oi_change_basis).toBe('previous_close');
    for (const [i, strike] of WINDOW.entries()) {
      const prev = written.find((w) => w.strike === strike && w.side === 'PE' && w.bucket === YESTERDAY_CLOSE) as Written;
      const now = written.filter((w) => w.strike === strike && w.side === 'PE' && w.complete && w.bucket <= T_LATEST).sort((x, y) => y.bucket - x.bucket)[0];
      expect(s.put[i].oi_change).toBe(now.oi - prev.oi);
    }
    const open = await series({ oiChangeBasis: 'session_open' });
    const first = written.filter((w) => w.strike === 26_000 && w.side === 'CE' && w.bucket >= T_OPEN).sort((x, y) => x.bucket - y.bucket)[0];
    expect(open.call[WINDOW.indexOf(26_000)].oi_change).toBe((s.call[WINDOW.indexOf(26_000)].oi as number) - first.oi);
  });

  it('5-minute answers come from complete roll-ups; strike history lists both legs over time', async () => {
    await refreshRollups(store.db, SYMBOL, fromIstWallClock('2025-11-03T15:00:00'), T_LATEST + 2 * MIN, NOW);
    const s = await series({ timeframe: '5min' });
    // 11:30-11:35 is still filling at 11:31:10: the latest complete 5-minute bucket is 11:25.
    expect(s.bucket_time).toBe(new Date(T_LATEST - 5 * MIN).toISOString());
    const leg = s.call[WINDOW.indexOf(26_000)];
    expect(leg.oi).toBe(written.find((w) => w.strike === 26_000 && w.side === 'CE' && w.bucket === T_LATEST - MIN)?.oi);
    const [row] = await store.db.query<{ call_complete: boolean }>(
      'SELECT call_complete FROM fo_strike_bars WHERE timeframe = 5 AND strike = 26000 AND expiry = $1 AND bucket = $2',
      [EXPIRY, new Date(T_LATEST).toISOString()],
    );
    expect(row.call_complete).toBe(false); // unfinished roll-up

    const history = await strikeHistoryRows(store.db, { symbol: SYMBOL, expiry: EXPIRY, strike: 26_000, timeframe: '1min', buckets: 5, now: NOW });
    expect(history.map((h) => h.bucket)).toEqual([4, 3, 2, 1, 0].map((i) => T_LATEST - i * MIN));
    for (const h of history) {
      const ce = written.find((w) => w.strike === 26_000 && w.side === 'CE' && w.bucket === h.bucket) as Written;
      const pe = written.find((w) => w.strike === 26_000 && w.side === 'PE' && w.bucket === h.bucket) as Written;
      expect(h).toEqual({ bucket: h.bucket, callOi: ce.oi, putOi: pe.oi, callLtp: ce.close, putLtp: pe.close, callVolume: ce.volume, putVolume: pe.volume });
    }
  });
});
