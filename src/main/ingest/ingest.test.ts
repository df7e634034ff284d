// Ticks through the ingestor into the market store (PGlite, and PostgreSQL when DATABASE_URL is set), compared
// with an independent recomputation from the same ticks: OI last, volume from cumulative deltas across buckets,
// a mid-day counter reset and the next session's reset, greeks with nulls/NaN/invalid values, underlying close,
// both underlying shapes, out-of-order and late ticks, a partial bar at shutdown.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { CHANNEL_OPTIONS, CHANNEL_UNDERLYING, InProcessBus } from '../../shared/feed';
import { HolidayCalendar, istInstant } from '../calendar';
import { silentLogger } from '../log';
import { DataSignals } from '../market/data-signals';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import { noopTelemetry } from '../metrics/telemetry';
import { TickIngestor } from './ingestor';
import { expectedOptionBars, optionMessage, rng, underlyingMessage, type ExpectedBar, type TestOptionTick, type TestUnderlyingTick } from './testing/support';

const DAY1 = istInstant('2025-11-03', 9, 15);
const DAY2 = istInstant('2025-11-04', 9, 15);
const EXPIRY = '2025-11-25';
const INDEX_TOKEN = 256265;

interface Event {
  at: number;
  channel: typeof CHANNEL_OPTIONS | typeof CHANNEL_UNDERLYING;
  message: string;
}

/** A deterministic tick history with every case the rules distinguish. */
function scenario(seed: number) {
  const r = rng(seed);
  const options: { tick: TestOptionTick; at: number }[] = [];
  const dropped: TestOptionTick[] = [];
  const underlying: { tick: TestUnderlyingTick; at: number }[] = [];
  const greek = (valid: number): number | null | 'NaN' | undefined => {
    const x = r();
    if (x < 0.55) return valid;
    if (x < 0.65) return null;
    if (x < 0.75) return 'NaN';
    if (x < 0.85) return undefined;
    return -valid - 7; // invalid for iv, gamma, vega (negative) and delta (|d| > 1)
  };
  const cum = new Map<number, number>();
  const contracts = [
    { token: 1001, type: 'CE' as const, strike: 24500, base: 120 },
    { token: 1002, type: 'PE' as const, strike: 24500, base: 95 },
    { token: 2001, type: 'FUT' as const, strike: 0, base: 24600 },
  ];
  let spot = 24510;
  const emitDay = (dayStart: number, seconds: number) => {
    for (const c of contracts) cum.set(c.token, Math.floor(r() * 50) * 75);
    for (let s = 0; s < seconds; s++) {
      const tsSec = dayStart / 1000 + s;
      spot += (r() - 0.5) * 4;
      underlying.push({
        tick: { symbol: 'NIFTY', token: INDEX_TOKEN, price: Math.round(spot * 100) / 100, ts: tsSec, shape: s % 2 === 0 ? 'A' : 'B' },
        at: tsSec * 1000 + 50 + r() * 850,
      });
      for (const c of contracts) {
        if (r() > 0.6) continue;
        // PE counter reset mid-day on day 1 at 09:18:00 (a service restart): the count restarts from a small value.
        if (c.token === 1002 && dayStart === DAY1 && s === 180) cum.set(c.token, 0);
        cum.set(c.token, (cum.get(c.token) as number) + Math.floor(r() * 20) * 75);
        const allZero = c.type !== 'FUT' && r() < 0.05;
        const tick: TestOptionTick = {
          token: c.token,
          symbol: 'NIFTY',
          expiry: EXPIRY,
          strike: c.strike,
          type: c.type,
          price: Math.round((c.base + (r() - 0.5) * 10) * 20) / 20,
          volume: cum.get(c.token) as number,
          oi: 10_000 + Math.floor(r() * 5000),
          ts: tsSec + (r() < 0.3 ? Math.round(r() * 1000) / 1000 : 0),
          ...(c.type === 'FUT' || allZero
            ? { iv: 0, delta: 0, gamma: 0, theta: 0, vega: 0 }
            : { iv: greek(0.1 + r() * 0.1), delta: greek(c.type === 'CE' ? 0.5 : -0.5), gamma: greek(0.001), theta: greek(-8 - r()), vega: greek(12 + r()) }),
        };
        // Mostly in time, some out of order within a few seconds, a few late past their bucket's flush.
        const x = r();
        const delay = x < 0.9 ? 20 + r() * 1400 : x < 0.97 ? 1500 + r() * 3000 : 10_000 + r() * 30_000;
        options.push({ tick, at: tsSec * 1000 + delay });
      }
    }
  };
  emitDay(DAY1, 300);
  emitDay(DAY2, 180);
  // An illiquid strike first seen at 09:16 (watched from mid-session: its first bar's volume is unknown).
  for (const [sec, vol] of [
    [70, 750],
    [100, 1500],
    [245, 3000],
  ] as const) {
    options.push({
      tick: {
        token: 1003,
        symbol: 'NIFTY',
        expiry: EXPIRY,
        strike: 25000,
        type: 'CE',
        price: 3.5 + sec / 100,
        volume: vol,
        oi: 400 + sec,
        iv: 0.2,
        delta: 0.1,
        gamma: 0.0002,
        theta: -1,
        vega: 2,
        ts: DAY1 / 1000 + sec,
      },
      at: DAY1 + sec * 1000 + 300,
    });
  }
  // Far too late: the 09:16 bucket is past its grace window when this arrives; dropped and counted.
  const tooLate: TestOptionTick = {
    token: 1001,
    symbol: 'NIFTY',
    expiry: EXPIRY,
    strike: 24500,
    type: 'CE',
    price: 999,
    volume: 1e9,
    oi: 1,
    iv: 4,
    delta: 0.99,
    gamma: 0.1,
    theta: -1,
    vega: 1,
    ts: DAY1 / 1000 + 90,
  };
  options.push({ tick: tooLate, at: DAY1 + 290_000 });
  dropped.push(tooLate);

  const events: Event[] = [
    ...options.map((o) => ({ at: o.at, channel: CHANNEL_OPTIONS, message: optionMessage(o.tick) }) as Event),
    ...underlying.map((u) => ({ at: u.at, channel: CHANNEL_UNDERLYING, message: underlyingMessage(u.tick) }) as Event),
  ];
  const order = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i);
  const arrivalOptions = options
    .map((o, i) => ({ o, i }))
    .sort((a, b) => a.o.at - b.o.at || a.i - b.i)
    .map((x) => x.o.tick);
  const arrivalUnderlying = underlying
    .map((u, i) => ({ u, i }))
    .sort((a, b) => a.u.at - b.u.at || a.i - b.i)
    .map((x) => x.u.tick);
  return { events: order.map((x) => x.e), options: arrivalOptions.filter((t) => !dropped.includes(t)), underlying: arrivalUnderlying, dropped };
}

