import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertInstrumentBars, upsertStrikeSides, refreshRollups, type StrikeSideBar } from './bars';
import { createTestMarketDb, testBackends, type TestMarketDb } from './testing/db';
import { migrateMarket } from './migrate';
import { MARKET_MIGRATIONS } from './migrations';

const T0 = Date.UTC(2025, 10, 4, 3, 45); // 09:15 IST
const bar = (over: Partial<StrikeSideBar>): StrikeSideBar => ({
  symbol: 'NIFTY', expiry: '2025-11-25', strike: 24500, bucket: T0, side: 'CE', token: 101,
  oi: 1000, volume: 50, open: 10, high: 12, low: 9, close: 11, iv: 0.14, delta: 0.5, gamma: 0.001, theta: -5, vega: 10,
  ticks: 5, underlyingClose: 24510, source: 'live', complete: true, ...over,
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
    expect(tables.map((r) => r.table_name)).toEqual(expect.arrayContaining(['fo_strike_bars', 'instrument_bars', 'instrument_registry', 'strikedesk_migrations']));
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
      'SELECT call_oi, put_oi, call_token, put_token FROM fo_strike_bars WHERE strike = $1 AND timeframe = 1', [strike]);
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
      'SELECT strike, call_oi, call_source FROM fo_strike_bars WHERE strike IN (24700, 24750) AND timeframe = 1 ORDER BY strike');
    expect(rows).toEqual([{ strike: 24700, call_oi: 500, call_source: 'live' }, { strike: 24750, call_oi: 999, call_source: 'backfill' }]);
  });

  it('rolls 1-minute bars up to 5 and 15 minutes by the spec rules', async () => {
    const strike = 25000;
    const minutes = [0, 1, 2, 3, 4].map((i) => bar({
      strike, bucket: T0 + i * 60_000, oi: 100 + i, volume: 10 * (i + 1), close: 20 + i,
      iv: i === 2 ? null : 0.1 + i * 0.01, ticks: i + 1, underlyingClose: 24000 + i,
    }));
    await upsertStrikeSides(t.db, minutes);
    await refreshRollups(t.db, 'NIFTY', T0, T0 + 5 * 60_000);
    const [r] = await t.db.query<{ call_oi: number; call_volume: number; call_close: number; call_iv: number; call_ticks: number; underlying_close: number }>(
      'SELECT call_oi, call_volume, call_close, call_iv, call_ticks, underlying_close FROM fo_strike_bars WHERE timeframe = 5 AND strike = $1', [strike]);
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
    const base = { token: 256265, bucket: T0, symbol: 'NIFTY', kind: 'index' as const, expiry: null, open: 1, high: 2, low: 0.5, close: 1.5, volume: 0, oi: null, ticks: 3 };
    await upsertInstrumentBars(t.db, [{ ...base, source: 'live', complete: true }]);
    expect(await upsertInstrumentBars(t.db, [{ ...base, close: 9, source: 'backfill', complete: true }])).toBe(0);
    const rows = await t.db.query<{ close: number }>('SELECT close FROM instrument_bars WHERE token = 256265');
    expect(rows).toEqual([{ close: 1.5 }]);
  });
});
