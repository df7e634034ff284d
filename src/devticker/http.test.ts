// Contract tests over real HTTP (port 0) against docs/ticker-contract.md section 1, in the production profile (the
// default) unless a test says otherwise.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fromIstWallClock } from '../shared/calendar';
import { ManualClock } from '../testing/clock';
import { type DevTicker, KITE_CSV_HEADER, startDevTicker } from './index';
import type { Instrument } from './registry';

const T0 = fromIstWallClock('2025-11-04T11:00:00'); // Tuesday, in session; 2025-11-05 is a holiday
let clock: ManualClock;
let dt: DevTicker;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, target: DevTicker = dt) {
  const sim: Record<string, string> = path.startsWith('/_sim/') && target.simToken ? { 'x-sim-token': target.simToken } : {};
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: body === undefined ? { ...sim, ...headers } : { 'content-type': 'application/json', ...sim, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

function option(expiry: string, strike: number, type: 'CE' | 'PE'): Instrument {
  const inst = dt.registry.chain('NIFTY', expiry).find((i) => i.strike === strike && i.instrumentType === type);
  if (!inst) throw new Error('no such option');
  return inst;
}

beforeEach(async () => {
  clock = new ManualClock(T0);
  dt = await startDevTicker({ port: 0, clock, autoTick: false });
});
afterEach(async () => {
  await dt.close();
});

const US_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('GET /health', () => {
  it('answers the contract shape: idle until a stream starts, then the stream start', async () => {
    const idle = await call('GET', '/health');
    expect(idle.status).toBe(200);
    expect(idle.json).toEqual({
      status: 'degraded',
      environment: 'dev',
      ticker: { running: false, started_at: null, active_subscriptions: 0, accounts: [] },
      dependencies: {
        redis: 'ok',
        database: 'ok',
        instrument_registry: { status: 'ok', cached_instruments: dt.registry.size, last_refresh: '2025-11-04T05:30:00.000000+00:00' },
      },
    });
    clock.advance(2000);
    dt.sim.subscribe([option('2025-11-25', 24500, 'CE').token, 256265]);
    const running = await call('GET', '/health');
    expect(running.json).toMatchObject({
      status: 'ok',
      ticker: {
        running: true,
        started_at: T0 / 1000 + 2,
        active_subscriptions: 2,
        accounts: [{ account_id: 'primary', instrument_count: 2, last_tick_at: null }],
      },
      orchestrator: { status: 'ok' },
      token_refresher: { status: 'ok', next_refresh_at: null },
    });
  });

  it('ideal profile: always running, live counts', async () => {
    const ideal = await startDevTicker({ port: 0, clock, autoTick: false, profile: 'ideal' });
    try {
      const r = await call('GET', '/health', undefined, {}, ideal);
      expect(r.json).toEqual({
        status: 'ok',
        environment: 'dev',
        ticker: {
          running: true,
          started_at: T0 / 1000,
          active_subscriptions: 0,
          accounts: [{ account_id: 'primary', instrument_count: 0, last_tick_at: null }],
        },
        dependencies: {
          redis: 'ok',
          database: 'ok',
          instrument_registry: { status: 'ok', cached_instruments: ideal.registry.size, last_refresh: new Date(T0).toISOString() },
        },
      });
    } finally {
      await ideal.close();
    }
  });

  it('echoes X-Request-ID or generates a UUID', async () => {
    expect((await call('GET', '/health', undefined, { 'X-Request-ID': 'abc-123' })).headers.get('x-request-id')).toBe('abc-123');
    expect((await call('GET', '/health')).headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await call('GET', '/subscriptions/x')).headers.get('x-request-id')).toBeTruthy();
  });

  it('is limited to 60 per minute', async () => {
    for (let i = 0; i < 60; i++) expect((await call('GET', '/health')).status).toBe(200);
    const r = await call('GET', '/health');
    expect(r.status).toBe(429);
    expect(r.json).toEqual({ error: 'Rate limit exceeded: 60 per 1 minute' });
  });
});

describe('POST /subscriptions', () => {
  it('stores the desired state and answers 201 with the item: account_id null without one, microsecond timestamps', async () => {
    const inst = option('2025-11-25', 24500, 'CE');
    const r = await call('POST', '/subscriptions', { instrument_token: inst.token });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({
      instrument_token: inst.token,
      tradingsymbol: 'NIFTY25NOV24500CE',
      segment: 'NFO-OPT',
      status: 'active',
      requested_mode: 'FULL',
      account_id: null,
      created_at: r.json.created_at,
      updated_at: r.json.created_at,
    });
    expect(r.json.created_at).toMatch(US_TS);
    expect(r.json.created_at.startsWith('2025-11-04T05:30:00.000')).toBe(true);
    expect(r.json.created_at).not.toBe('2025-11-04T05:30:00.000000Z'); // digits below the millisecond, as the database has
    expect((await call('GET', '/subscriptions')).json[0].account_id).toBeNull();
    // "" is stored as sent; a configured account as named; null as absent
    const pe = option('2025-11-25', 24500, 'PE');
    expect((await call('POST', '/subscriptions', { instrument_token: pe.token, account_id: '' })).json.account_id).toBe('');
    const other = option('2025-11-25', 24600, 'PE');
    expect((await call('POST', '/subscriptions', { instrument_token: other.token, account_id: 'primary' })).json.account_id).toBe('primary');
    const nul = option('2025-11-25', 24600, 'CE');
    expect((await call('POST', '/subscriptions', { instrument_token: nul.token, account_id: null, requested_mode: '' })).json).toMatchObject({
      account_id: null,
      requested_mode: 'FULL',
    });
    expect((await call('GET', '/subscriptions')).json.map((x: any) => x.account_id)).toEqual([null, '', 'primary', null]);
  });

  it('ideal profile: a POST without account_id gets the first account', async () => {
    const ideal = await startDevTicker({ port: 0, clock, autoTick: false, profile: 'ideal' });
    try {
      const inst = ideal.registry.chain('NIFTY', '2025-11-25')[0];
      const r = await call('POST', '/subscriptions', { instrument_token: inst.token }, {}, ideal);
      expect(r.json).toMatchObject({ account_id: 'primary', created_at: '2025-11-04T05:30:00.000000Z' });
    } finally {
      await ideal.close();
    }
  });

  it('is an idempotent upsert keeping created_at; mode is case-insensitive', async () => {
    const inst = option('2025-11-25', 24500, 'PE');
    const first = await call('POST', '/subscriptions', { instrument_token: inst.token });
    clock.advance(1234);
    const again = await call('POST', '/subscriptions', { instrument_token: inst.token, requested_mode: 'quote' });
    expect(again.status).toBe(201);
    expect(again.json.created_at).toBe(first.json.created_at);
    expect(again.json.updated_at).toMatch(/^2025-11-04T05:30:01\.234\d{3}Z$/);
    expect(again.json.requested_mode).toBe('QUOTE');
    expect((await call('GET', '/subscriptions')).json).toHaveLength(1);
  });

  it('answers the contract errors', async () => {
    const inst = option('2025-11-25', 24500, 'CE');
    expect(await call('POST', '/subscriptions', { instrument_token: inst.token, requested_mode: 'FAST' })).toMatchObject({
      status: 400,
      json: { detail: 'requested_mode must be one of FULL, QUOTE, LTP' },
    });
    expect(await call('POST', '/subscriptions', { instrument_token: 999_999_999 })).toMatchObject({
      status: 404,
      json: { detail: 'Instrument token not found or inactive in registry' },
    });
    expect(await call('POST', '/subscriptions', { instrument_token: inst.token, account_id: 'other' })).toMatchObject({
      status: 400,
      json: { detail: "Account 'other' is not configured" },
    });
    expect((await call('POST', '/subscriptions', { instrument_token: 'abc' })).json).toEqual({
      detail: [
        { type: 'int_parsing', loc: ['body', 'instrument_token'], msg: 'Input should be a valid integer, unable to parse string as an integer', input: 'abc' },
      ],
    });
    expect((await call('POST', '/subscriptions', { instrument_token: 1.5 })).json.detail[0].type).toBe('int_from_float');
    const zero = await call('POST', '/subscriptions', { instrument_token: 0 });
    expect(zero.status).toBe(422);
    expect(zero.json.detail[0]).toEqual({
      type: 'greater_than_equal',
      loc: ['body', 'instrument_token'],
      msg: 'Input should be greater than or equal to 1',
      input: 0,
      ctx: { ge: 1 },
    });
    const missing = await call('POST', '/subscriptions', { requested_mode: 'FULL' });
    expect(missing.status).toBe(422);
    expect(missing.json.detail[0]).toMatchObject({ type: 'missing', loc: ['body', 'instrument_token'], msg: 'Field required' });
    const bad = await call('POST', '/subscriptions', '{not json');
    expect(bad.status).toBe(422);
    expect(bad.json.detail[0]).toMatchObject({ type: 'json_invalid', msg: 'JSON decode error' });
    // a numeric string is accepted (pydantic lax mode)
    expect((await call('POST', '/subscriptions', { instrument_token: String(inst.token) })).status).toBe(201);
  });

  it('refuses an expired token with 404', async () => {
    clock.set(fromIstWallClock('2025-11-06T10:00:00'));
    const expired = dt.registry.byTradingsymbol('NIFTY25N0426000CE');
    expect(expired?.expired).toBe(true);
    expect(await call('POST', '/subscriptions', { instrument_token: expired!.token })).toMatchObject({
      status: 404,
      json: { detail: 'Instrument token not found or inactive in registry' },
    });
  });

  it('limits POST to 30 per minute per client, fixed window, no Retry-After', async () => {
    const chain = dt.registry.chain('NIFTY', '2025-11-25');
    for (let i = 0; i < 30; i++) expect((await call('POST', '/subscriptions', { instrument_token: chain[i].token })).status).toBe(201);
    const r = await call('POST', '/subscriptions', { instrument_token: chain[30].token });
    expect(r.status).toBe(429);
    expect(r.json).toEqual({ error: 'Rate limit exceeded: 30 per 1 minute' });
    expect(r.headers.get('retry-after')).toBeNull();
    expect(dt.sim.counters().requests['POST /subscriptions']).toEqual({ 201: 30, 429: 1 });
    clock.advance(59_999);
    expect((await call('POST', '/subscriptions', { instrument_token: chain[30].token })).status).toBe(429);
    clock.advance(1);
    expect((await call('POST', '/subscriptions', { instrument_token: chain[30].token })).status).toBe(201);
    // DELETE has its own 30/min
    expect((await call('DELETE', `/subscriptions/${chain[0].token}`)).status).toBe(200);
  });

  it('counts per client and path: each DELETE path its own 30/min; 422s are not counted', async () => {
    const chain = dt.registry.chain('NIFTY', '2025-11-25');
    dt.sim.subscribe(chain.slice(0, 40).map((c) => c.token));
    // 40 distinct DELETE paths: none limited
    for (let i = 0; i < 40; i++) expect((await call('DELETE', `/subscriptions/${chain[i].token}`)).status).toBe(200);
    // one path: 30, then 429
    for (let i = 0; i < 29; i++) expect((await call('DELETE', `/subscriptions/${chain[0].token}`)).status).toBe(200);
    expect(await call('DELETE', `/subscriptions/${chain[0].token}`)).toMatchObject({ status: 429, json: { error: 'Rate limit exceeded: 30 per 1 minute' } });
    // validation failures never reach the limiter
    for (let i = 0; i < 35; i++) expect((await call('POST', '/subscriptions', { instrument_token: 'x' })).status).toBe(422);
    for (let i = 0; i < 30; i++) expect((await call('POST', '/subscriptions', { instrument_token: chain[i].token })).status).toBe(201);
    expect((await call('POST', '/subscriptions', { instrument_token: chain[30].token })).status).toBe(429);
    // a 400 is counted (it is raised inside the endpoint)
    for (let i = 0; i < 99; i++) await call('GET', '/subscriptions?limit=0');
    expect((await call('GET', '/subscriptions')).status).toBe(200);
    expect((await call('GET', '/subscriptions')).status).toBe(429);
  });

  it('ideal profile: all DELETEs share one budget', async () => {
    const ideal = await startDevTicker({ port: 0, clock, autoTick: false, profile: 'ideal' });
    try {
      const chain = ideal.registry.chain('NIFTY', '2025-11-25');
      ideal.sim.subscribe(chain.slice(0, 31).map((c) => c.token));
      for (let i = 0; i < 30; i++) expect((await call('DELETE', `/subscriptions/${chain[i].token}`, undefined, {}, ideal)).status).toBe(200);
      expect((await call('DELETE', `/subscriptions/${chain[30].token}`, undefined, {}, ideal)).status).toBe(429);
    } finally {
      await ideal.close();
    }
  });
});

describe('GET /subscriptions', () => {
  it('filters, pages and validates', async () => {
    const chain = dt.registry.chain('NIFTY', '2025-11-25').slice(0, 5);
    dt.sim.subscribe(chain.map((c) => c.token));
    dt.sim.unsubscribe(chain[0].token);
    expect((await call('GET', '/subscriptions')).json).toHaveLength(5);
    expect((await call('GET', '/subscriptions?status=active')).json).toHaveLength(4);
    const inactive = (await call('GET', '/subscriptions?status=inactive')).json;
    expect(inactive).toHaveLength(1);
    expect(inactive[0]).toMatchObject({ instrument_token: chain[0].token, status: 'inactive' });
    const p1 = (await call('GET', '/subscriptions?limit=2&offset=0')).json;
    const p2 = (await call('GET', '/subscriptions?limit=2&offset=2')).json;
    const p3 = (await call('GET', '/subscriptions?limit=2&offset=4')).json;
    expect([...p1, ...p2, ...p3].map((r: any) => r.instrument_token).sort()).toEqual(chain.map((c) => c.token).sort());
    expect(await call('GET', '/subscriptions?status=all')).toMatchObject({ status: 400, json: { detail: "status must be 'active', 'inactive', or omitted" } });
    expect(await call('GET', '/subscriptions?limit=0')).toMatchObject({ status: 400, json: { detail: 'limit must be between 1 and 1000' } });
    expect(await call('GET', '/subscriptions?limit=1001')).toMatchObject({ status: 400, json: { detail: 'limit must be between 1 and 1000' } });
    expect((await call('GET', '/subscriptions?limit=1000')).status).toBe(200);
    expect(await call('GET', '/subscriptions?offset=-1')).toMatchObject({ status: 400, json: { detail: 'offset must be non-negative' } });
    expect((await call('GET', '/subscriptions?status=ACTIVE')).json).toHaveLength(4);
    expect((await call('GET', '/subscriptions?status=')).json).toHaveLength(5);
    expect((await call('GET', '/subscriptions?limit=abc')).json).toEqual({
      detail: [{ type: 'int_parsing', loc: ['query', 'limit'], msg: 'Input should be a valid integer, unable to parse string as an integer', input: 'abc' }],
    });
  });

  it('is limited to 100 per minute', async () => {
    for (let i = 0; i < 100; i++) await call('GET', '/subscriptions');
    expect(await call('GET', '/subscriptions')).toMatchObject({ status: 429, json: { error: 'Rate limit exceeded: 100 per 1 minute' } });
  });
});

describe('DELETE /subscriptions/{token}', () => {
  it('sets inactive, returns the record, is repeatable; unknown is 404', async () => {
    const inst = option('2025-11-25', 25000, 'CE');
    dt.sim.subscribe(inst.token);
    clock.advance(5000);
    const r = await call('DELETE', `/subscriptions/${inst.token}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ instrument_token: inst.token, status: 'inactive' });
    expect(r.json.created_at).toMatch(/^2025-11-04T05:30:00\.000\d{3}Z$/);
    expect(r.json.updated_at).toMatch(/^2025-11-04T05:30:05\.000\d{3}Z$/);
    expect((await call('DELETE', `/subscriptions/${inst.token}`)).status).toBe(200);
    expect(await call('DELETE', '/subscriptions/12345')).toMatchObject({ status: 404, json: { detail: 'Subscription not found' } });
    expect((await call('DELETE', '/subscriptions/abc')).json).toEqual({
      detail: [
        { type: 'int_parsing', loc: ['path', 'instrument_token'], msg: 'Input should be a valid integer, unable to parse string as an integer', input: 'abc' },
      ],
    });
    // malformed percent-encoding is bad input (422), never a 500
    const bad = await call('DELETE', '/subscriptions/%E0%A4%A');
    expect(bad.status).toBe(422);
    expect(bad.json.detail[0]).toMatchObject({ type: 'int_parsing', loc: ['path', 'instrument_token'], input: '%E0%A4%A' });
    expect((await call('DELETE', '/subscriptions/%31%32%33%34%35')).json).toEqual({ detail: 'Subscription not found' }); // decodes to 12345
  });
});

describe('GET /history', () => {
  const q = (params: Record<string, string | number>) =>
    `/history?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;

  it('answers candles for session minutes only, up to now', async () => {
    const r = await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-04T09:00:00', to_ts: '2025-11-04T15:30:00' }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      instrument_token: 256265,
      symbol: 'NIFTY',
      tradingsymbol: 'NIFTY 50',
      segment: 'INDICES',
      interval: 'minute',
      from_ts: '2025-11-04T09:00:00',
      to_ts: '2025-11-04T15:30:00',
    });
    const candles = r.json.candles;
    expect(candles[0].date).toBe('2025-11-04T09:15:00+05:30');
    // now is 11:00:00: the 11:00 minute has begun (its first second only)
    expect(candles.at(-1).date).toBe('2025-11-04T11:00:00+05:30');
    expect(candles).toHaveLength(106);
    expect(Object.keys(candles[0])).toEqual(['date', 'open', 'high', 'low', 'close', 'volume']);
    for (const c of candles) expect(c.low <= c.open && c.open <= c.high && c.low <= c.close && c.close <= c.high).toBe(true);
  });

  it('skips holidays and weekends', async () => {
    clock.set(fromIstWallClock('2025-11-10T09:30:00'));
    const r = await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-04T15:28:00', to_ts: '2025-11-10T09:16:00' }));
    const dates = r.json.candles.map((c: any) => c.date.slice(0, 10));
    expect([...new Set(dates)]).toEqual(['2025-11-04', '2025-11-06', '2025-11-07', '2025-11-10']);
    expect(r.json.candles.filter((c: any) => c.date.startsWith('2025-11-10'))).toHaveLength(2);
  });

  it('reads naive times as IST; a +05:30 suffix or an epoch shifts the window 5h30m earlier', async () => {
    const naive = await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T09:20:00' }));
    expect(naive.json.candles).toHaveLength(6);
    const zoned = await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-04T09:15:00+05:30', to_ts: '2025-11-04T09:20:00+05:30' }));
    expect(zoned.json.from_ts).toBe('2025-11-04T03:45:00');
    expect(zoned.json.candles).toEqual([]);
    const epoch = await call(
      'GET',
      q({ instrument_token: 256265, from_ts: fromIstWallClock('2025-11-04T09:15:00') / 1000, to_ts: fromIstWallClock('2025-11-04T15:20:00') / 1000 }),
    );
    expect(epoch.json.from_ts).toBe('2025-11-04T03:45:00');
    expect(epoch.json.to_ts).toBe('2025-11-04T09:50:00');
    expect(epoch.json.candles).toHaveLength(36); // 09:15..09:50 IST
    clock.advance(1000); // stay inside Kite's 3 requests/s
    const wide = await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-04T14:45:00Z', to_ts: '2025-11-04T15:00:00Z' }));
    expect(wide.json.from_ts).toBe('2025-11-04T14:45:00');
    expect(wide.json.candles).toEqual([]); // 14:45 IST is in the future at 11:00 IST
  });

  it('adds oi with oi=true, and iv/greeks/underlying for options only', async () => {
    const opt = option('2025-11-11', 25500, 'CE');
    const fut = dt.registry.byTradingsymbol('NIFTY25NOVFUT')!;
    const range = { from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T10:59:00' };
    const plain = await call('GET', q({ instrument_token: opt.token, ...range }));
    expect(Object.keys(plain.json.candles[0])).toEqual(['date', 'open', 'high', 'low', 'close', 'volume']);
    const rich = await call('GET', q({ instrument_token: opt.token, ...range, oi: 'true' }));
    expect(Object.keys(rich.json.candles[0])).toEqual([
      'date',
      'open',
      'high',
      'low',
      'close',
      'volume',
      'oi',
      'iv',
      'delta',
      'gamma',
      'theta',
      'vega',
      'underlying',
    ]);
    const c = rich.json.candles[0];
    expect(c.oi % 75).toBe(0);
    expect(c.volume % 75).toBe(0);
    expect(c.iv).toBeGreaterThan(0.03);
    expect(c.iv).toBeLessThan(1);
    expect(c.theta).toBeLessThan(0);
    expect(rich.json.segment).toBe('NFO-OPT');
    expect(rich.json.symbol).toBe(opt.tradingsymbol); // an option is named by its own tradingsymbol
    clock.advance(1000);
    const futR = await call('GET', q({ instrument_token: fut.token, ...range, oi: 1 }));
    expect(Object.keys(futR.json.candles[0])).toEqual(['date', 'open', 'high', 'low', 'close', 'volume', 'oi']);
    expect(futR.json.symbol).toBe('NIFTY25NOVFUT');
  });

  it("carries the live calculator's scaling in candles: theta / 365 and vega / 100 (production), true units in ideal", async () => {
    const opt = option('2025-11-11', 25500, 'CE');
    const params = q({ instrument_token: opt.token, from_ts: '2025-11-04T10:00:00', to_ts: '2025-11-04T10:30:00', oi: 'true' });
    const prod = (await call('GET', params)).json.candles;
    const ideal = await startDevTicker({ port: 0, clock, autoTick: false, profile: 'ideal' });
    try {
      const kind = (await call('GET', params, undefined, {}, ideal)).json.candles;
      expect(prod.map((c: any) => c.date)).toEqual(kind.map((c: any) => c.date));
      expect(prod.length).toBeGreaterThan(5);
      for (let i = 0; i < prod.length; i++) {
        expect(prod[i].theta).toBeCloseTo(kind[i].theta / 365, 6);
        expect(prod[i].vega).toBeCloseTo(kind[i].vega / 100, 5);
        expect(prod[i].delta).toBe(kind[i].delta);
        expect(prod[i].volume).toBe(kind[i].volume); // candle volume is that minute's traded volume in both
      }
    } finally {
      await ideal.close();
    }
  });

  it('aggregates other intervals from the minute data', async () => {
    const opt = option('2025-11-11', 25500, 'CE');
    const base = { instrument_token: opt.token, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T10:14:00', oi: 'true' };
    const minutes = (await call('GET', q(base))).json.candles;
    const fives = (await call('GET', q({ ...base, interval: '5minute' }))).json.candles;
    expect(fives[0].date).toBe('2025-11-04T09:15:00+05:30');
    expect(fives[1].date).toBe('2025-11-04T09:20:00+05:30');
    const first = minutes.filter((m: any) => m.date < '2025-11-04T09:20');
    expect(fives[0].open).toBe(first[0].open);
    expect(fives[0].close).toBe(first.at(-1).close);
    expect(fives[0].volume).toBe(first.reduce((s: number, m: any) => s + m.volume, 0));
    expect(fives[0].high).toBe(Math.max(...first.map((m: any) => m.high)));
    expect(fives[0].oi).toBe(first.at(-1).oi);
    const hour = (await call('GET', q({ ...base, interval: '60minute' }))).json.candles;
    expect(hour.map((h: any) => h.date)).toEqual(['2025-11-04T09:15:00+05:30']);
    clock.set(fromIstWallClock('2025-11-07T16:00:00'));
    const days = (await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-01', to_ts: '2025-11-07T23:59:00', interval: 'day' }))).json.candles;
    expect(days.map((d: any) => d.date)).toEqual([
      '2025-11-03T00:00:00+05:30',
      '2025-11-04T00:00:00+05:30',
      '2025-11-06T00:00:00+05:30',
      '2025-11-07T00:00:00+05:30',
    ]);
  });

  it('answers the contract errors', async () => {
    expect(await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-04T10:00:00', to_ts: '2025-11-04T10:00:00' }))).toMatchObject({
      status: 400,
      json: { detail: "'to_ts' must be greater than 'from_ts'" },
    });
    expect(await call('GET', q({ instrument_token: 4242, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T10:00:00' }))).toMatchObject({
      status: 404,
      json: { detail: 'Instrument token not found in registry' },
    });
    const missing = await call('GET', '/history?from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T10:00:00');
    expect(missing.status).toBe(422);
    expect(missing.json.detail[0]).toEqual({ type: 'missing', loc: ['query', 'instrument_token'], msg: 'Field required', input: null });
    expect((await call('GET', q({ instrument_token: 256265, from_ts: 'yesterday', to_ts: '2025-11-04T10:00:00' }))).json.detail[0]).toMatchObject({
      type: 'datetime_from_date_parsing',
      loc: ['query', 'from_ts'],
    });
    clock.advance(1000);
    expect(await call('GET', q({ instrument_token: 256265, from_ts: '2025-08-01T09:15:00', to_ts: '2025-11-04T10:00:00' }))).toMatchObject({
      status: 502,
      json: { detail: 'Historical fetch failed: interval exceeds max limit: 60 days' },
    });
    expect((await call('GET', q({ instrument_token: 256265, from_ts: '2025-08-01T09:15:00', to_ts: '2025-11-04T10:00:00', interval: '5minute' }))).status).toBe(
      200,
    );
    clock.advance(1000);
    expect(await call('GET', q({ instrument_token: 256265, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T10:00:00', interval: '2minute' }))).toMatchObject(
      {
        status: 502,
        json: { detail: 'Historical fetch failed: invalid interval' },
      },
    );
  });

  it('answers 502 for an expired contract, which is still in the registry', async () => {
    const weekly = option('2025-11-04', 26000, 'CE');
    clock.set(fromIstWallClock('2025-11-06T10:00:00'));
    expect(await call('GET', q({ instrument_token: weekly.token, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T10:00:00' }))).toMatchObject({
      status: 502,
      json: { detail: 'Historical fetch failed: Intraday history for expired contracts is not available' },
    });
  });

  it('ideal profile: surfaces Kite\'s 3 requests/s limit as 502 "Too many requests" and counts it', async () => {
    const ideal = await startDevTicker({ port: 0, clock, autoTick: false, profile: 'ideal' });
    try {
      const params = q({ instrument_token: 256265, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T09:20:00' });
      for (let i = 0; i < 3; i++) expect((await call('GET', params, undefined, {}, ideal)).status).toBe(200);
      expect(await call('GET', params, undefined, {}, ideal)).toMatchObject({ status: 502, json: { detail: 'Historical fetch failed: Too many requests' } });
      clock.advance(1000);
      expect((await call('GET', params, undefined, {}, ideal)).status).toBe(200);
      const c = ideal.sim.counters();
      expect(c.historyRateLimited).toBe(1);
      expect(c.historyCalls.map((h) => [h.at - T0, h.status, h.rateLimited])).toEqual([
        [0, 200, false],
        [0, 200, false],
        [0, 200, false],
        [0, 502, true],
        [1000, 200, false],
      ]);
    } finally {
      await ideal.close();
    }
  });

  it("production: the service's Kite limiter (bucket of 3, 3/s) queues a call instead of refusing it", async () => {
    const params = q({ instrument_token: 256265, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T09:20:00' });
    for (let i = 0; i < 3; i++) expect((await call('GET', params)).status).toBe(200);
    let settled = false;
    const fourth = call('GET', params).then((r) => {
      settled = true;
      return r;
    });
    // the fourth waits for a token (1/3 s of the fake clock), then is answered 200
    await vi.waitFor(() => expect(dt.sim.counters().historyQueued).toBe(1));
    // The queued call polls the clock (src/devticker/http.ts waitUntil) and reads it again only after deciding to
    // wait on: two reads after the advance prove it saw 300 ms and did not let the call go.
    let reads = 0;
    const now = clock.now.bind(clock);
    const spy = vi.spyOn(clock, 'now').mockImplementation(() => (reads++, now()));
    clock.advance(300);
    await vi.waitFor(() => expect(reads).toBeGreaterThanOrEqual(2));
    spy.mockRestore();
    expect(settled).toBe(false);
    clock.advance(34);
    const r = await fourth;
    expect(r.status).toBe(200);
    expect(r.json.candles).toHaveLength(6);
    const c = dt.sim.counters();
    expect(c.historyRateLimited).toBe(0);
    expect(c.historyQueuedMs).toBe(334);
    expect(c.historyCalls.map((h) => [h.status, h.queuedMs])).toEqual([
      [200, 0],
      [200, 0],
      [200, 0],
      [200, 334],
    ]);
  });

  it('production: a queue longer than 30 s sends anyway after 30 s', async () => {
    const params = q({ instrument_token: 256265, from_ts: '2025-11-04T09:15:00', to_ts: '2025-11-04T09:16:00' });
    // 3 at once, then 90 queued fill 30 s; the 94th and 95th would wait longer and are cut to 30 s
    const all = Array.from({ length: 95 }, () => call('GET', params));
    await vi.waitFor(() => expect(dt.sim.counters().historyQueued).toBe(92));
    clock.advance(29_999);
    // queued calls leave as the clock reaches their turn: 3 at once + 89 within 29.999 s
    await vi.waitFor(() => expect(dt.sim.counters().historyCalls.length).toBeGreaterThanOrEqual(92));
    clock.advance(1);
    const answers = await Promise.all(all);
    const waits = dt.sim.counters().historyCalls.map((h) => h.queuedMs ?? 0);
    expect(Math.max(...waits)).toBe(30_000);
    expect(waits.filter((w) => w === 30_000).length).toBeGreaterThanOrEqual(2);
    // every call was answered: 200, or Kite's own refusal for the ones sent past the queue
    for (const a of answers) expect([200, 502]).toContain(a.status);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(93);
  });
});

describe('GET /instruments and unknown routes', () => {
  it('production: no /instruments route, as the real service', async () => {
    expect(await call('GET', '/instruments')).toMatchObject({ status: 404, json: { detail: 'Not Found' } });
    expect((await call('POST', '/instruments', {})).status).toBe(404);
  });

  it('ideal profile (or instrumentsRoute: true) serves the Kite CSV', async () => {
    const ideal = await startDevTicker({ port: 0, clock, autoTick: false, profile: 'ideal' });
    const opted = await startDevTicker({ port: 0, clock, autoTick: false, instrumentsRoute: true });
    try {
      for (const d of [ideal, opted]) {
        const r = await call('GET', '/instruments', undefined, {}, d);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/text\/csv/);
        expect(r.text.split('\n')[0]).toBe(KITE_CSV_HEADER);
      }
    } finally {
      await Promise.all([ideal.close(), opted.close()]);
    }
  });

  it('answers FastAPI 404/405', async () => {
    expect(await call('GET', '/nope')).toMatchObject({ status: 404, json: { detail: 'Not Found' } });
    expect(await call('PUT', '/subscriptions', {})).toMatchObject({ status: 405, json: { detail: 'Method Not Allowed' } });
  });
});

describe('fault switches over /_sim/', () => {
  it('injects 500s with the unexpected-error shape', async () => {
    const set = await call('POST', '/_sim/faults', { errorRate: 1 });
    expect(set.json.errorRate).toBe(1);
    const r = await call('GET', '/subscriptions', undefined, { 'X-Request-ID': 'req-1' });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({
      error: { type: 'internal_error', message: 'An unexpected error occurred', timestamp: '2025-11-04T05:30:00.000000+00:00', request_id: 'req-1' },
    });
  });

  it('answers 429 everywhere in a storm and reports state', async () => {
    await call('POST', '/_sim/faults', { rateLimitStorm: true });
    expect((await call('GET', '/health')).status).toBe(429);
    expect((await call('GET', '/subscriptions')).json).toEqual({ error: 'Rate limit exceeded: 100 per 1 minute' });
    expect((await call('GET', '/history?instrument_token=256265&from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T09:20:00')).json).toEqual({
      detail: 'Historical fetch failed: Too many requests',
    });
    const state = await call('GET', '/_sim/state');
    expect(state.json.faults.rateLimitStorm).toBe(true);
    expect(state.json.counters.requests['GET /health']).toEqual({ 429: 1 });
    expect(state.json.underlying_prices.NIFTY).toBe(dt.sim.underlyingPrice('NIFTY'));
    expect(state.json.in_session).toBe(true);
    await call('POST', '/_sim/reset', {});
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('adds latency', async () => {
    dt.sim.setFaults({ latencyMs: 150 });
    const t = performance.now();
    await call('GET', '/health');
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
  });

  it('validates fault patches', async () => {
    expect((await call('POST', '/_sim/faults', { errorRate: 2 })).status).toBe(400);
    expect((await call('POST', '/_sim/faults', { bogus: true })).status).toBe(400);
    expect(() => dt.sim.setFaults({ errorRate: -1 })).toThrow();
  });

  it('subscribes in bulk without rate limits', async () => {
    const chain = dt.registry.chain('NIFTY', '2025-11-25').slice(0, 40);
    const r = await call('POST', '/_sim/subscribe', { tokens: [...chain.map((c) => c.token), 77] });
    expect(r.json).toEqual({ subscribed: 40, missing: [77] });
    expect((await call('GET', '/health')).json.ticker.active_subscriptions).toBe(40);
  });
});
