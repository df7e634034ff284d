// Streaming: tick shapes, history/tick agreement, reload behaviour, capacity, clock modes, faults and events.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromIstWallClock, toIstNaive } from '../shared/calendar';
import { loadHolidayCalendar } from './holidays';
import { ManualClock } from '../testing/clock';
import { CHANNEL_EVENTS, CHANNEL_OPTIONS, CHANNEL_UNDERLYING, type OptionTickMessage } from '../shared/feed';
import { bsGreeks, yearsToExpiry } from '../shared/greeks';
import { type DevTicker, type DevTickerOptions, FastClock, signWebhook, startDevTicker } from './index';
import type { Instrument } from './registry';

const open = (t: string) => fromIstWallClock(`2025-11-04T${t}`);
let dt: DevTicker | null = null;
afterEach(async () => {
  await dt?.close();
  dt = null;
});

async function start(t: number, extra: DevTickerOptions = {}) {
  const clock = new ManualClock(t);
  dt = await startDevTicker({ port: 0, clock, autoTick: false, ...extra });
  const options: any[] = [];
  const underlying: any[] = [];
  dt.bus.subscribe(CHANNEL_OPTIONS, (m) => options.push(JSON.parse(m)));
  dt.bus.subscribe(CHANNEL_UNDERLYING, (m) => underlying.push(JSON.parse(m)));
  return { clock, dt, options, underlying };
}

/** Steps market time second by second, running one loop step each. */
function run(clock: ManualClock, d: DevTicker, seconds: number): void {
  for (let i = 0; i < seconds; i++) {
    d.sim.tick();
    clock.advance(1000);
  }
}

function atmOption(d: DevTicker, expiry: string, type: 'CE' | 'PE'): Instrument {
  const spot = d.sim.underlyingPrice('NIFTY');
  const chain = d.registry.chain('NIFTY', expiry).filter((i) => i.instrumentType === type);
  return chain.reduce((best, i) => (Math.abs(i.strike - spot) < Math.abs(best.strike - spot) ? i : best));
}

const ideal: DevTickerOptions = { profile: 'ideal' };

