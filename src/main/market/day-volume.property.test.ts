// Migrations 0006 and 0007's running volumes (fo_strike_day_volume per IST day, fo_strike_slice_volume per quarter
// hour, both kept by triggers on fo_strike_bars) against the bars themselves: after random writes through the bar
// writer (both sides, merge rules, backfill corrections, volumes that become unknown), roll-ups, deletes and a
// truncate, each table equals the 1-minute bars' sums per IST day and per quarter hour, computed here independently
// (bars read back, IST day and quarter hour in JS); and the distribution's day volume as of any instant (every
// minute's end, the minute itself, quarter-hour boundaries) equals the brute sum of the day's minutes before it,
// through both of its read paths.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { istDate, istInstant } from '../calendar';
import { refreshRollups, upsertStrikeSides, type StrikeSideBar } from './bars';
import { dayVolumes } from './distribution';
import { migrateMarket } from './migrate';
import { MARKET_MIGRATIONS } from './migrations';
import { createTestMarketDb, testBackends, type TestMarketDb } from './testing/db';

const EXPIRIES = ['2025-11-25', '2025-12-02'];
const STRIKES = [24_500, 24_550, 24_600];
// Two IST days, the minutes around IST midnight included (a day boundary at 18:30 UTC).
const MINUTES = [
  ...[0, 1, 2, 3, 200, 374].map((m) => istInstant('2025-11-04', 9, 15) + m * 60_000),
  istInstant('2025-11-04', 23, 59),
  istInstant('2025-11-05', 0, 0),
  ...[0, 1, 5, 100, 101, 102].map((m) => istInstant('2025-11-05', 9, 15) + m * 60_000),
];

