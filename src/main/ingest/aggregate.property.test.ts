// Aggregation invariants as fast-check properties, each checked against a computation written here from the rules
// (docs/market-data.md), not by calling the aggregator twice:
// - OI of a 1-minute bar is the last OI seen in the minute (a snapshot, never a sum);
// - the known bar volumes of a day sum to the day's last reported cumulative volume (cumulative 0 = not reported);
// - 5- and 15-minute roll-ups equal the aggregation of their 1-minute bars (OI last, volume and ticks summed,
//   greeks weighted by ticks with a valid value, underlying last), on PGlite and PostgreSQL.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { istInstant } from '../calendar';
import { refreshRollups, upsertStrikeSides, type StrikeSideBar } from '../market/bars';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import { BarAggregator } from './aggregate';
import type { OptionTick } from './parse';

const OPEN = istInstant('2025-11-04', 9, 15);
const MIN = 60_000;

interface GenTick {
  dtMs: number;
  oi: number | null;
  traded: number;
  reported: boolean;
  iv: number | null;
}

const tickArb = fc.record({
  dtMs: fc.integer({ min: 0, max: 40_000 }),
  oi: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null, freq: 5 }),
  traded: fc.integer({ min: 0, max: 20 }).map((l) => l * 75),
  reported: fc.boolean(),
  iv: fc.option(fc.double({ min: 0.01, max: 2, noNaN: true }), { nil: null }),
});

/** Ticks of one CE from the open, times increasing; cumulative volume reported as 0 on `reported: false` ticks. */
function toTicks(gen: GenTick[]): OptionTick[] {
  let ts = OPEN;
  let cum = 0;
  return gen.map((g) => {
    ts += g.dtMs;
    cum += g.traded;
    return {
      token: 42,
      symbol: 'NIFTY',
      expiry: '2025-11-25',
      strike: 25_000,
      type: 'CE',
      price: 100,
      cumVolume: g.reported && cum > 0 ? cum : null,
      oi: g.oi,
      iv: g.iv,
      delta: null,
      gamma: null,
      theta: null,
      vega: null,
      tsMs: ts,
      tsAdjusted: false,
      isMock: false,
    } satisfies OptionTick;
  });
}

function aggregate(ticks: OptionTick[]) {
  const agg = new BarAggregator();
  for (const t of ticks) agg.addOptionTick(t, t.tsMs + 500);
  const last = ticks.at(-1)?.tsMs ?? OPEN;
  return agg.collectDue(last + 10 * MIN).strike;
}

describe('1-minute aggregation properties', () => {
  it('OI is the last OI seen in the minute', () => {
    fc.assert(
      fc.property(fc.array(tickArb, { minLength: 1, maxLength: 80 }), (gen) => {
        const ticks = toTicks(gen);
        const bars = aggregate(ticks);
        for (const bar of bars) {
          const inMinute = ticks.filter((t) => t.tsMs >= bar.bucket && t.tsMs < bar.bucket + MIN && t.oi !== null);
          expect(bar.oi).toBe(inMinute.length ? (inMinute.at(-1) as OptionTick).oi : null);
        }
      }),
    );
  });

  it("with cumulative volume on every tick, bar volumes sum to the day's volume", () => {
    fc.assert(
      fc.property(
        fc.array(
          tickArb.map((g) => ({ ...g, reported: true })),
          { minLength: 1, maxLength: 80 },
        ),
        (generated) => {
          // The first tick (always in the opening minute) trades: a cumulative of 0 reads as "not reported", so a
          // day whose first ticks report 0 has no known baseline unless the feed is known up since the open (the
          // third property covers that case).
          const gen = generated.map((g, i) => (i === 0 ? { ...g, traded: Math.max(75, g.traded) } : g));
          const ticks = toTicks(gen);
          const bars = aggregate(ticks);
          const reported = ticks.filter((t) => t.cumVolume !== null);
          const lastCum = reported.length ? (reported.at(-1) as OptionTick).cumVolume : 0;
          // Only minutes before the first trade (cumulative still 0, which reads as unknown) may lack a volume.
          const firstTrade = reported[0]?.tsMs ?? Number.POSITIVE_INFINITY;
          for (const b of bars) if (b.bucket + MIN > firstTrade) expect(b.volume).not.toBeNull();
          expect(bars.reduce((s, b) => s + (b.volume ?? 0), 0)).toBe(lastCum);
        },
      ),
    );
  });

  it('unreported volume stays unknown and the bar incomplete; a known bar holds only its own minute', () => {
    fc.assert(
      fc.property(fc.array(tickArb, { minLength: 1, maxLength: 80 }), (gen) => {
        const ticks = toTicks(gen);
        const bars = aggregate(ticks);
        const reported = ticks.filter((t) => t.cumVolume !== null);
        const lastCum = reported.length ? (reported.at(-1) as OptionTick).cumVolume : 0;
        let sum = 0;
        for (const b of bars) {
          const inBar = reported.filter((t) => t.tsMs >= b.bucket && t.tsMs < b.bucket + MIN);
          const before = reported.filter((t) => t.tsMs < b.bucket);
          // Brute force: known when the minute reports a cumulative and a baseline exists (an earlier report, or 0 at the open).
          let expected: number | null = null;
          if (inBar.length && before.length) expected = (inBar.at(-1)?.cumVolume as number) - (before.at(-1)?.cumVolume as number);
          else if (inBar.length && b.bucket === OPEN) expected = inBar.at(-1)?.cumVolume as number;
          expect(b.volume).toBe(expected);
          expect(b.complete).toBe(expected !== null);
          sum += b.volume ?? 0;
        }
        expect(sum).toBeLessThanOrEqual(lastCum as number);
      }),
    );
  });

  it('greek means and counts are over ticks with a valid value only', () => {
    fc.assert(
      fc.property(fc.array(tickArb, { minLength: 1, maxLength: 60 }), (gen) => {
        const ticks = toTicks(gen);
        for (const bar of aggregate(ticks)) {
          const ivs = ticks.filter((t) => t.tsMs >= bar.bucket && t.tsMs < bar.bucket + MIN && t.iv !== null).map((t) => t.iv as number);
          expect(bar.greekTicks?.[0]).toBe(ivs.length);
          if (ivs.length === 0) expect(bar.iv).toBeNull();
          else expect(bar.iv).toBeCloseTo(ivs.reduce((s, x) => s + x, 0) / ivs.length, 9);
        }
      }),
    );
  });
});

