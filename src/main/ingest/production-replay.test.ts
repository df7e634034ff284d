// A tick stream with the real service's quirks, recorded from the devticker's production profile (volume 0, theta /
// 365 and vega / 100, receive-time ts, is_mock false on the pre-open mock ticks) and given the quirks the devticker
// does not make itself (integer ts, all-zero greeks while no index token streams, bare NaN, index rows on the options
// channel, an extra field), replayed into ingest on PGlite (and PostgreSQL with DATABASE_URL). Every stored bar is
// checked against an independent recomputation from the raw messages, then every distribution figure against a brute
// force over the same ticks, before and after history candles fill the unknown volumes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker/index';
import { ManualClock } from '../../testing/clock';
import { CHANNEL_OPTIONS, CHANNEL_UNDERLYING, InProcessBus } from '../../shared/feed';
import { strikeSideBar } from '../backfill/writer';
import { HolidayCalendar, fromIstWallClock } from '../calendar';
import { silentLogger } from '../log';
import { upsertStrikeSides } from '../market/bars';
import { DataSignals } from '../market/data-signals';
import { distributionSeries, legKey, type ListedLeg } from '../market/distribution';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import { noopTelemetry } from '../metrics/telemetry';
import { TickIngestor } from './ingestor';
import { expectedOptionBars, type ExpectedBar, type TestOptionTick, type TestUnderlyingTick } from './testing/support';

const MIN = 60_000;
const START = fromIstWallClock('2025-11-04T09:13:00');
const OPEN = fromIstWallClock('2025-11-04T09:15:00');
const END = fromIstWallClock('2025-11-04T09:22:00');
/** The minute the service had no index token subscribed: every greek 0. */
const NO_INDEX_MINUTE = fromIstWallClock('2025-11-04T09:17:00');
const EXPIRY = '2025-11-11';

interface Recorded {
  at: number;
  channel: typeof CHANNEL_OPTIONS | typeof CHANNEL_UNDERLYING;
  message: string;
}

let seq = 0;
/** The production quirks the devticker's profile does not produce, applied to a recorded message. */
function productionize(message: string): string {
  seq++;
  let m = message.replace(/"ts":\s*"?([0-9.]+)"?/, (_, ts: string) => `"ts": ${Math.floor(Number(ts))}`);
  const ts = Number(/"ts": (\d+)/.exec(m)?.[1]) * 1000;
  if (ts >= NO_INDEX_MINUTE && ts < NO_INDEX_MINUTE + MIN) m = m.replace(/"(iv|delta|gamma|theta|vega)":\s*-?[0-9.e-]+/g, '"$1": 0.0');
  else if (seq % 13 === 0) m = m.replace(/"iv":\s*[0-9.e-]+/, '"iv": NaN');
  return m.replace(/}$/, ', "last_trade_time": "2025-11-04 09:16:00"}');
}

/** Reads a raw option message independently of parse.ts (bare NaN kept as the 'NaN' marker). */
function rawTick(message: string): TestOptionTick & { type: string } {
  const j = JSON.parse(message.replace(/:\s*NaN/g, ': "NaN"')) as Record<string, unknown>;
  const g = (k: string) => (j[k] === 'NaN' ? 'NaN' : (j[k] as number | null | undefined));
  return {
    token: j.token as number,
    symbol: j.symbol as string,
    expiry: j.expiry as string,
    strike: j.strike as number,
    type: j.type as 'CE',
    price: j.price as number,
    volume: j.volume as number,
    oi: j.oi as number,
    iv: g('iv'),
    delta: g('delta'),
    gamma: g('gamma'),
    theta: g('theta'),
    vega: g('vega'),
    ts: j.ts as number,
  };
}

