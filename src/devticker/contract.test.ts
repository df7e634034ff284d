// Contract tests: the devticker's real HTTP answers and its bus and Redis messages (production profile) against the
// real service's examples in fixtures/ticker-service/: same keys, same types, same nullability; on Redis the raw
// text must be Python json.dumps output. The fixtures referee; they are never edited to make this pass.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromIstWallClock } from '../shared/calendar';
import { type TestRedis, redisSkipReason, startTestRedis } from '../main/feed/testing/redis';
import { ManualClock } from '../testing/clock';
import { CHANNEL_EVENTS, CHANNEL_OPTIONS, CHANNEL_UNDERLYING, type FeedChannel } from '../shared/feed';
import { type DevTicker, type DevTickerOptions, startDevTicker } from './index';

const FIXTURES = resolve(__dirname, '../../fixtures/ticker-service');
const fixtureText = (name: string): string => readFileSync(resolve(FIXTURES, name), 'utf8');
const fixtureJson = (name: string): unknown => JSON.parse(fixtureText(name));
const fixtureLines = (name: string): string[] =>
  fixtureText(name)
    .split('\n')
    .filter((l) => l.trim() !== '');

/** JSON.parse for Python json.dumps text: NaN (outside strings) becomes a number that is not finite. */
function parsePy(text: string): any {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (text.startsWith('NaN', i)) {
      out += '1e999';
      i += 2;
    } else out += c;
  }
  return JSON.parse(out);
}

/**
 * Python json.dumps layout: outside strings every ',' and ':' is followed by exactly one space, and there is no other
 * whitespace. Returns the first offending position or -1.
 */
function pySpacingError(text: string): number {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === ',' || c === ':') {
      if (text[i + 1] !== ' ' || text[i + 2] === ' ') return i;
      i++;
    } else if (/\s/.test(c)) return i;
  }
  return -1;
}

type Kind = 'null' | 'number' | 'string' | 'boolean' | 'array' | 'object';
const kindOf = (v: unknown): Kind => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as Kind));

/**
 * Checks `actual` against example values of the same thing (one or several fixture samples): its type must be one the
 * samples show (null only where a sample is null), an object's keys must be among the samples' keys and include the
 * keys every sample has, recursively; array elements against all the samples' elements. Returns the problems found.
 */
function shapeProblems(actual: unknown, samples: unknown[], path = '$'): string[] {
  const kinds = new Set(samples.map(kindOf));
  const k = kindOf(actual);
  if (!kinds.has(k)) return [`${path}: ${k}, the fixture has ${[...kinds].join('|')}`];
  if (k === 'object') {
    const objs = samples.filter((s) => kindOf(s) === 'object') as Record<string, unknown>[];
    const all = new Set(objs.flatMap((o) => Object.keys(o)));
    const required = [...all].filter((key) => objs.every((o) => key in o));
    const a = actual as Record<string, unknown>;
    const problems: string[] = [];
    for (const key of Object.keys(a)) if (!all.has(key)) problems.push(`${path}.${key}: not in the fixture`);
    for (const key of required) if (!(key in a)) problems.push(`${path}.${key}: missing`);
    for (const key of Object.keys(a)) {
      if (all.has(key))
        problems.push(
          ...shapeProblems(
            a[key],
            objs.filter((o) => key in o).map((o) => o[key]),
            `${path}.${key}`,
          ),
        );
    }
    return problems;
  }
  if (k === 'array') {
    const elements = (samples.filter((s) => Array.isArray(s)) as unknown[][]).flat();
    if (elements.length === 0) return [];
    return (actual as unknown[]).flatMap((e, i) => shapeProblems(e, elements, `${path}[${i}]`));
  }
  return [];
}

/** The scalar literal printed for `key` in raw JSON text (first occurrence). */
function literal(text: string, key: string): string | undefined {
  return new RegExp(`"${key}": ([^,}\\]]+)`).exec(text)?.[1];
}
const isFloatLiteral = (lit: string): boolean => /^-?(\d+\.\d+(e[+-]\d+)?|\d+e[+-]\d+|NaN)$/.test(lit);

