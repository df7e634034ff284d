import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertInstrumentBars, upsertStrikeSides, refreshRollups, type StrikeSideBar } from './bars';
import { createTestMarketDb, testBackends, type TestMarketDb } from './testing/db';
import { migrateMarket } from './migrate';
import { MARKET_MIGRATIONS } from './migrations';

const T0 = Date.UTC(2025, 10, 4, 3, 45); // 09:15 IST
const bar = (over: Partial<StrikeSideBar>): StrikeSideBar => ({
  symbol: 'NIFTY',
  expiry: '2025-11-25',
  strike: 24500,
  bucket: T0,
  side: 'CE',
  token: 101,
  oi: 1000,
  volume: 50,
  open: 10,
  high: 12,
  low: 9,
  close: 11,
  iv: 0.14,
  delta: 0.5,
  gamma: 0.001,
  theta: -5,
  vega: 10,
  ticks: 5,
  underlyingClose: 24510,
  source: 'live',
  complete: true,
  ...over,
});

describe.each(testBackends())('market store on %s', (backend) => {
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb(backend);
  });
  afterAll(async () => t?.close());

  it('replays the migration chain from empty and is idempotent', async () => {
    const again = await migrateMarket(t.db);
    expect(again).toEqual({ from: MARKET_MIGRATIONS.length, to: MARKET_MIGRATIONS.length });
    const tables = await t.db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    expect(tables.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['fo_strike_bars', 'instrument_bars', 'instrument_registry', 'strikedesk_migrations']),
    );
  });

  it('migration 0005: the bucket index carries strike and both volumes, and replaces fo_strike_bars_latest', async () => {
    const indexes = await t.db.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fo_strike_bars' ORDER BY indexname",
    );
    expect(indexes.map((i) => i.indexname)).not.toContain('fo_strike_bars_latest');
    const byBucket = indexes.find((i) => i.indexname === 'fo_strike_bars_by_bucket');
    expect(byBucket?.indexdef).toMatch(/\(symbol, timeframe, expiry, bucket DESC\) INCLUDE \(strike, call_volume, put_volume\)/);
  });

  it('refuses a schema newer than the build', async () => {
    await expect(migrateMarket(t.db, MARKET_MIGRATIONS.slice(0, 0))).rejects.toThrow(/newer than this build/);
  });

  it('writing one side never nulls the other, and the write is idempotent', async () => {
    const strike = 24600;
    await upsertStrikeSides(t.db, [bar({ strike, side: 'CE', token: 1, oi: 111 })]);
    await upsertStrikeSides(t.db, [bar({ strike, side: 'PE', token: 2, oi: 222 })]);
    await upsertStrikeSides(t.db, [bar({ strike, side: 'PE', token: 2, oi: 222 })]);
    const rows = await t.db.query<{ call_oi: number; put_oi: number; call_token: number; put_token: number }>(
      'SELECT call_oi, put_oi, call_token, put_token FROM fo_strike_bars WHERE strike = $1 AND timeframe = 1',
      [strike],
    );
    expect(rows).toEqual([{ call_oi: 111, put_oi: 222, call_token: 1, put_token: 2 }]);
  });

  it('a backfill never clobbers a complete live bucket, but replaces a partial one', async () => {
    await upsertStrikeSides(t.db, [bar({ strike: 24700, oi: 500, source: 'live', complete: true })]);
    const skipped = await upsertStrikeSides(t.db, [bar({ strike: 24700, oi: 999, source: 'backfill', complete: true })]);
    expect(skipped).toBe(0);
    await upsertStrikeSides(t.db, [bar({ strike: 24750, oi: 500, source: 'live', complete: false })]);
    const written = await upsertStrikeSides(t.db, [bar({ strike: 24750, oi: 999, source: 'backfill', complete: true })]);
    expect(written).toBe(1);
    const rows = await t.db.query<{ strike: number; call_oi: number; call_source: string }>(
      'SELECT strike, call_oi, call_source FROM fo_strike_bars WHERE strike IN (24700, 24750) AND timeframe = 1 ORDER BY strike',
    );
    expect(rows).toEqual([
      { strike: 24700, call_oi: 500, call_source: 'live' },
      { strike: 24750, call_oi: 999, call_source: 'backfill' },
    ]);
  });

  it('rolls 1-minute bars up to 5 and 15 minutes by the spec rules', async () => {
    const strike = 25000;
    const minutes = [0, 1, 2, 3, 4].map((i) =>
      bar({
        strike,
        bucket: T0 + i * 60_000,
        oi: 100 + i,
        volume: 10 * (i + 1),
        close: 20 + i,
        iv: i === 2 ? null : 0.1 + i * 0.01,
        ticks: i + 1,
        underlyingClose: 24000 + i,
      }),
    );
    await upsertStrikeSides(t.db, minutes);
    await refreshRollups(t.db, 'NIFTY', T0, T0 + 5 * 60_000);
    const [r] = await t.db.query<{ call_oi: number; call_volume: number; call_close: number; call_iv: number; call_ticks: number; underlying_close: number }>(
      'SELECT call_oi, call_volume, call_close, call_iv, call_ticks, underlying_close FROM fo_strike_bars WHERE timeframe = 5 AND strike = $1',
      [strike],
    );
    // Independent computation: OI last, volume sum, close last, iv tick-weighted over non-null values.
    const withIv = minutes.filter((m) => m.iv !== null);
    const iv = withIv.reduce((s, m) => s + (m.iv as number) * (m.ticks as number), 0) / withIv.reduce((s, m) => s + (m.ticks as number), 0);
    expect(r.call_oi).toBe(104);
    expect(r.call_volume).toBe(150);
    expect(r.call_close).toBe(24);
    expect(r.call_ticks).toBe(15);
    expect(r.underlying_close).toBe(24004);
    expect(r.call_iv).toBeCloseTo(iv, 12);
  });

  it('writes instrument bars with the same no-clobber rule', async () => {
    const base = {
      token: 256265,
      bucket: T0,
      symbol: 'NIFTY',
      kind: 'index' as const,
      expiry: null,
      open: 1,
      high: 2,
      low: 0.5,
      close: 1.5,
      volume: 0,
      oi: null,
      ticks: 3,
    };
    await upsertInstrumentBars(t.db, [{ ...base, source: 'live', complete: true }]);
    expect(await upsertInstrumentBars(t.db, [{ ...base, close: 9, source: 'backfill', complete: true }])).toBe(0);
    const rows = await t.db.query<{ close: number }>('SELECT close FROM instrument_bars WHERE token = 256265');
    expect(rows).toEqual([{ close: 1.5 }]);
  });
});