describe('ticks', () => {
  it('ideal profile: publish the contract shapes on both channels, both underlying shapes', async () => {
    const { clock, dt: d, options, underlying } = await start(open('09:15:00'), ideal);
    const opt = atmOption(d, '2025-11-11', 'CE');
    const fut = d.registry.byTradingsymbol('NIFTY25NOVFUT')!;
    d.sim.subscribe([opt.token, fut.token]);
    run(clock, d, 4);
    const o = options.find((m) => m.token === opt.token) as OptionTickMessage;
    expect(Object.keys(o)).toEqual([
      'symbol',
      'token',
      'tradingsymbol',
      'segment',
      'exchange',
      'strike',
      'expiry',
      'type',
      'lot_size',
      'tick_size',
      'price',
      'volume',
      'oi',
      'iv',
      'delta',
      'gamma',
      'theta',
      'vega',
      'ts',
      'is_mock',
      'depth',
      'total_buy_quantity',
      'total_sell_quantity',
    ]);
    expect(o).toMatchObject({
      symbol: 'NIFTY',
      tradingsymbol: opt.tradingsymbol,
      segment: 'NFO-OPT',
      exchange: 'NFO',
      strike: opt.strike,
      expiry: '2025-11-11',
      type: 'CE',
      lot_size: 75,
      tick_size: 0.05,
      is_mock: false,
    });
    expect(o.ts).toBe(open('09:15:00') / 1000);
    expect(o.depth!.buy).toHaveLength(5);
    expect(o.depth!.sell[0].price).toBeGreaterThan(o.price);
    expect(Math.round(o.price * 20)).toBeCloseTo(o.price * 20, 6);
    // greeks are Black-Scholes at the published iv and the index level of that second
    const spot = d.registry && underlying.find((u) => (u.timestamp ?? u.ts) === o.ts);
    const s = spot.last_price ?? spot.close;
    const g = bsGreeks('CE', s, opt.strike, yearsToExpiry(o.ts * 1000, '2025-11-11'), o.iv);
    expect(Math.abs(g.delta - o.delta)).toBeLessThan(0.002); // iv is published rounded to 4 decimals
    expect(Math.abs(g.price - o.price)).toBeLessThan(0.5);
    expect(o.theta).toBeLessThan(0);
    const f = options.find((m) => m.token === fut.token);
    expect(f).toMatchObject({ type: 'FUT', strike: 0, segment: 'NFO-FUT', iv: 0, delta: 0, gamma: 0, theta: 0, vega: 0 });
    // the raw JSON prints Python floats for strike and zero greeks
    const raw: string[] = [];
    d.bus.subscribe(CHANNEL_OPTIONS, (m) => raw.push(m));
    run(clock, d, 1);
    expect(raw.find((m) => m.includes('FUT'))).toContain('"strike": 0.0');
    // underlying: both shapes, the index ticking because its derivatives stream
    const a = underlying.find((u) => 'last_price' in u);
    const b = underlying.find((u) => 'open' in u && !('last_price' in u));
    expect(Object.keys(a)).toEqual(['symbol', 'instrument_token', 'last_price', 'volume', 'timestamp', 'ohlc']);
    expect(a).toMatchObject({ symbol: 'NIFTY', instrument_token: 256265, volume: 0 });
    expect(Object.keys(b)).toEqual(['symbol', 'open', 'high', 'low', 'close', 'volume', 'ts']);
    expect(underlying.every((u) => u.symbol === 'NIFTY')).toBe(true);
  });

  it("production: the service's shapes and quirks (greeks need the index token, volume 0, ts = receive second)", async () => {
    const { clock, dt: d, options, underlying } = await start(open('10:00:00'));
    const raw: string[] = [];
    const rawU: string[] = [];
    d.bus.subscribe(CHANNEL_OPTIONS, (m) => raw.push(m));
    d.bus.subscribe(CHANNEL_UNDERLYING, (m) => rawU.push(m));
    const opt = atmOption(d, '2025-11-11', 'CE');
    const bank = d.registry
      .chain('BANKNIFTY', '2025-11-25')
      .find((i) => i.instrumentType === 'PE' && Math.abs(i.strike - d.sim.underlyingPrice('BANKNIFTY')) <= 50)!;
    d.sim.subscribe([opt.token, bank.token]);
    run(clock, d, 5);
    const o = options.filter((m) => m.token === opt.token);
    expect(o.length).toBeGreaterThan(2);
    // no index token subscribed: every greek 0 (iv too), volume 0, ts the receive second, is_mock false
    for (const m of o) expect(m).toMatchObject({ iv: 0, delta: 0, gamma: 0, theta: 0, vega: 0, volume: 0, is_mock: false });
    // only NIFTY gets an underlying message (the REST poll, shape B with is_mock); no shape A without the index token
    expect(underlying.length).toBe(5);
    for (const u of underlying) expect(Object.keys(u)).toEqual(['symbol', 'open', 'high', 'low', 'close', 'volume', 'ts', 'is_mock']);
    expect(new Set(underlying.map((u) => u.symbol))).toEqual(new Set(['NIFTY']));
    // subscribing NIFTY 50: its shape A appears and NIFTY's greeks come back, scaled; BANKNIFTY's stay 0
    d.sim.subscribe(256265);
    const from = options.length;
    const fromU = underlying.length;
    run(clock, d, 5);
    const later = options.slice(from);
    const n = later.filter((m) => m.token === opt.token);
    const b = later.filter((m) => m.token === bank.token);
    expect(n.length).toBeGreaterThan(2);
    expect(b.length).toBeGreaterThan(2);
    for (const m of b) expect([m.iv, m.delta, m.theta, m.vega]).toEqual([0, 0, 0, 0]);
    {
      for (const m of n) {
        expect(m.iv).toBeGreaterThan(0.03);
        expect(m.ts).toBe(Math.floor(m.ts)); // an integer second
        // Black-Scholes at that second's index level gives the true units: the tick carries them / 365 and / 100
        const spot = underlying.slice(fromU).find((u) => u.timestamp === m.ts);
        expect(spot).toBeDefined();
        const g = bsGreeks('CE', spot.last_price, opt.strike, yearsToExpiry(m.ts * 1000, '2025-11-11'), m.iv);
        // iv is published rounded to 4 decimals: compare within 0.5% (the unscaled values differ by 365x and 100x)
        expect(Math.abs(m.theta - g.theta / 365)).toBeLessThan(Math.abs(g.theta / 365) * 0.005);
        expect(Math.abs(m.vega - g.vega / 100)).toBeLessThan(Math.abs(g.vega / 100) * 0.005);
        expect(m.depth.buy[0].price).toBeLessThan(m.price / 50); // depth 100x too small on live ticks
      }
    }
    const a = underlying.slice(fromU).filter((u) => 'last_price' in u);
    expect(a.length).toBe(5);
    expect(Object.keys(a[0])).toEqual(['symbol', 'instrument_token', 'last_price', 'volume', 'timestamp', 'ohlc']);
    // Python json.dumps text: ", " and ": " separators, floats with a decimal point
    for (const m of [...raw, ...rawU]) {
      expect(m).not.toMatch(/","|":[^ ]|,"/);
      expect(m).toMatch(/^\{"symbol": "/);
    }
    expect(raw.find((m) => m.includes(`"token": ${opt.token}`))).toMatch(/"strike": \d+\.0, /);
  });

  it('production: iv is NaN (greeks 0.0) on a far option priced at the tick floor', async () => {
    const { clock, dt: d } = await start(open('10:00:00'), { denseTicks: true });
    const raw: string[] = [];
    d.bus.subscribe(CHANNEL_OPTIONS, (m) => raw.push(m));
    const far = d.registry
      .chain('NIFTY', '2025-11-11')
      .filter((i) => i.instrumentType === 'CE')
      .at(-1)!;
    d.sim.subscribe([far.token, 256265]);
    run(clock, d, 2);
    const m = raw.find((x) => x.includes(`"token": ${far.token}`))!;
    expect(m).toContain('"price": 0.05, ');
    expect(m).toContain('"iv": NaN, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0');
    expect(() => JSON.parse(m)).toThrow(); // a consumer needs a NaN-tolerant parse
    d.sim.setFaults({ quirkIvNaN: false });
    run(clock, d, 1);
    expect(raw.at(-1)).not.toContain('NaN');
  });

  it('ideal profile: accumulate volume through the session and keep OI as a snapshot', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'), ideal);
    const opt = atmOption(d, '2025-11-11', 'PE');
    d.sim.subscribe(opt.token);
    run(clock, d, 120);
    const ticks = options.filter((m) => m.token === opt.token);
    expect(ticks.length).toBeGreaterThan(60);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i].volume).toBeGreaterThanOrEqual(ticks[i - 1].volume);
    expect(ticks[0].volume).toBeGreaterThan(0); // cumulative since 09:15
    expect(ticks.every((t) => t.volume % 75 === 0 && t.oi % 75 === 0)).toBe(true);
  });

  it('send ticks only on change: a far strike is sparse', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'));
    const chain = d.registry.chain('NIFTY', '2026-01-27').filter((i) => i.instrumentType === 'CE');
    const far = chain[chain.length - 1];
    d.sim.subscribe(far.token);
    run(clock, d, 300);
    const n = options.filter((m) => m.token === far.token).length;
    expect(n).toBeLessThan(60);
  });
});