describe.each(testBackends())('roll-ups on %s', (backend) => {
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb(backend);
  });
  afterAll(async () => t?.close());

  const minuteArb = fc.record({
    present: fc.boolean(),
    oi: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null, freq: 6 }),
    volume: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null, freq: 4 }),
    ticks: fc.integer({ min: 1, max: 50 }),
    ivTicks: fc.integer({ min: 0, max: 50 }),
    iv: fc.double({ min: 0.05, max: 1, noNaN: true }),
    complete: fc.boolean(),
    underlying: fc.option(fc.double({ min: 20_000, max: 30_000, noNaN: true }), { nil: null }),
  });

  it('5- and 15-minute bars equal the aggregation of their minutes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(minuteArb, { minLength: 30, maxLength: 30 }), async (minutes) => {
        await t.db.exec('DELETE FROM fo_strike_bars');
        const start = OPEN + 15 * MIN; // 09:30 IST, a 15-minute boundary
        const bars: StrikeSideBar[] = [];
        minutes.forEach((m, i) => {
          if (!m.present) return;
          const ivTicks = Math.min(m.ivTicks, m.ticks);
          bars.push({
            symbol: 'NIFTY',
            expiry: '2025-11-25',
            strike: 25_000,
            bucket: start + i * MIN,
            side: 'PE',
            token: 7,
            oi: m.oi,
            volume: m.volume,
            open: 1,
            high: 1,
            low: 1,
            close: 1,
            iv: ivTicks ? m.iv : null,
            delta: null,
            gamma: null,
            theta: null,
            vega: null,
            ticks: m.ticks,
            greekTicks: [ivTicks, 0, 0, 0, 0],
            underlyingClose: m.underlying,
            source: 'live',
            complete: m.complete,
          });
        });
        if (bars.length === 0) return;
        await upsertStrikeSides(t.db, bars);
        const now = start + 22 * MIN; // the 09:45-10:00 roll-ups are unfinished
        await refreshRollups(t.db, 'NIFTY', start, start + 30 * MIN, now);
        for (const tf of [5, 15]) {
          const rows = await t.db.query<{
            bucket: Date;
            put_oi: number | null;
            put_volume: number | null;
            put_ticks: number;
            put_iv: number | null;
            put_iv_n: number | null;
            put_complete: boolean;
            underlying_close: number | null;
          }>(
            'SELECT bucket, put_oi, put_volume, put_ticks, put_iv, put_iv_n, put_complete, underlying_close FROM fo_strike_bars WHERE timeframe = $1 ORDER BY bucket',
            [tf],
          );
          const spans = new Map<number, StrikeSideBar[]>();
          for (const b of bars) {
            const s = start + Math.floor((b.bucket - start) / (tf * MIN)) * tf * MIN;
            spans.set(s, [...(spans.get(s) ?? []), b]);
          }
          expect(rows.map((r) => r.bucket.getTime())).toEqual([...spans.keys()]);
          for (const r of rows) {
            const ms = spans.get(r.bucket.getTime()) as StrikeSideBar[];
            const lastOf = <T>(xs: (T | null)[]) => xs.filter((x) => x !== null).at(-1) ?? null;
            const vols = ms.filter((m) => m.volume !== null);
            const withIv = ms.filter((m) => m.iv !== null);
            const w = withIv.reduce((s, m) => s + (m.greekTicks as readonly number[])[0], 0);
            expect(r.put_oi).toBe(lastOf(ms.map((m) => m.oi)));
            expect(r.put_volume === null ? null : Number(r.put_volume)).toBe(vols.length ? vols.reduce((s, m) => s + (m.volume as number), 0) : null);
            expect(r.put_ticks).toBe(ms.reduce((s, m) => s + (m.ticks as number), 0));
            expect(r.put_iv_n).toBe(withIv.length ? w : null);
            if (withIv.length) expect(r.put_iv).toBeCloseTo(withIv.reduce((s, m) => s + (m.iv as number) * (m.greekTicks as readonly number[])[0], 0) / w, 9);
            else expect(r.put_iv).toBeNull();
            expect(r.underlying_close).toBe(lastOf(ms.map((m) => m.underlyingClose)));
            expect(r.put_complete).toBe(ms.every((m) => m.complete) && r.bucket.getTime() + tf * MIN <= now);
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});