// The call and the put of one minute go in one statement (one row) when they agree on underlying_close. Reference:
// the rule as it was written before, one side after the other: every call of the batch (last bar of a key wins), then
// every put, each bar on its own. Random batches over a few keys, with live/backfill and complete/partial sides that
// the merge rules accept or refuse, must leave the same rows and report the same number of side rows written.
describe.each(testBackends())('paired call/put writes on %s', (backend) => {
  let batched: TestMarketDb;
  let reference: TestMarketDb;
  beforeAll(async () => {
    [batched, reference] = await Promise.all([createTestMarketDb(backend), createTestMarketDb(backend)]);
  });
  afterAll(async () => Promise.all([batched?.close(), reference?.close()]));

  const CONTENT = `SELECT strike, bucket, underlying_close, call_token, call_oi, call_volume, call_close, call_iv, call_ticks, call_source, call_complete, call_iv_n,
      put_token, put_oi, put_volume, put_close, put_iv, put_ticks, put_source, put_complete, put_vega_n
    FROM fo_strike_bars WHERE timeframe = 1 ORDER BY strike, bucket`;

  it('leaves the same rows and counts as writing each side on its own', async () => {
    const fc = await import('fast-check');
    const side = fc.record({
      key: fc.integer({ min: 0, max: 3 }),
      side: fc.constantFrom('CE' as const, 'PE' as const),
      oi: fc.integer({ min: 0, max: 1000 }),
      uc: fc.constantFrom(null, 24_000, 24_001),
      source: fc.constantFrom('live' as const, 'backfill' as const),
      complete: fc.boolean(),
      greeks: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(side, { maxLength: 8 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        await Promise.all([batched.db.exec('TRUNCATE fo_strike_bars'), reference.db.exec('TRUNCATE fo_strike_bars')]);
        for (const batch of batches) {
          const bars = batch.map((b) =>
            bar({
              strike: 24_000 + 50 * (b.key % 2),
              bucket: T0 + 60_000 * Math.floor(b.key / 2),
              side: b.side,
              token: b.side === 'CE' ? 1 : 2,
              oi: b.oi,
              underlyingClose: b.uc,
              source: b.source,
              complete: b.complete,
              greekTicks: b.greeks ? [1, 2, 3, 4, 5] : null,
            }),
          );
          const got = await upsertStrikeSides(batched.db, bars);
          let expected = 0;
          for (const s of ['CE', 'PE'] as const) {
            const last = new Map<string, StrikeSideBar>();
            for (const b of bars) if (b.side === s) last.set(`${b.strike}|${b.bucket}`, b);
            for (const b of last.values()) expected += await upsertStrikeSides(reference.db, [b]);
          }
          expect(got).toBe(expected);
        }
        expect(await batched.db.query(CONTENT)).toEqual(await reference.db.query(CONTENT));
      }),
      { numRuns: backend === 'postgres' ? 40 : 60 },
    );
  }, 120_000);
});