describe('the shape checker itself', () => {
  it('accepts every fixture against itself and rejects a changed one', () => {
    const list = fixtureJson('subscriptions-list.json') as unknown[];
    expect(shapeProblems(list, [list])).toEqual([]);
    expect(shapeProblems({ ...(list[2] as object), account_id: 3 }, list)).toEqual(['$.account_id: number, the fixture has null|string']);
    expect(
      shapeProblems({ ...(fixtureJson('subscription-created.json') as object), account_id: 'primary' }, [fixtureJson('subscription-created.json')]),
    ).toHaveLength(1);
    const withExtra = { ...(fixtureJson('subscription-created.json') as object), extra: 1 };
    expect(shapeProblems(withExtra, [fixtureJson('subscription-created.json')])).toEqual(['$.extra: not in the fixture']);
    for (const file of ['redis-options.txt', 'redis-underlying.txt', 'redis-events.txt']) {
      for (const line of fixtureLines(file)) expect(pySpacingError(line)).toBe(-1);
    }
    expect(pySpacingError('{"a":1}')).toBe(4);
    expect(pySpacingError('{"a": 1,"b": 2}')).toBe(7);
    expect(kindOf(parsePy(fixtureLines('redis-options.txt')[1]).iv)).toBe('number');
  });
});

const T_SESSION = fromIstWallClock('2025-11-04T11:00:00');
const T_EVENING = fromIstWallClock('2025-11-04T20:00:00');
const running: DevTicker[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
});

async function start(t: number, extra: DevTickerOptions = {}) {
  const clock = new ManualClock(t);
  const dt = await startDevTicker({ port: 0, clock, autoTick: false, ...extra });
  running.push(dt);
  return { clock, dt };
}