describe('history agrees with the streamed ticks', () => {
  it.each(['ideal', 'production'] as const)('%s: for every minute: open/high/low/close, volume, oi, greeks and underlying', async (profile) => {
    const { clock, dt: d, options, underlying } = await start(open('09:15:00'), { profile });
    const atm = atmOption(d, '2025-11-11', 'CE');
    const chain = d.registry.chain('NIFTY', '2025-11-25').filter((i) => i.instrumentType === 'PE');
    const sparse = chain[10];
    const fut = d.registry.byTradingsymbol('NIFTY25DECFUT')!;
    // production computes greeks only with the index token subscribed (and then sends shape A for it)
    d.sim.subscribe([atm.token, sparse.token, fut.token, ...(profile === 'production' ? [256265] : [])]);
    run(clock, d, 4 * 60); // 09:15:00 .. 09:18:59
    clock.set(open('09:25:00'));
    for (const inst of [atm, sparse, fut]) {
      const res = await fetch(`${d.url}/history?instrument_token=${inst.token}&from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T09:18:00&oi=true`);
      const body = (await res.json()) as any;
      clock.advance(1000);
      const ticks = options.filter((m) => m.token === inst.token);
      const byMinute = new Map<string, any[]>();
      for (const t of ticks) {
        const key = `${toIstNaive(Math.floor(t.ts / 60) * 60_000)}+05:30`;
        byMinute.set(key, [...(byMinute.get(key) ?? []), t]);
      }
      expect(body.candles.map((c: any) => c.date)).toEqual([...byMinute.keys()]);
      let prevCum = 0;
      for (const c of body.candles) {
        const mt = byMinute.get(c.date)!;
        const last = mt.at(-1);
        expect(c.open).toBe(mt[0].price);
        expect(c.close).toBe(last.price);
        expect(c.high).toBe(Math.max(...mt.map((t) => t.price)));
        expect(c.low).toBe(Math.min(...mt.map((t) => t.price)));
        expect(c.oi).toBe(last.oi);
        if (profile === 'production') {
          expect(mt.every((t) => t.volume === 0)).toBe(true); // live volume is always 0: only candles have it
          expect(c.volume).toBeGreaterThan(0);
        } else if (prevCum > 0) {
          expect(c.volume).toBe(last.volume - prevCum);
        }
        prevCum = last.volume;
        if (inst.kind === 'option') {
          expect([c.iv, c.delta, c.gamma, c.theta, c.vega]).toEqual([last.iv, last.delta, last.gamma, last.theta, last.vega]);
          const minuteEnd = Date.parse(c.date) / 1000 + 59;
          const u = underlying.find((x) => (x.timestamp ?? x.ts) === minuteEnd);
          expect(c.underlying).toBe(u.last_price ?? u.close);
        }
      }
      if (inst === atm) expect(body.candles).toHaveLength(4);
    }
  });

  it('is the same for the same seed and differs for another', async () => {
    const a = await startDevTicker({ port: 0, clock: new ManualClock(open('12:00:00')), autoTick: false, seed: 7 });
    const b = await startDevTicker({ port: 0, clock: new ManualClock(open('12:00:00')), autoTick: false, seed: 7 });
    const c = await startDevTicker({ port: 0, clock: new ManualClock(open('12:00:00')), autoTick: false, seed: 8 });
    try {
      const path = '/history?instrument_token=256265&from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T11:00:00';
      const [ja, jb, jc] = await Promise.all([a, b, c].map(async (x): Promise<any> => (await fetch(x.url + path)).json()));
      expect(ja).toEqual(jb);
      expect(ja.candles).not.toEqual(jc.candles);
      // realistic levels
      expect(a.sim.underlyingPrice('NIFTY')).toBeGreaterThan(23000);
      expect(a.sim.underlyingPrice('NIFTY')).toBeLessThan(29000);
      expect(a.sim.underlyingPrice('BANKNIFTY')).toBeGreaterThan(52000);
      expect(a.sim.underlyingPrice('MIDCPNIFTY')).toBeLessThan(15000);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('reloads', () => {
  it('full mode: 1 s debounce, a gap for every stream, at most one reload per 5 s', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'));
    const atm = atmOption(d, '2025-11-11', 'CE');
    const other = atmOption(d, '2025-11-11', 'PE');
    const third = d.registry.byTradingsymbol('NIFTY25NOVFUT')!;
    d.sim.subscribe(atm.token); // test setup: immediate
    run(clock, d, 3);
    const post = async (token: number) =>
      (
        await fetch(`${d.url}/subscriptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instrument_token: token }),
        })
      ).status;
    expect(await post(other.token)).toBe(201);
    const secondsWith = (token: number) => new Set(options.filter((m) => m.token === token).map((m) => m.ts - open('10:00:00') / 1000));
    run(clock, d, 10); // t = 3..12
    expect(d.sim.counters().reloads).toBe(1);
    const a = secondsWith(atm.token);
    const o = secondsWith(other.token);
    // change at t=3, reload at t=4 (debounce), gap 2.5 s: nothing at 4, 5, 6; both stream from 7
    expect([3, 4, 5, 6, 7].map((s) => a.has(s))).toEqual([true, false, false, false, true]);
    expect([3, 6, 7, 8].map((s) => o.has(s))).toEqual([false, false, true, true]);
    expect(await post(third.token)).toBe(201); // at t=13; last reload at t=4 -> next at >= t=9 and >= t=14
    run(clock, d, 8);
    const f = secondsWith(third.token);
    expect(Math.min(...f)).toBe(17);
    expect(d.sim.counters().reloads).toBe(2);
  });

  it('incremental mode applies changes at once with no gap', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'), { reloadMode: 'incremental' });
    const atm = atmOption(d, '2025-11-11', 'CE');
    const res = await fetch(`${d.url}/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instrument_token: atm.token }),
    });
    expect(res.status).toBe(201);
    run(clock, d, 3);
    expect(options.filter((m) => m.token === atm.token)).toHaveLength(3);
    await fetch(`${d.url}/subscriptions/${atm.token}`, { method: 'DELETE' });
    run(clock, d, 3);
    expect(options.filter((m) => m.token === atm.token)).toHaveLength(3);
  });
});

describe('capacity', () => {
  it('production: above 9000 active rows an account streams nothing; at 9000 it streams', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'), { strikesPerSide: 200 });
    const derivatives = d.registry.live.filter((i) => i.kind !== 'index').slice(0, 9001);
    d.sim.subscribe(derivatives.map((i) => i.token));
    run(clock, d, 2);
    expect(options).toHaveLength(0);
    expect(d.sim.streamingTokens()).toHaveLength(0);
    const health = (await (await fetch(`${d.url}/health`)).json()) as any;
    expect(health.ticker.active_subscriptions).toBe(9001);
    expect(health.ticker.accounts[0].instrument_count).toBe(0);
    d.sim.unsubscribe(derivatives[0].token);
    expect(d.sim.streamingTokens()).toHaveLength(9000);
    run(clock, d, 2);
    expect(options.length).toBeGreaterThan(100);
  });

  it('ideal profile: streams 9000 per account (3 x 3000); the 9001st stays active but never streams', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'), { strikesPerSide: 200, profile: 'ideal' });
    const derivatives = d.registry.live.filter((i) => i.kind !== 'index').slice(0, 9001);
    d.sim.subscribe(derivatives.map((i) => i.token));
    const health = (await (await fetch(`${d.url}/health`)).json()) as any;
    expect(health.ticker.active_subscriptions).toBe(9001);
    expect(health.ticker.accounts[0].instrument_count).toBe(9000);
    const t = performance.now();
    run(clock, d, 2);
    const perTick = (performance.now() - t) / 2;
    const last = derivatives[9000].token;
    expect(options.some((m) => m.token === last)).toBe(false);
    expect(d.sim.streamingTokens()).not.toContain(last);
    expect(new Set(options.map((m) => m.token)).size).toBeGreaterThan(200); // far strikes tick sparsely
    expect(perTick).toBeLessThan(1000); // generous here; bench/devticker-load.ts measures the real cost
    // freeing one slot lets the 9001st stream
    d.sim.unsubscribe(derivatives[0].token);
    expect(d.sim.streamingTokens()).toContain(last);
  });
});