describe.each(testBackends())('a production tick stream replayed into ingest on %s', (backend) => {
  let store: TestMarketDb;
  let dt: DevTicker;
  const recorded: Recorded[] = [];
  let listed: ListedLeg[] = [];
  let legs: { token: number; strike: number; side: 'CE' | 'PE' }[] = [];
  let ingestor: TickIngestor;
  let indexRows = 0;

  beforeAll(async () => {
    store = await createTestMarketDb(backend);
    // Record: three strikes around ATM, both legs, the future and the index, 09:13-09:22 (pre-open mock included).
    const clock = new ManualClock(START);
    dt = await startDevTicker({
      port: 0,
      clock,
      autoTick: false,
      clockMode: 'always-open',
      faults: { quirkVolumeZero: true, quirkTsReceiveTime: true, quirkGreeksScaled: true, quirkIsMockFalse: true },
    });
    dt.bus.subscribe(CHANNEL_OPTIONS, (m) => recorded.push({ at: clock.now() + 40, channel: CHANNEL_OPTIONS, message: productionize(m) }));
    dt.bus.subscribe(CHANNEL_UNDERLYING, (m) => recorded.push({ at: clock.now() + 40, channel: CHANNEL_UNDERLYING, message: m }));
    const chain = dt.registry.chain('NIFTY', EXPIRY);
    listed = chain
      .filter((i) => i.instrumentType === 'CE' || i.instrumentType === 'PE')
      .map((i) => ({ strike: i.strike, side: i.instrumentType as 'CE' | 'PE', token: i.token }));
    const spot = dt.sim.underlyingPrice('NIFTY');
    const strikes = [...new Set(listed.map((l) => l.strike))].sort((a, b) => Math.abs(a - spot) - Math.abs(b - spot)).slice(0, 3);
    legs = listed.filter((l) => strikes.includes(l.strike));
    const fut = dt.registry.byTradingsymbol('NIFTY25NOVFUT');
    dt.sim.subscribe([...legs.map((l) => l.token), ...(fut ? [fut.token] : []), 256265]);
    for (let t = START; t < END; t += 1000) {
      dt.sim.tick();
      // The service's mock mode: the subscribed index token on the options channel, every 5 s.
      if ((t / 1000) % 5 === 0) {
        indexRows++;
        recorded.push({
          at: t + 40,
          channel: CHANNEL_OPTIONS,
          message: `{"symbol": "NIFTY 50", "token": 256265, "tradingsymbol": "NIFTY 50", "segment": "INDICES", "exchange": "NSE", "strike": 0.0, "expiry": null, "type": "EQ", "lot_size": 0, "tick_size": 0.0, "price": 25536.85, "volume": 0, "oi": 0, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0, "ts": ${t / 1000}, "is_mock": false}`,
        });
      }
      clock.advance(1000);
    }
    await dt.close();
    recorded.sort((a, b) => a.at - b.at);

    // Replay.
    const calendar = HolidayCalendar.load();
    const rclock = new ManualClock(START);
    const bus = new InProcessBus();
    ingestor = new TickIngestor({
      bus,
      db: store.db,
      clock: rclock,
      signals: new DataSignals(),
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: false,
      inSession: (ms) => calendar.isInSession(ms),
      sourceGreeks: 'scaled',
      partialEveryMs: 10_000,
    });
    ingestor.start();
    let nextStep = START;
    for (const r of recorded) {
      rclock.set(Math.max(rclock.now(), r.at));
      if (rclock.now() >= nextStep) {
        ingestor.step();
        nextStep = rclock.now() + 250;
      }
      bus.publish(r.channel, r.message);
    }
    rclock.set(END + 5_000);
    ingestor.step();
    expect(await ingestor.writer.drain(20_000)).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await ingestor?.stop();
    await store?.close();
  });

  const optionMessages = () => recorded.filter((r) => r.channel === CHANNEL_OPTIONS && !r.message.includes('"EQ"')).map((r) => rawTick(r.message));

  it('the recording carries every quirk it is meant to', () => {
    const ticks = optionMessages();
    expect(ticks.length).toBeGreaterThan(500);
    expect(ticks.every((t) => t.volume === 0)).toBe(true);
    expect(ticks.every((t) => Number.isInteger(t.ts))).toBe(true);
    expect(ticks.some((t) => t.iv === 'NaN')).toBe(true);
    expect(ticks.some((t) => t.type !== 'FUT' && t.delta === 0 && t.vega === 0)).toBe(true);
    expect(ticks.some((t) => t.ts * 1000 < OPEN)).toBe(true);
    expect(recorded.every((r) => !r.message.includes('"is_mock": true') && !r.message.includes('"is_mock":true'))).toBe(true);
  });

  it('counts index rows apart, skips pre-open mock ticks by the calendar, and parses everything else', () => {
    const s = ingestor.stats();
    expect(s.parseErrors).toBe(0);
    // The devticker publishes the subscribed index as EQ rows in mock mode too, besides the ones added above.
    expect(indexRows).toBeGreaterThan(0);
    expect(s.indexRowsSkipped).toBe(recorded.filter((r) => r.channel === CHANNEL_OPTIONS && r.message.includes('"type": "EQ"')).length);
    expect(s.mockSkipped).toBe(optionMessages().filter((t) => t.ts * 1000 < OPEN).length);
  });

  it('stores every bar as the independent recomputation says: volume unknown and incomplete, greeks in true units', async () => {
    const inSession = optionMessages().filter((t) => t.ts * 1000 >= OPEN);
    const underlying: TestUnderlyingTick[] = recorded
      .filter((r) => r.channel === CHANNEL_UNDERLYING)
      .map((r) => JSON.parse(r.message) as Record<string, number>)
      .map((u) => ({ symbol: 'NIFTY', token: 256265, price: (u.last_price ?? u.close) as number, ts: (u.timestamp ?? u.ts) as number, shape: 'A' as const }))
      .filter((u) => u.ts * 1000 >= OPEN);
    const expected = expectedOptionBars(inSession, underlying, { sourceGreeks: 'scaled' });
    const rows = await store.db.query<Record<string, unknown> & { bucket: Date }>('SELECT * FROM fo_strike_bars WHERE timeframe = 1 ORDER BY bucket, strike');
    let sides = 0;
    for (const row of rows) {
      for (const p of ['call', 'put'] as const) {
        const token = row[`${p}_token`] as number | null;
        if (token === null) continue;
        const e = expected.get(`${token}|${row.bucket.getTime()}`) as ExpectedBar;
        expect(e, `bar ${token} ${row.bucket.toISOString()}`).toBeDefined();
        const v = (k: string) => row[`${p}_${k}`] as number | null;
        expect({ oi: v('oi'), volume: v('volume'), ticks: v('ticks'), close: v('close'), complete: row[`${p}_complete`] }).toEqual({
          oi: e.oi,
          volume: null,
          ticks: e.ticks,
          close: e.close,
          complete: false,
        });
        for (const g of ['iv', 'delta', 'gamma', 'theta', 'vega'] as const) {
          if (e[g] === null) expect(v(g)).toBeNull();
          else expect(v(g)).toBeCloseTo(e[g] as number, 6);
        }
        if (row.bucket.getTime() === NO_INDEX_MINUTE) expect(v('iv')).toBeNull();
        sides++;
      }
    }
    expect(sides).toBe([...expected.values()].filter((e) => legs.some((l) => l.token === e.token)).length);
    // True units: a theta per calendar day is hundreds of times a scaled one.
    const anyTheta = rows.map((r) => r.call_theta as number | null).find((x) => x !== null) as number;
    expect(Math.abs(anyTheta)).toBeGreaterThan(0.5);
  });

  it('answers the distribution from the replayed bars as a brute force over the raw ticks says, then with history volumes', async () => {
    const ticks = optionMessages().filter((t) => t.ts * 1000 >= OPEN);
    const now = END + 5_000;
    const latest = Math.floor((now - 5_000) / MIN) * MIN - MIN; // the latest complete minute
    const tokens = new Map(listed.map((l) => [legKey(l.strike, l.side), l.token]));
    const strikes = [...new Set(legs.map((l) => l.strike))].sort((a, b) => a - b);
    const ask = async () =>
      (
        await distributionSeries(store.db, {
          symbol: 'NIFTY',
          timeframe: '1min',
          now,
          expectingData: () => true,
          legState: () => 'missing',
          listedLegs: async () => listed,
          expiries: [{ expiry: EXPIRY, strikes, atm: strikes[1], step: 50, tokens }],
        })
      )[0];
    const s = await ask();
    expect(s.bucket_time).toBe(new Date(latest).toISOString());
    const lastOi = (token: number) => ticks.filter((t) => t.token === token && t.ts * 1000 < latest + MIN).at(-1)?.oi ?? null;
    let callOi = 0;
    let putOi = 0;
    const pain: { strike: number; c: number; p: number }[] = [];
    for (const k of strikes) {
      const c = lastOi(tokens.get(legKey(k, 'CE')) as number) as number;
      const p = lastOi(tokens.get(legKey(k, 'PE')) as number) as number;
      callOi += c;
      putOi += p;
      pain.push({ strike: k, c, p });
    }
    const settle = [...new Set(listed.map((l) => l.strike))].sort((a, b) => a - b);
    const painAt = (S: number) => pain.reduce((sum, r) => sum + r.c * Math.max(S - r.strike, 0) + r.p * Math.max(r.strike - S, 0), 0);
    const bruteMaxPain = settle.reduce((best, S) => (painAt(S) < painAt(best) ? S : best), settle[0]);
    expect(s.pcr_oi).toBeCloseTo(putOi / callOi, 12);
    expect(s.max_pain_strike).toBe(bruteMaxPain);
    expect(s.pcr_volume).toBeNull(); // the live feed reported no volume: unknown, not 0
    expect(s.coverage).toMatchObject({ strikes_listed: settle.length, strikes_with_data: 3, legs_listed: listed.length, legs_with_data: 6, complete: false });
    // A leg that ticked in the minute: its volume is unknown; one that did not: nothing traded (Kite ticks on change).
    for (const leg of [...s.call, ...s.put]) {
      const ticked = ticks.some((t) => t.token === leg.token && t.ts * 1000 >= latest && t.ts * 1000 < latest + MIN);
      expect(leg).toMatchObject({ volume: ticked ? null : 0, day_volume: null });
    }

    // History candles (the real service's shape: scaled greeks) fill the unknown minutes.
    const candleVolume = (token: number, minute: number) => ((token * 7 + minute / MIN) % 97) * 75;
    const bars = legs.flatMap((l) => {
      const minutes = [...new Set(ticks.filter((t) => t.token === l.token).map((t) => Math.floor((t.ts * 1000) / MIN) * MIN))];
      return minutes.map((m) =>
        strikeSideBar({ token: l.token, kind: 'option', symbol: 'NIFTY', tradingsymbol: 'x', expiry: EXPIRY, strike: l.strike, side: l.side }, m, {
          date: new Date(m).toISOString(),
          open: 10,
          high: 11,
          low: 9,
          close: 10.5,
          volume: candleVolume(l.token, m),
          oi: lastOi(l.token) as number,
          iv: 0.15,
          delta: 0.5,
          gamma: 0.001,
          theta: -0.0328767,
          vega: 0.1425,
          underlying: 25_500,
        }),
      );
    });
    await upsertStrikeSides(store.db, bars);
    const after = await ask();
    let callVol = 0;
    let putVol = 0;
    for (const [i, k] of strikes.entries()) {
      for (const side of ['CE', 'PE'] as const) {
        const token = tokens.get(legKey(k, side)) as number;
        const dayVol = bars.filter((b) => b.token === token && b.bucket < latest + MIN).reduce((sum, b) => sum + (b.volume as number), 0);
        const leg = (side === 'CE' ? after.call : after.put)[i];
        expect(leg.day_volume).toBe(dayVol);
        expect(leg.volume).toBe(bars.find((b) => b.token === token && b.bucket === latest)?.volume ?? 0);
        expect(leg.theta).toBeCloseTo(-0.0328767 * 365, 9);
        expect(leg.vega).toBeCloseTo(14.25, 9);
        if (side === 'CE') callVol += dayVol;
        else putVol += dayVol;
      }
    }
    expect(after.pcr_volume).toBeCloseTo(putVol / callVol, 12);
  });
});