async function http(dt: DevTicker, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${dt.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

function option(dt: DevTicker, expiry: string, strike: number, type: 'CE' | 'PE') {
  return dt.registry.chain('NIFTY', expiry).find((i) => i.strike === strike && i.instrumentType === type)!;
}

describe('HTTP answers against the fixtures (production profile)', () => {
  it('health: idle and running', async () => {
    const { clock, dt } = await start(T_SESSION);
    const idle = await http(dt, 'GET', '/health');
    expect(shapeProblems(idle.json, [fixtureJson('health-idle.json')])).toEqual([]);
    dt.sim.subscribe([option(dt, '2025-11-11', 26000, 'CE').token, 256265]);
    for (let i = 0; i < 3; i++) {
      dt.sim.tick();
      clock.advance(1000);
    }
    const busy = await http(dt, 'GET', '/health');
    expect(shapeProblems(busy.json, [fixtureJson('health-running.json')])).toEqual([]);
  });

  it('subscriptions: created, listed (null, "" and named accounts, inactive rows), deleted', async () => {
    const { dt } = await start(T_SESSION);
    const [a, b, c] = [option(dt, '2025-11-25', 24500, 'CE'), option(dt, '2025-11-25', 24500, 'PE'), option(dt, '2025-11-25', 25000, 'CE')];
    const created = await http(dt, 'POST', '/subscriptions', { instrument_token: a.token });
    expect(created.status).toBe(201);
    expect(shapeProblems(created.json, [fixtureJson('subscription-created.json')])).toEqual([]);
    expect((await http(dt, 'POST', '/subscriptions', { instrument_token: b.token, account_id: '' })).status).toBe(201);
    expect((await http(dt, 'POST', '/subscriptions', { instrument_token: c.token, account_id: 'primary', requested_mode: 'quote' })).status).toBe(201);
    const deleted = await http(dt, 'DELETE', `/subscriptions/${a.token}`);
    expect(shapeProblems(deleted.json, [fixtureJson('subscription-deleted.json')])).toEqual([]);
    const list = await http(dt, 'GET', '/subscriptions');
    expect(list.json.map((r: any) => [r.account_id, r.status])).toEqual([
      [null, 'inactive'],
      ['', 'active'],
      ['primary', 'active'],
    ]);
    expect(shapeProblems(list.json, [fixtureJson('subscriptions-list.json')])).toEqual([]);
  });

  it('errors: the exact bodies where they are deterministic, the shape otherwise', async () => {
    const { dt } = await start(T_SESSION);
    expect((await http(dt, 'GET', '/subscriptions?limit=0')).json).toEqual(fixtureJson('error-400-limit.json'));
    expect((await http(dt, 'POST', '/subscriptions', { instrument_token: 4242 })).json).toEqual(fixtureJson('error-404-registry.json'));
    expect(await http(dt, 'GET', '/instruments')).toEqual({ status: 404, json: fixtureJson('error-404-route.json') });
    expect(await http(dt, 'DELETE', '/subscriptions/abc')).toEqual({ status: 422, json: fixtureJson('error-422.json') });
    const chain = dt.registry.chain('NIFTY', '2025-11-25');
    for (let i = 0; i < 30; i++) await http(dt, 'POST', '/subscriptions', { instrument_token: chain[i].token });
    expect(await http(dt, 'POST', '/subscriptions', { instrument_token: chain[30].token })).toEqual({ status: 429, json: fixtureJson('error-429.json') });
    dt.sim.setFaults({ rateLimitStorm: true });
    const storm = await http(dt, 'GET', '/history?instrument_token=256265&from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T09:20:00');
    expect(storm).toEqual({ status: 502, json: fixtureJson('error-502-history.json') });
    dt.sim.setFaults({ rateLimitStorm: false, errorRate: 1 });
    const failed = await http(dt, 'GET', '/subscriptions');
    expect(failed.status).toBe(500);
    expect(shapeProblems(failed.json, [fixtureJson('error-500.json')])).toEqual([]);
    expect(failed.json.error.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
  });

  it('history: an index and an option with oi', async () => {
    const { dt } = await start(T_SESSION);
    const index = await http(dt, 'GET', '/history?instrument_token=256265&from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T09:17:00');
    expect(index.json.candles.length).toBeGreaterThan(1);
    expect(shapeProblems(index.json, [fixtureJson('history-index.json')])).toEqual([]);
    const opt = option(dt, '2025-11-25', 26000, 'CE');
    const rich = await http(dt, 'GET', `/history?instrument_token=${opt.token}&from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T10:15:00&oi=true`);
    expect(rich.json.candles.length).toBeGreaterThan(1);
    expect(shapeProblems(rich.json, [fixtureJson('history-option.json')])).toEqual([]);
    expect(rich.json.symbol).toBe(opt.tradingsymbol);
  });
});

interface Captured {
  options: string[];
  underlying: string[];
  events: string[];
}

/** Every message kind in one run: live ticks with and without the index token, then mock ticks (EQ rows, NaN). */
async function produceEverything(dt: DevTicker, clock: ManualClock): Promise<void> {
  const far = dt.registry
    .chain('NIFTY', '2025-11-11')
    .filter((i) => i.instrumentType === 'CE')
    .at(-1)!; // price at the floor: iv NaN
  const atmCe = option(dt, '2025-11-11', 26000, 'CE');
  const atmPe = option(dt, '2025-11-11', 26000, 'PE');
  const fut = dt.registry.byTradingsymbol('NIFTY25NOVFUT')!;
  const bank = dt.registry.chain('BANKNIFTY', '2025-11-25')[60];
  dt.sim.subscribe([atmCe.token, atmPe.token, fut.token, far.token, bank.token, 256265]);
  for (let i = 0; i < 5; i++) {
    dt.sim.tick();
    clock.advance(1000);
  }
  clock.set(T_EVENING); // mock mode: EQ rows for the index token, every instrument every second
  for (let i = 0; i < 3; i++) {
    dt.sim.tick();
    clock.advance(1000);
  }
  dt.sim.unsubscribe(atmPe.token);
}

function checkAgainstFixtures(got: Captured): void {
  const optionLines = fixtureLines('redis-options.txt');
  const derivSamples = optionLines.map(parsePy).filter((m) => m.type !== 'EQ');
  const eqSamples = optionLines.map(parsePy).filter((m) => m.type === 'EQ');
  const seen = new Set<string>();
  for (const text of got.options) {
    expect(pySpacingError(text), text).toBe(-1);
    const msg = parsePy(text);
    seen.add(msg.type);
    if (!Number.isFinite(msg.iv)) seen.add('NaN');
    expect(shapeProblems(msg, msg.type === 'EQ' ? eqSamples : derivSamples), text).toEqual([]);
    // floats print as Python floats wherever the fixture shows one
    const sample = optionLines.find((l) => parsePy(l).type === msg.type) ?? optionLines[0];
    for (const key of ['strike', 'tick_size', 'price', 'iv', 'delta', 'gamma', 'theta', 'vega']) {
      const fix = literal(sample, key);
      if (fix && isFloatLiteral(fix)) expect(isFloatLiteral(literal(text, key) ?? ''), `${key} in ${text}`).toBe(true);
    }
  }
  expect(seen).toEqual(new Set(['CE', 'PE', 'FUT', 'EQ', 'NaN']));
  const [shapeA, shapeB] = fixtureLines('redis-underlying.txt').map(parsePy);
  const shapes = new Set<string>();
  for (const text of got.underlying) {
    expect(pySpacingError(text), text).toBe(-1);
    const msg = parsePy(text);
    const a = 'last_price' in msg;
    shapes.add(a ? 'A' : 'B');
    expect(shapeProblems(msg, [a ? shapeA : shapeB]), text).toEqual([]);
  }
  expect(shapes).toEqual(new Set(['A', 'B']));
  const eventSamples = fixtureLines('redis-events.txt').map(parsePy);
  expect(got.events.length).toBeGreaterThan(1);
  for (const text of got.events) {
    expect(pySpacingError(text), text).toBe(-1);
    expect(shapeProblems(parsePy(text), eventSamples), text).toEqual([]);
  }
}

describe('bus messages against the fixtures (production profile)', () => {
  it('options, both underlying shapes, EQ rows, NaN and events', async () => {
    const { clock, dt } = await start(T_SESSION, { publishRedisEvents: true });
    const got: Captured = { options: [], underlying: [], events: [] };
    dt.bus.subscribe(CHANNEL_OPTIONS, (m) => got.options.push(m));
    dt.bus.subscribe(CHANNEL_UNDERLYING, (m) => got.underlying.push(m));
    dt.bus.subscribe(CHANNEL_EVENTS, (m) => got.events.push(m));
    await produceEverything(dt, clock);
    checkAgainstFixtures(got);
  });
});

const redisSkip = redisSkipReason();
if (redisSkip) process.stdout.write(`contract.test.ts: Redis part skipped: ${redisSkip}\n`);

describe.skipIf(redisSkip !== null)('Redis messages against the fixtures (production profile, real redis-server)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = (await startTestRedis()) as TestRedis;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('publishes the same raw text on Redis as on the bus', async () => {
    const { clock, dt } = await start(T_SESSION, { publishRedisEvents: true, redisUrl: redis.url });
    await dt.redisReady();
    const sub = new Redis(redis.url);
    try {
      if (sub.status !== 'ready') await new Promise((r) => sub.once('ready', r));
      const got: Captured = { options: [], underlying: [], events: [] };
      const onBus: string[] = [];
      for (const ch of [CHANNEL_OPTIONS, CHANNEL_UNDERLYING, CHANNEL_EVENTS] as FeedChannel[]) dt.bus.subscribe(ch, (m) => onBus.push(m));
      sub.on('message', (channel: string, message: string) => {
        if (channel === CHANNEL_OPTIONS) got.options.push(message);
        else if (channel === CHANNEL_UNDERLYING) got.underlying.push(message);
        else got.events.push(message);
      });
      await sub.subscribe(CHANNEL_OPTIONS, CHANNEL_UNDERLYING, CHANNEL_EVENTS);
      await produceEverything(dt, clock);
      const total = () => got.options.length + got.underlying.length + got.events.length;
      await expect.poll(total, { timeout: 5000 }).toBe(onBus.length);
      expect([...got.options, ...got.underlying, ...got.events].sort()).toEqual([...onBus].sort());
      checkAgainstFixtures(got);
    } finally {
      await sub.quit();
    }
  });
});