describe('clock modes', () => {
  it('production: mock ticks every second outside 09:15-15:30 IST (time of day only), EQ rows for index tokens', async () => {
    const evening = fromIstWallClock('2025-11-04T20:00:00');
    const { clock, dt: d, options, underlying } = await start(evening);
    const raw: string[] = [];
    d.bus.subscribe(CHANNEL_OPTIONS, (m) => raw.push(m));
    const far = d.registry
      .chain('NIFTY', '2026-01-27')
      .filter((i) => i.instrumentType === 'CE')
      .at(-5)!;
    const atm = atmOption(d, '2025-11-11', 'PE');
    d.sim.subscribe([far.token, atm.token, 256265]);
    run(clock, d, 4);
    // every instrument every second, far strikes too; marked is_mock false anyway
    expect(options.filter((m) => m.token === far.token)).toHaveLength(4);
    expect(options.filter((m) => m.token === atm.token)).toHaveLength(4);
    expect(options.every((m) => m.is_mock === false)).toBe(true);
    const eq = options.filter((m) => m.type === 'EQ');
    expect(eq).toHaveLength(4);
    expect(eq[0]).toMatchObject({
      symbol: 'NIFTY 50',
      token: 256265,
      tradingsymbol: 'NIFTY 50',
      segment: 'INDICES',
      exchange: 'NSE',
      expiry: null,
      lot_size: 0,
      volume: 0,
    });
    expect(raw.find((m) => m.includes('"EQ"'))).toContain('"strike": 0.0, "expiry": null, "type": "EQ", "lot_size": 0, "tick_size": 0.0, ');
    // depth is right in mock mode
    const m = options.find((x) => x.token === atm.token);
    expect(m.depth.sell[0].price).toBeGreaterThan(m.price);
    expect(m.ts).toBe(fromIstWallClock('2025-11-04T20:00:00') / 1000);
    // NIFTY shape B from the mock generator; no shape A (mock mode)
    expect(underlying).toHaveLength(4);
    expect(underlying.every((u) => u.is_mock === false && !('last_price' in u))).toBe(true);
    // last_tick_at moves only with live ticks: null in mock mode
    const health = (await (await fetch(`${d.url}/health`)).json()) as any;
    expect(health.ticker.accounts[0].last_tick_at).toBeNull();
    // inside the window on a holiday (2025-11-05) the service is "live" and Kite is silent
    clock.set(fromIstWallClock('2025-11-05T10:00:00'));
    const n = options.length;
    run(clock, d, 3);
    expect(options.length).toBe(n);
    // a Saturday evening: the time of day alone decides, mock again
    clock.set(fromIstWallClock('2025-11-08T18:00:00'));
    run(clock, d, 2);
    expect(options.length).toBeGreaterThan(n);
  });

  it('ideal profile: real mode is silent outside sessions; always-open streams with is_mock=true', async () => {
    const evening = fromIstWallClock('2025-11-04T20:00:00');
    const real = await start(evening, ideal);
    const atm = atmOption(real.dt, '2025-11-11', 'CE');
    real.dt.sim.subscribe(atm.token);
    run(real.clock, real.dt, 3);
    expect(real.options).toHaveLength(0);
    expect(real.underlying).toHaveLength(0);
    await real.dt.close();
    const always = await start(evening, { clockMode: 'always-open', profile: 'ideal' });
    always.dt.sim.subscribe(atm.token);
    run(always.clock, always.dt, 3);
    expect(always.options.length).toBeGreaterThan(0);
    expect(always.options.every((m) => m.is_mock === true)).toBe(true);
    expect(always.underlying).toHaveLength(3);
  });

  it('fast mode starts at the next session open and runs `speed` times faster', () => {
    const base = new ManualClock(fromIstWallClock('2025-11-04T20:00:00'));
    const fast = new FastClock(base, 60, loadHolidayCalendar());
    expect(toIstNaive(fast.now())).toBe('2025-11-06T09:15:00'); // 11-05 is a holiday
    base.advance(1000);
    expect(toIstNaive(fast.now())).toBe('2025-11-06T09:16:00');
    base.advance(375 * 1000); // past 15:30: jumps to the next session
    expect(toIstNaive(fast.now())).toBe('2025-11-07T09:15:00');
  });
});