interface StrikeRow {
  strike: number;
  bucket: Date;
  underlying_close: number | null;
  [k: string]: unknown;
}

const close = (actual: number | null, expected: number | null) => {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual).toBeCloseTo(expected, 9);
};

function expectSide(row: StrikeRow, p: 'call' | 'put', e: ExpectedBar, label: string) {
  const v = (k: string) => row[`${p}_${k}`] as number | null;
  expect({
    label,
    token: v('token'),
    oi: v('oi'),
    volume: v('volume'),
    ticks: v('ticks'),
    open: v('open'),
    high: v('high'),
    low: v('low'),
    close: v('close'),
    complete: row[`${p}_complete`],
  }).toEqual({
    label,
    token: e.token,
    oi: e.oi,
    volume: e.volume,
    ticks: e.ticks,
    open: e.open,
    high: e.high,
    low: e.low,
    close: e.close,
    complete: e.complete,
  });
  for (const g of ['iv', 'delta', 'gamma', 'theta', 'vega'] as const) close(v(g), e[g]);
}

describe.each(testBackends())('tick ingestion on %s', (backend) => {
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb(backend);
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    await t.db.exec('DELETE FROM fo_strike_bars; DELETE FROM instrument_bars;');
  });

  function makeIngestor(clock: ManualClock, bus = new InProcessBus(), signals = new DataSignals()) {
    const ingestor = new TickIngestor({
      bus,
      db: t.db,
      clock,
      signals,
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: true,
      partialEveryMs: 5_000,
      sourceGreeks: 'true',
    });
    ingestor.start();
    return { ingestor, bus, signals };
  }

  it('stores bars equal to an independent recomputation from the same ticks', async () => {
    const sc = scenario(7);
    const clock = new ManualClock(DAY1 - 1000);
    const { ingestor, bus, signals } = makeIngestor(clock);
    let nextStep = 0;
    for (const ev of sc.events) {
      clock.set(Math.max(clock.now(), Math.floor(ev.at)));
      if (clock.now() >= nextStep) {
        ingestor.step();
        nextStep = clock.now() + 250;
      }
      bus.publish(ev.channel, ev.message);
    }
    clock.advance(10 * 60_000);
    ingestor.step();
    expect(await ingestor.writer.drain(20_000)).toBe(true);

    const stats = ingestor.stats();
    expect(stats.parseErrors).toBe(0);
    expect(stats.lateDropped).toBe(1);
    expect(stats.lateMerged).toBeGreaterThan(0);
    expect(stats.droppedBars).toBe(0);

    const expected = expectedOptionBars(sc.options, sc.underlying, { sourceGreeks: 'true' });
    const rows = await t.db.query<StrikeRow>('SELECT * FROM fo_strike_bars WHERE timeframe = 1 ORDER BY bucket, strike');
    let sides = 0;
    for (const row of rows) {
      const bucket = row.bucket.getTime();
      for (const p of ['call', 'put'] as const) {
        const token = row[`${p}_token`] as number | null;
        if (token === null) continue;
        const e = expected.get(`${token}|${bucket}`);
        expect(e, `unexpected bar ${token} ${row.bucket.toISOString()}`).toBeDefined();
        expectSide(row, p, e as ExpectedBar, `${token} ${row.bucket.toISOString()}`);
        close(row.underlying_close, (e as ExpectedBar).underlyingClose);
        sides++;
      }
    }
    const expectedOptionSides = [...expected.values()].filter((e) => e.token !== 2001).length;
    expect(sides).toBe(expectedOptionSides);

    // Cases the scenario was built to contain, so a vacuous pass is impossible.
    const e1002Reset = expected.get(`1002|${DAY1 + 180_000}`) as ExpectedBar;
    expect(e1002Reset.volume).not.toBeNull();
    expect(expected.get(`1003|${DAY1 + 60_000}`)).toMatchObject({ volume: null, complete: false });
    expect(expected.get(`1003|${DAY1 + 240_000}`)).toMatchObject({ volume: 1500, complete: true });
    expect(expected.get(`1001|${DAY2}`)).toMatchObject({ complete: true });
    for (const kind of ['NaN', null, undefined] as const) expect(sc.options.some((o) => o.type !== 'FUT' && o.iv === kind)).toBe(true);
    expect(sc.options.some((o) => o.type !== 'FUT' && o.iv === 0 && o.delta === 0)).toBe(true);

    // Futures in instrument_bars, same rules.
    const futs = await t.db.query<{
      bucket: Date;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number | null;
      oi: number | null;
      ticks: number;
      complete: boolean;
      kind: string;
      expiry: string;
    }>(
      'SELECT bucket, open, high, low, close, volume, oi, ticks, complete, kind, expiry FROM instrument_bars WHERE timeframe = 1 AND token = 2001 ORDER BY bucket',
    );
    const expFut = [...expected.values()].filter((e) => e.token === 2001).sort((a, b) => a.bucket - b.bucket);
    expect(
      futs.map((f) => ({
        bucket: f.bucket.getTime(),
        open: f.open,
        high: f.high,
        low: f.low,
        close: f.close,
        volume: f.volume,
        oi: f.oi,
        ticks: f.ticks,
        complete: f.complete,
        kind: f.kind,
        expiry: f.expiry,
      })),
    ).toEqual(
      expFut.map((e) => ({
        bucket: e.bucket,
        open: e.open,
        high: e.high,
        low: e.low,
        close: e.close,
        volume: e.volume,
        oi: e.oi,
        ticks: e.ticks,
        complete: e.complete,
        kind: 'future',
        expiry: EXPIRY,
      })),
    );

    // The index from both underlying shapes: OHLC in time order per minute.
    const idx = await t.db.query<{ bucket: Date; open: number; high: number; low: number; close: number; ticks: number; complete: boolean }>(
      'SELECT bucket, open, high, low, close, ticks, complete FROM instrument_bars WHERE timeframe = 1 AND token = $1 ORDER BY bucket',
      [INDEX_TOKEN],
    );
    const byMinute = new Map<number, TestUnderlyingTick[]>();
    for (const u of [...sc.underlying].sort((a, b) => a.ts - b.ts)) {
      const m = Math.floor(u.ts / 60) * 60_000;
      byMinute.set(m, [...(byMinute.get(m) ?? []), u]);
    }
    expect(
      idx.map((i) => ({ bucket: i.bucket.getTime(), open: i.open, high: i.high, low: i.low, close: i.close, ticks: i.ticks, complete: i.complete })),
    ).toEqual(
      [...byMinute].map(([m, us]) => ({
        bucket: m,
        open: us[0].price,
        high: Math.max(...us.map((u) => u.price)),
        low: Math.min(...us.map((u) => u.price)),
        close: us[us.length - 1].price,
        ticks: us.length,
        complete: true,
      })),
    );
    expect(new Set(sc.underlying.map((u) => u.shape))).toEqual(new Set(['A', 'B']));

    // 5-minute roll-up of the CE at 09:15 on day 1: oi of the last minute, volume and ticks summed.
    const ones = [0, 1, 2, 3, 4].map((i) => expected.get(`1001|${DAY1 + i * 60_000}`) as ExpectedBar);
    const [five] = await t.db.query<{ call_oi: number; call_volume: number; call_ticks: number }>(
      'SELECT call_oi, call_volume, call_ticks FROM fo_strike_bars WHERE timeframe = 5 AND strike = 24500 AND bucket = $1',
      [new Date(DAY1).toISOString()],
    );
    expect(five).toEqual({
      call_oi: ones[4].oi,
      call_volume: ones.reduce((s, e) => s + (e.volume ?? 0), 0),
      call_ticks: ones.reduce((s, e) => s + e.ticks, 0),
    });

    // First-data evidence for every token that stored bars.
    for (const token of [1001, 1002, 1003, 2001, INDEX_TOKEN]) expect(signals.firstDataAt(token)).toBeTypeOf('number');
    await ingestor.stop();
  });

  it('writes the current minute as a partial bar on shutdown, and the complete bar replaces it later', async () => {
    const clock = new ManualClock(DAY1 + 10 * 60_000 + 5_000);
    const { ingestor, bus } = makeIngestor(clock);
    const base = { token: 1101, symbol: 'NIFTY', expiry: EXPIRY, strike: 24600, type: 'CE' as const, iv: 0.12, delta: 0.4, gamma: 0.001, theta: -7, vega: 11 };
    const minute = DAY1 / 1000 + 600;
    bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 50, volume: 750, oi: 1000, ts: minute + 3 }));
    bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 52, volume: 1500, oi: 1100, ts: minute + 4 }));
    clock.advance(1_000);
    await ingestor.stop();
    const [partial] = await t.db.query<{ call_close: number; call_oi: number; call_complete: boolean }>(
      'SELECT call_close, call_oi, call_complete FROM fo_strike_bars WHERE timeframe = 1 AND strike = 24600',
    );
    expect(partial).toEqual({ call_close: 52, call_oi: 1100, call_complete: false });

    // A later run sees the whole minute (from its start: the previous minute's cumulative is known) and completes it.
    const clock2 = new ManualClock(DAY1 + 9 * 60_000);
    const run2 = makeIngestor(clock2);
    run2.bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 49, volume: 600, oi: 990, ts: minute - 10 }));
    clock2.set(DAY1 + 10 * 60_000 + 5_000);
    run2.bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 50, volume: 750, oi: 1000, ts: minute + 3 }));
    run2.bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 53, volume: 2250, oi: 1200, ts: minute + 50 }));
    clock2.set(DAY1 + 11 * 60_000 + 2_500);
    run2.ingestor.step();
    expect(await run2.ingestor.writer.drain()).toBe(true);
    const [complete] = await t.db.query<{ call_close: number; call_oi: number; call_volume: number; call_complete: boolean }>(
      'SELECT call_close, call_oi, call_volume, call_complete FROM fo_strike_bars WHERE timeframe = 1 AND strike = 24600 AND bucket = $1',
      [new Date(minute * 1000).toISOString()],
    );
    expect(complete).toEqual({ call_close: 53, call_oi: 1200, call_volume: 2250 - 600, call_complete: true });
    await run2.ingestor.stop();
  });

  it('at session end: the 15:29 bar is flushed complete by the wall clock, post-close ticks make no bar', async () => {
    const calendar = HolidayCalendar.weekendsOnly();
    const close = istInstant('2025-11-03', 15, 30);
    const clock = new ManualClock(close - 75_000);
    const bus = new InProcessBus();
    const ingestor = new TickIngestor({
      bus,
      db: t.db,
      clock,
      signals: new DataSignals(),
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: true,
      acceptTickAt: (ms) => calendar.isInSession(ms),
    });
    ingestor.start();
    const base = { token: 1301, symbol: 'NIFTY', expiry: EXPIRY, strike: 24800, type: 'PE' as const, iv: 0.15, delta: -0.4, gamma: 0.001, theta: -6, vega: 9 };
    bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 80, volume: 7500, oi: 300, ts: (close - 75_000) / 1000 }));
    clock.set(close - 10_000);
    bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 81, volume: 9000, oi: 310, ts: (close - 10_000) / 1000 }));
    clock.set(close + 5_000);
    bus.publish(CHANNEL_OPTIONS, optionMessage({ ...base, price: 82, volume: 9750, oi: 320, ts: (close + 5_000) / 1000 }));
    clock.set(close + 2_500);
    ingestor.step();
    expect(await ingestor.writer.drain()).toBe(true);
    const rows = await t.db.query<{ bucket: Date; put_close: number; put_volume: number | null; put_complete: boolean }>(
      'SELECT bucket, put_close, put_volume, put_complete FROM fo_strike_bars WHERE timeframe = 1 AND strike = 24800 ORDER BY bucket',
    );
    expect(rows.map((r) => ({ ...r, bucket: r.bucket.getTime() }))).toEqual([
      { bucket: close - 120_000, put_close: 80, put_volume: null, put_complete: false },
      { bucket: close - 60_000, put_close: 81, put_volume: 1500, put_complete: true },
    ]);
    expect(ingestor.stats().outsideSession).toBe(1);
    // The 15:15 IST 15-minute roll-up was refreshed for the flushed range.
    const [q] = await t.db.query<{ put_volume: number; put_ticks: number }>(
      'SELECT put_volume, put_ticks FROM fo_strike_bars WHERE timeframe = 15 AND strike = 24800',
    );
    expect(q).toEqual({ put_volume: 1500, put_ticks: 2 });
    await ingestor.stop();
  });

  it('counts and skips unparseable messages and honours the mock-tick setting', async () => {
    const clock = new ManualClock(DAY1 + 60_000);
    const bus = new InProcessBus();
    const ingestor = new TickIngestor({
      bus,
      db: t.db,
      clock,
      signals: new DataSignals(),
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: false,
    });
    ingestor.start();
    const ok = { token: 1201, symbol: 'NIFTY', expiry: EXPIRY, strike: 24700, type: 'CE' as const, price: 10, volume: 75, oi: 5, ts: DAY1 / 1000 + 61 };
    for (const m of [
      'not json',
      '{"token": "x"}',
      '[]',
      'null',
      '{"symbol":"NIFTY","type":"CE","token":5,"price":1}',
      '{"symbol":"NIFTY","close":"abc","ts":1}',
    ]) {
      bus.publish(m.includes('close') ? CHANNEL_UNDERLYING : CHANNEL_OPTIONS, m);
    }
    bus.publish(CHANNEL_OPTIONS, optionMessage({ ...ok, isMock: true }));
    bus.publish(CHANNEL_OPTIONS, optionMessage(ok));
    const s = ingestor.stats();
    expect(s).toMatchObject({ parseErrors: 6, mockSkipped: 1, optionTicks: 2 });
    await ingestor.stop();
    const rows = await t.db.query<{ call_ticks: number }>('SELECT call_ticks FROM fo_strike_bars WHERE timeframe = 1 AND strike = 24700');
    expect(rows).toEqual([{ call_ticks: 1 }]);
  });
});