type SideBar = Pick<StrikeSideBar, 'expiry' | 'strike' | 'bucket' | 'side' | 'volume' | 'oi' | 'source' | 'complete'> & { underlyingClose: number };
const sideBar: fc.Arbitrary<SideBar> = fc.record({
  expiry: fc.constantFrom(...EXPIRIES),
  strike: fc.constantFrom(...STRIKES),
  bucket: fc.constantFrom(...MINUTES),
  side: fc.constantFrom<'CE' | 'PE'>('CE', 'PE'),
  volume: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
  oi: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null }),
  source: fc.constantFrom<'live' | 'backfill'>('live', 'backfill'),
  complete: fc.boolean(),
  underlyingClose: fc.constantFrom(24_510, 24_520),
});
type Write = { kind: 'write'; bars: SideBar[] } | { kind: 'rollup' } | { kind: 'delete'; strike: number } | { kind: 'truncate' };
const step: fc.Arbitrary<Write> = fc.oneof(
  { weight: 8, arbitrary: fc.array(sideBar, { minLength: 1, maxLength: 12 }).map((bars) => ({ kind: 'write' as const, bars })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rollup' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(...STRIKES).map((strike) => ({ kind: 'delete' as const, strike })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'truncate' as const }) },
);

const toBar = (b: SideBar): StrikeSideBar => ({
  symbol: 'NIFTY',
  expiry: b.expiry,
  strike: b.strike,
  bucket: b.bucket,
  side: b.side,
  token: 1000 + STRIKES.indexOf(b.strike) * 2 + (b.side === 'PE' ? 1 : 0),
  oi: b.oi,
  volume: b.volume,
  open: 10,
  high: 12,
  low: 9,
  close: 11,
  iv: 0.14,
  delta: 0.5,
  gamma: 0.001,
  theta: -5,
  vega: 10,
  ticks: 3,
  underlyingClose: b.underlyingClose,
  source: b.source,
  complete: b.complete,
});

interface BarRow {
  expiry: string;
  strike: number;
  bucket: Date;
  call_volume: number | null;
  put_volume: number | null;
}
type Sums = Map<string, { cv: number; cn: number; pv: number; pn: number }>;

/** Sums of the 1-minute bars grouped by `keyOf` (a day, a quarter hour); `before` drops the minutes at or after it. */
function sumBy(rows: readonly BarRow[], keyOf: (r: BarRow) => string, before?: number): Sums {
  const out: Sums = new Map();
  for (const r of rows) {
    if (before !== undefined && r.bucket.getTime() >= before) continue;
    const key = keyOf(r);
    const s = out.get(key) ?? { cv: 0, cn: 0, pv: 0, pn: 0 };
    if (r.call_volume !== null) {
      s.cv += Number(r.call_volume);
      s.cn++;
    }
    if (r.put_volume !== null) {
      s.pv += Number(r.put_volume);
      s.pn++;
    }
    out.set(key, s);
  }
  for (const [k, s] of out) if (s.cn === 0 && s.pn === 0) out.delete(k);
  return out;
}
/** Per IST day, the IST day computed here. */
const sumBars = (rows: readonly BarRow[], before?: number) => sumBy(rows, (r) => `${r.expiry}|${istDate(r.bucket.getTime())}|${Number(r.strike)}`, before);
/** Per quarter hour (slice start as epoch ms). */
const sumSlices = (rows: readonly BarRow[]) => sumBy(rows, (r) => `${r.expiry}|${r.bucket.getTime() - (r.bucket.getTime() % 900_000)}|${Number(r.strike)}`);

/** Stored rows as Sums; rows whose counts fell to 0 stand for no known volume (the same as no row). */
function storedSums(rows: readonly Record<string, unknown>[], key: (r: Record<string, unknown>) => string): Sums {
  const got: Sums = new Map();
  for (const r of rows) {
    if (Number(r.call_minutes) === 0 && Number(r.put_minutes) === 0) {
      expect([Number(r.call_volume), Number(r.put_volume)]).toEqual([0, 0]);
      continue;
    }
    got.set(key(r), { cv: Number(r.call_volume), cn: Number(r.call_minutes), pv: Number(r.put_volume), pn: Number(r.put_minutes) });
  }
  return got;
}

// The day volume is asked as of each minute's end (the distribution's bucket end), each minute's start, and quarter
// hours (a slice boundary exactly).
const AS_OF = [
  ...new Set([
    ...MINUTES.flatMap((m) => [m, m + 60_000]),
    istInstant('2025-11-04', 9, 30),
    istInstant('2025-11-04', 12, 30),
    istInstant('2025-11-04', 12, 45),
    istInstant('2025-11-05', 9, 30),
    istInstant('2025-11-05', 11, 0),
  ]),
];

// The statement-level triggers, and the row-level twin the migration installs on a TimescaleDB hypertable (swapped in
// here on a plain table: same function, same sums).
const ROW_TWIN = `
  DROP TRIGGER fo_strike_day_volume_insert ON fo_strike_bars;
  DROP TRIGGER fo_strike_day_volume_update ON fo_strike_bars;
  DROP TRIGGER fo_strike_day_volume_delete ON fo_strike_bars;
  CREATE TRIGGER fo_strike_day_volume_row AFTER INSERT OR UPDATE OR DELETE ON fo_strike_bars
    FOR EACH ROW EXECUTE FUNCTION fo_strike_day_volume_row();
  DROP TRIGGER fo_strike_slice_volume_insert ON fo_strike_bars;
  DROP TRIGGER fo_strike_slice_volume_update ON fo_strike_bars;
  DROP TRIGGER fo_strike_slice_volume_delete ON fo_strike_bars;
  CREATE TRIGGER fo_strike_slice_volume_row AFTER INSERT OR UPDATE OR DELETE ON fo_strike_bars
    FOR EACH ROW EXECUTE FUNCTION fo_strike_slice_volume_row();`;
const cases = testBackends().flatMap((backend) => (['statement', 'row'] as const).map((triggers) => [backend, triggers] as const));

describe.each(cases)('running day volume on %s, %s-level triggers', (backend, triggers) => {
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb(backend);
    if (triggers === 'row') await t.db.exec(ROW_TWIN);
  });
  afterAll(async () => t?.close());

  it('the day and quarter-hour tables equal the sums of the 1-minute bars after any writes, and the as-of day volume too', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        await t.db.exec('TRUNCATE fo_strike_bars');
        for (const s of steps) {
          if (s.kind === 'write') await upsertStrikeSides(t.db, s.bars.map(toBar));
          else if (s.kind === 'rollup')
            await refreshRollups(t.db, 'NIFTY', MINUTES[0], MINUTES[MINUTES.length - 1] + 60_000, MINUTES[MINUTES.length - 1] + 3_600_000);
          else if (s.kind === 'delete') await t.db.query('DELETE FROM fo_strike_bars WHERE strike = $1', [s.strike]);
          else await t.db.exec('TRUNCATE fo_strike_bars');
        }
        const bars = await t.db.query<BarRow>('SELECT expiry::text AS expiry, strike, bucket, call_volume, put_volume FROM fo_strike_bars WHERE timeframe = 1');
        const expected = sumBars(bars);
        const days = await t.db.query(
          'SELECT expiry::text AS expiry, ist_day::text AS ist_day, strike, call_volume, call_minutes, put_volume, put_minutes FROM fo_strike_day_volume',
        );
        expect(storedSums(days, (r) => `${String(r.expiry)}|${String(r.ist_day)}|${Number(r.strike)}`)).toEqual(expected);
        const slices = await t.db.query(
          'SELECT expiry::text AS expiry, slice, strike, call_volume, call_minutes, put_volume, put_minutes FROM fo_strike_slice_volume',
        );
        expect(storedSums(slices, (r) => `${String(r.expiry)}|${(r.slice as Date).getTime()}|${Number(r.strike)}`)).toEqual(sumSlices(bars));

        // Per expiry: with no bar at or after the instant the day row, else the quarter hours before it plus the
        // minutes of its own quarter hour.
        for (const to of AS_OF) {
          const day = istDate(to - 1);
          const upTo = sumBars(bars, to);
          for (const expiry of EXPIRIES) {
            const answer = await dayVolumes(t.db, { symbol: 'NIFTY', expiry, day, to });
            for (const strike of STRIKES) {
              const s = upTo.get(`${expiry}|${day}|${strike}`);
              const a = answer.get(strike);
              expect({ CE: a?.CE ?? null, PE: a?.PE ?? null }).toEqual({ CE: s && s.cn > 0 ? s.cv : null, PE: s && s.pn > 0 ? s.pv : null });
            }
          }
        }
      }),
      { numRuns: backend === 'pglite' ? 60 : 80 },
    );
  }, 180_000);

  it.runIf(triggers === 'statement')('migrations 0006 and 0007 fill the day and quarter-hour tables from the bars already stored', async () => {
    const fresh = await createTestMarketDb(backend, { migrate: false });
    try {
      await migrateMarket(
        fresh.db,
        MARKET_MIGRATIONS.filter((m) => m.version < 6),
      );
      const bars = [
        { strike: 24_500, bucket: MINUTES[0], side: 'CE' as const, volume: 7 },
        { strike: 24_500, bucket: MINUTES[1], side: 'CE' as const, volume: 5 },
        { strike: 24_500, bucket: MINUTES[1], side: 'PE' as const, volume: null },
        { strike: 24_550, bucket: MINUTES[7], side: 'PE' as const, volume: 9 },
      ];
      await upsertStrikeSides(
        fresh.db,
        bars.map((b) => toBar({ ...b, expiry: EXPIRIES[0], oi: 1, source: 'live', complete: true, underlyingClose: 24_510 })),
      );
      await migrateMarket(fresh.db);
      const rows = await fresh.db.query(
        'SELECT ist_day::text AS ist_day, strike, call_volume, call_minutes, put_volume, put_minutes FROM fo_strike_day_volume ORDER BY ist_day, strike',
      );
      expect(rows).toEqual([
        { ist_day: '2025-11-04', strike: 24_500, call_volume: 12, call_minutes: 2, put_volume: 0, put_minutes: 0 },
        { ist_day: '2025-11-05', strike: 24_550, call_volume: 0, call_minutes: 0, put_volume: 9, put_minutes: 1 },
      ]);
      // MINUTES[0] and [1] (09:15, 09:16 IST) share the 09:15 quarter hour; MINUTES[7] is 00:00 IST the next day.
      const slices = await fresh.db.query<{ slice: Date; strike: number; call_volume: number; call_minutes: number; put_volume: number; put_minutes: number }>(
        'SELECT slice, strike, call_volume, call_minutes, put_volume, put_minutes FROM fo_strike_slice_volume ORDER BY slice, strike',
      );
      expect(slices.map((r) => ({ ...r, slice: r.slice.getTime() }))).toEqual([
        { slice: istInstant('2025-11-04', 9, 15), strike: 24_500, call_volume: 12, call_minutes: 2, put_volume: 0, put_minutes: 0 },
        { slice: istInstant('2025-11-05', 0, 0), strike: 24_550, call_volume: 0, call_minutes: 0, put_volume: 9, put_minutes: 1 },
      ]);
    } finally {
      await fresh.close();
    }
  });
});