describe('faults', () => {
  it('silent stall: health still running, no ticks, last_tick_at frozen', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'));
    d.sim.subscribe(atmOption(d, '2025-11-11', 'CE').token);
    run(clock, d, 2);
    const before = ((await (await fetch(`${d.url}/health`)).json()) as any).ticker.accounts[0].last_tick_at;
    expect(before).toBe(open('10:00:01') / 1000);
    d.sim.setFaults({ stall: true });
    const n = options.length;
    run(clock, d, 5);
    expect(options.length).toBe(n);
    const h = (await (await fetch(`${d.url}/health`)).json()) as any;
    expect(h.ticker.running).toBe(true);
    expect(h.status).toBe('ok');
    expect(h.ticker.accounts[0].last_tick_at).toBe(before);
  });

  it('stall after reload', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'), { faults: { stallAfterReload: true } });
    d.sim.subscribe(atmOption(d, '2025-11-11', 'CE').token, { viaReload: true });
    run(clock, d, 10);
    expect(options).toHaveLength(0);
    expect(d.sim.faults().stall).toBe(true);
  });

  it('data quirks of section 3: production defaults against the ideal profile, and as overrides', async () => {
    const { clock, dt: d, options } = await start(open('10:00:00'), ideal);
    const atm = atmOption(d, '2025-11-11', 'CE');
    d.sim.subscribe(atm.token);
    run(clock, d, 1);
    const normal = options.at(-1);
    await d.close();
    const again = await start(open('10:00:00'));
    again.dt.sim.subscribe([atm.token, 256265]);
    again.clock.advance(250);
    again.dt.sim.tick();
    const q = again.options[0];
    expect(q.price).toBe(normal.price);
    expect(q.volume).toBe(0);
    expect(normal.volume).toBeGreaterThan(0);
    expect(q.ts).toBe(open('10:00:00') / 1000); // the receive second, an integer
    // the ideal profile with a quirk switched on as an override
    await again.dt.close();
    const overridden = await start(open('10:00:00'), { profile: 'ideal', faults: { quirkVolumeZero: true } });
    overridden.dt.sim.subscribe(atm.token);
    overridden.dt.sim.tick();
    expect(overridden.options[0]).toMatchObject({ volume: 0, theta: normal.theta, is_mock: false });
    // and a production quirk switched off
    await overridden.dt.close();
    const off = await start(open('10:00:00'), { faults: { quirkVolumeZero: false, quirkGreeksNeedIndex: false } });
    off.dt.sim.subscribe(atm.token);
    off.dt.sim.tick();
    expect(off.options[0].volume).toBe(normal.volume);
    expect(off.options[0].theta).toBeCloseTo(normal.theta / 365, 6);
    expect(q.theta).toBeCloseTo(normal.theta / 365, 6);
    expect(q.vega).toBeCloseTo(normal.vega / 100, 6);
    expect(q.depth.buy[0].price).toBeCloseTo(normal.depth.buy[0].price / 100, 6);
    expect(q.is_mock).toBe(false);
  });
});

