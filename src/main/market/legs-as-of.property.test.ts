// The as-of lookups against a brute-force recomputation over the bars written, on random sparse chains (fast-check):
// a leg's latest bar in a range (legsAsOfSides) and its last known value before an instant (lastValuesBefore, the
// previous close) must not depend on whether the leg has a bar in the expiry's latest bucket (read from that bucket's
// rows) or only earlier (probed per leg): quiet legs, one-sided strikes, null values and empty ranges included.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, fromIstWallClock } from '../calendar';
import { upsertStrikeSides, type StrikeSideBar } from './bars';
import { lastValuesBefore, legsAsOfSides, type Side } from './distribution';
import { createTestMarketDb, testBackends, type TestMarketDb } from './testing/db';

const MIN = 60_000;
const SYMBOL = 'NIFTY';
const STRIKES = [25_900, 25_950, 26_000, 26_050];
const SIDES: Side[] = ['CE', 'PE'];
/** Minutes 0..5 of yesterday's close and of today's open. */
const MINUTES = [
  ...Array.from({ length: 3 }, (_, i) => fromIstWallClock('2025-11-03T15:27:00') + i * MIN),
  ...Array.from({ length: 6 }, (_, i) => fromIstWallClock('2025-11-04T09:15:00') + i * MIN),
];
const DAY_START = fromIstWallClock('2025-11-04T00:00:00');

const barArb = fc.record({
  strike: fc.constantFrom(...STRIKES),
  minute: fc.integer({ min: 0, max: MINUTES.length - 1 }),
  side: fc.constantFrom<Side>('CE', 'PE'),
  oi: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
  close: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
});

describe.each(testBackends())('as-of lookups on %s', (backend) => {
  let store: TestMarketDb;
  let run = 0;
  beforeAll(async () => {
    store = await createTestMarketDb(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('latest bar in a range and last value before an instant equal the brute force (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(barArb, { maxLength: 40 }),
        fc.integer({ min: 0, max: MINUTES.length - 1 }),
        fc.integer({ min: 0, max: MINUTES.length - 1 }),
        fc.boolean(),
        async (raw, a, b, someStrikes) => {
          // A fresh expiry per run: the runs share one database.
          const expiry = addDays('2026-01-01', run++);
          const byKey = new Map<string, StrikeSideBar>();
          for (const r of raw) {
            const bar: StrikeSideBar = {
              symbol: SYMBOL,
              expiry,
              strike: r.strike,
              bucket: MINUTES[r.minute],
              side: r.side,
              token: r.strike * 10 + (r.side === 'CE' ? 1 : 2),
              oi: r.oi,
              volume: 1,
              open: r.close,
              high: r.close,
              low: r.close,
              close: r.close,
              iv: null,
              delta: null,
              gamma: null,
              theta: null,
              vega: null,
              ticks: 3,
              underlyingClose: null,
              source: 'live',
              complete: true,
            };
            byKey.set(`${r.strike}|${r.side}|${r.minute}`, bar);
          }
          const bars = [...byKey.values()];
          if (bars.length > 0) await upsertStrikeSides(store.db, bars);
          const notBefore = MINUTES[Math.min(a, b)];
          const atOrBefore = MINUTES[Math.max(a, b)];
          const strikes = someStrikes ? STRIKES.slice(1, 3) : undefined;

          const legs = await legsAsOfSides(store.db, { symbol: SYMBOL, timeframe: '1min', expiry, strikes, sides: SIDES, atOrBefore, notBefore });
          for (const side of SIDES) {
            const expected = new Map<number, { bucket: number; oi: number | null; close: number | null }>();
            for (const bar of bars) {
              if (bar.side !== side || bar.bucket < notBefore || bar.bucket > atOrBefore) continue;
              if (strikes && !strikes.includes(bar.strike)) continue;
              const seen = expected.get(bar.strike);
              if (!seen || seen.bucket < bar.bucket) expected.set(bar.strike, { bucket: bar.bucket, oi: bar.oi, close: bar.close });
            }
            const got = new Map([...legs[side]].map(([k, l]) => [k, { bucket: l.bucket, oi: l.oi, close: l.close }]));
            expect(got).toEqual(expected);
          }

          const before = someStrikes ? DAY_START : atOrBefore;
          const prev = await lastValuesBefore(store.db, { symbol: SYMBOL, expiry, strikes: STRIKES, column: 'close', before });
          for (const side of SIDES) {
            const expected = new Map<number, number>();
            const at = new Map<number, number>();
            for (const bar of bars) {
              if (bar.side !== side || bar.bucket >= before || bar.close === null) continue;
              if ((at.get(bar.strike) ?? -Infinity) < bar.bucket) {
                at.set(bar.strike, bar.bucket);
                expected.set(bar.strike, bar.close);
              }
            }
            expect(prev[side]).toEqual(expected);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