describe('subscription events', () => {
  it('publish ticker:nifty:events when enabled', async () => {
    const { dt: d } = await start(open('10:00:00'), { publishRedisEvents: true });
    const events: any[] = [];
    const raw: string[] = [];
    d.bus.subscribe(CHANNEL_EVENTS, (m) => {
      raw.push(m);
      events.push(JSON.parse(m));
    });
    const atm = atmOption(d, '2025-11-25', 'CE');
    const post = (body: unknown) =>
      fetch(`${d.url}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await post({ instrument_token: atm.token });
    await post({ instrument_token: atm.token }); // no change, no event
    await fetch(`${d.url}/subscriptions/${atm.token}`, { method: 'DELETE' });
    expect(events).toEqual([
      {
        event_type: 'subscription_created',
        instrument_token: atm.token,
        metadata: { tradingsymbol: atm.tradingsymbol, segment: 'NFO', requested_mode: 'FULL', account_id: null },
        timestamp: open('10:00:00') / 1000,
      },
      {
        event_type: 'subscription_removed',
        instrument_token: atm.token,
        metadata: { tradingsymbol: atm.tradingsymbol, segment: 'NFO', requested_mode: 'FULL', account_id: null },
        timestamp: open('10:00:00') / 1000,
      },
    ]);
    expect(raw[0]).toBe(
      `{"event_type": "subscription_created", "instrument_token": ${atm.token}, "metadata": {"tradingsymbol": "${atm.tradingsymbol}", "segment": "NFO", "requested_mode": "FULL", "account_id": null}, "timestamp": ${open('10:00:00') / 1000}}`,
    );
  });

  it('are off by default', async () => {
    const { dt: d } = await start(open('10:00:00'));
    const events: string[] = [];
    d.bus.subscribe(CHANNEL_EVENTS, (m) => events.push(m));
    d.sim.subscribe(atmOption(d, '2025-11-25', 'CE').token);
    expect(events).toEqual([]);
  });

  it('POST the signed webhook body; dropped events are counted', async () => {
    const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    let notify: () => void = () => {};
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(202).end();
        notify();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/subscription-events`;
      const { dt: d } = await start(open('10:00:00'), { webhookUrl: url, webhookSecret: 's3cret' });
      const atm = atmOption(d, '2025-11-25', 'CE');
      const arrived = new Promise<void>((r) => (notify = r));
      d.sim.subscribe(atm.token);
      await arrived;
      const [{ headers, body }] = received;
      const ts = headers['x-strikedesk-timestamp'] as string;
      expect(ts).toBe(String(open('10:00:00') / 1000));
      expect(headers['x-strikedesk-signature']).toBe(`sha256=${signWebhook('s3cret', ts, body)}`);
      expect(JSON.parse(body)).toEqual({
        event_type: 'created',
        instrument_token: atm.token,
        tradingsymbol: atm.tradingsymbol,
        timestamp: new Date(open('10:00:00')).toISOString(),
        metadata: { segment: 'NFO-OPT', exchange: 'NFO', requested_mode: 'FULL', account_id: null, status: 'active' },
      });
      d.sim.setFaults({ dropEventsRate: 1 });
      d.sim.unsubscribe(atm.token);
      expect(d.sim.counters().eventsDropped).toBe(1);
      expect(received).toHaveLength(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
