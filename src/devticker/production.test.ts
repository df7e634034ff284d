// The production profile's service behaviours over real HTTP: the broken reload, Host/Content-Type/_sim security,
// the https redirect, the state file, the strike rebalancer, and liquidity centred on the live spot.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromIstWallClock } from '../shared/calendar';
import { loadHolidayCalendar } from './holidays';
import { ManualClock } from '../testing/clock';
import { CHANNEL_OPTIONS } from '../shared/feed';
import { type DevTicker, type DevTickerOptions, REBALANCER_ACCOUNT, startDevTicker } from './index';
import type { Instrument } from './registry';

const at = (t: string) => fromIstWallClock(`2025-11-04T${t}`);
const open: DevTicker[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

async function start(t: number, extra: DevTickerOptions = {}) {
  const clock = new ManualClock(t);
  const dt = await startDevTicker({ port: 0, clock, autoTick: false, ...extra });
  open.push(dt);
  const options: any[] = [];
  dt.bus.subscribe(CHANNEL_OPTIONS, (m) => options.push(JSON.parse(m.replace(/\bNaN\b/g, 'null'))));
  return { clock, dt, options };
}

function run(clock: ManualClock, d: DevTicker, seconds: number): void {
  for (let i = 0; i < seconds; i++) {
    d.sim.tick();
    clock.advance(1000);
  }
}

function atm(d: DevTicker, expiry: string, type: 'CE' | 'PE', offset = 0): Instrument {
  const spot = d.sim.underlyingPrice('NIFTY');
  const chain = d.registry.chain('NIFTY', expiry).filter((i) => i.instrumentType === type);
  const best = chain.reduce((b, i) => (Math.abs(i.strike - spot) < Math.abs(b.strike - spot) ? i : b));
  return chain[chain.indexOf(best) + offset];
}

/** A raw HTTP request (fetch cannot set Host). */
function raw(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string; setHost?: boolean },
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, setHost: opts.setHost ?? true },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const post = (d: DevTicker, token: number) =>
  fetch(`${d.url}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instrument_token: token }) });
const health = async (d: DevTicker) => (await (await fetch(`${d.url}/health`)).json()) as any;

describe('reload: broken (the current service revision)', () => {
  it('the first reload stops every stream for good; /health keeps running with a frozen last_tick_at; restart revives', async () => {
    const { clock, dt: d, options } = await start(at('10:00:00'), { reload: 'broken' });
    const a = atm(d, '2025-11-11', 'CE');
    const b = atm(d, '2025-11-11', 'PE');
    d.sim.subscribe([a.token, 256265]); // rows present when the service started: they stream
    run(clock, d, 3);
    expect(options.filter((m) => m.token === a.token).length).toBeGreaterThan(0);
    const before = await health(d);
    expect(before.ticker).toMatchObject({ running: true, active_subscriptions: 2 });
    expect(before.ticker.accounts[0].last_tick_at).toBe(at('10:00:02') / 1000);
    expect((await post(d, b.token)).status).toBe(201); // "desired state stored"
    run(clock, d, 30); // POST at 10:00:03; the reload runs 1 s later
    expect(options.filter((m) => m.ts >= at('10:00:04') / 1000)).toEqual([]); // nothing at all after the reload
    const n = options.length;
    expect(d.sim.counters().reloads).toBe(1);
    const after = await health(d);
    expect(after.status).toBe('ok');
    expect(after.ticker).toMatchObject({ running: true, active_subscriptions: 2 });
    expect(after.ticker.accounts[0].last_tick_at).toBe(at('10:00:03') / 1000); // the last tick before the reload
    run(clock, d, 60);
    expect((await health(d)).ticker.accounts[0].last_tick_at).toBe(at('10:00:03') / 1000); // frozen
    expect(d.sim.state().stream_dead).toBe(true);
    // a bypassing subscribe does not revive it either
    d.sim.applyNow();
    run(clock, d, 2);
    expect(options.length).toBe(n);
    // only a restart streams again, every active row
    d.sim.restart();
    run(clock, d, 3);
    const tokens = new Set(options.slice(n).map((m) => m.token));
    expect(tokens.has(b.token) || options.slice(n).some((m) => m.token === a.token)).toBe(true);
    expect(d.sim.streamingTokens().sort()).toEqual([a.token, b.token, 256265].sort());
    expect((await health(d)).ticker.active_subscriptions).toBe(3);
  });

  it('a service started with no rows never streams later POSTs ("reloader not initialized")', async () => {
    const { clock, dt: d, options } = await start(at('10:00:00'), { reload: 'broken' });
    const a = atm(d, '2025-11-11', 'CE');
    expect((await post(d, a.token)).status).toBe(201);
    expect((await post(d, 256265)).status).toBe(201);
    run(clock, d, 20);
    expect(options).toHaveLength(0);
    expect(d.sim.counters().reloads).toBe(0);
    expect((await health(d)).ticker).toEqual({ running: false, started_at: null, active_subscriptions: 0, accounts: [] });
    d.sim.restart();
    run(clock, d, 2);
    expect(options.some((m) => m.token === 256265 || m.token === a.token)).toBe(true);
  });

  it('the default (full) reload keeps streaming after a POST, with one gap', async () => {
    const { clock, dt: d, options } = await start(at('10:00:00'));
    const a = atm(d, '2025-11-11', 'CE');
    const b = atm(d, '2025-11-11', 'PE');
    d.sim.subscribe([a.token, 256265]);
    run(clock, d, 2);
    expect((await post(d, b.token)).status).toBe(201);
    run(clock, d, 10);
    const last = options.filter((m) => m.ts >= at('10:00:07') / 1000);
    expect(new Set(last.map((m) => m.token))).toEqual(new Set([a.token, b.token, 256265].filter((t) => last.some((m) => m.token === t))));
    expect(last.some((m) => m.token === b.token)).toBe(true);
    expect(d.sim.counters().reloads).toBe(1);
  });
});

describe('security (issue 14)', () => {
  it('refuses a foreign Host on every route (421), accepts the bound address and loopback names', async () => {
    const { dt: d } = await start(at('10:00:00'));
    const port = new URL(d.url).port;
    for (const path of [
      '/health',
      '/subscriptions',
      '/history?instrument_token=256265&from_ts=2025-11-04T09:15:00&to_ts=2025-11-04T09:20:00',
      '/_sim/state',
      '/nope',
    ]) {
      const r = await raw(d.url, { path, headers: { host: 'evil.example', 'x-sim-token': d.simToken! } });
      expect(r.status).toBe(421);
      expect(JSON.parse(r.body)).toEqual({ detail: 'Misdirected Request: Host not allowed' });
    }
    const rebinding = await raw(d.url, {
      method: 'POST',
      path: '/subscriptions',
      headers: { host: `attacker.example:${port}`, 'content-type': 'application/json' },
      body: '{"instrument_token": 256265}',
    });
    expect(rebinding.status).toBe(421);
    expect((await raw(d.url, { path: '/health', headers: { host: `127.0.0.1:${Number(port) + 1}` } })).status).toBe(421);
    expect([400, 421]).toContain((await raw(d.url, { path: '/health', headers: {}, setHost: false })).status); // no Host at all (Node answers 400 first)
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await raw(d.url, { path: '/health', headers: { host } })).status).toBe(200);
    }
    expect((await health(d)).ticker).toBeDefined(); // fetch sends the bound address
    expect(d.sim.state().counters.requests['POST /subscriptions']).toBeUndefined(); // the refused POST never reached a handler
  });

  it('accepts an extra allowed host when configured', async () => {
    const { dt: d } = await start(at('10:00:00'), { allowedHosts: ['devticker.internal:8080'] });
    expect((await raw(d.url, { path: '/health', headers: { host: 'devticker.internal:8080' } })).status).toBe(200);
  });

  it('takes POST bodies as application/json only (415), text/plain refused', async () => {
    const { dt: d } = await start(at('10:00:00'));
    const token = atm(d, '2025-11-11', 'CE').token;
    const body = JSON.stringify({ instrument_token: token });
    for (const ct of [undefined, 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await fetch(`${d.url}/subscriptions`, {
        method: 'POST',
        headers: ct ? { 'content-type': ct } : {},
        body: ct === undefined ? new Blob([body]) : body,
      });
      expect(r.status).toBe(415);
      expect(await r.json()).toEqual({ detail: 'Content-Type must be application/json' });
    }
    expect((await fetch(`${d.url}/subscriptions`)).status).toBe(200);
    expect(((await (await fetch(`${d.url}/subscriptions`)).json()) as unknown[]).length).toBe(0); // nothing stored
    expect((await fetch(`${d.url}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body })).status).toBe(201);
    const sim = await fetch(`${d.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-sim-token': d.simToken! },
      body: '{"errorRate": 1}',
    });
    expect(sim.status).toBe(415);
    expect(d.sim.faults().errorRate).toBe(0);
  });

  it('puts /_sim/ behind the per-run token, or turns it off', async () => {
    const { dt: d } = await start(at('10:00:00'));
    expect(d.simToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const patch = (headers: Record<string, string>) =>
      fetch(`${d.url}/_sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ rateLimitStorm: true }),
      });
    expect((await patch({})).status).toBe(401);
    expect((await patch({ 'x-sim-token': `${d.simToken}x` })).status).toBe(401);
    expect((await patch({ 'x-sim-token': d.simToken!.slice(0, -1) })).status).toBe(401);
    expect((await fetch(`${d.url}/_sim/state`)).status).toBe(401);
    expect(d.sim.faults().rateLimitStorm).toBe(false);
    expect((await patch({ 'x-sim-token': d.simToken! })).status).toBe(200);
    expect(d.sim.faults().rateLimitStorm).toBe(true);
    expect((await patch({ authorization: `Bearer ${d.simToken}` })).status).toBe(200);
    const other = await start(at('10:00:00'));
    expect(other.dt.simToken).not.toBe(d.simToken); // per run
    const fixed = await start(at('10:00:00'), { simToken: 'a-known-token-for-e2e-1234' });
    expect(fixed.dt.simToken).toBe('a-known-token-for-e2e-1234');
    const off = await start(at('10:00:00'), { simEndpoint: 'off' });
    expect(off.dt.simToken).toBeNull();
    expect((await fetch(`${off.dt.url}/_sim/state`, { headers: { 'x-sim-token': 'anything' } })).status).toBe(404);
    off.dt.sim.setFaults({ latencyMs: 1 }); // the in-process controls stay available
    expect(off.dt.sim.faults().latencyMs).toBe(1);
  });

  it('environment production: 301 to https except /health and /metrics, unless X-Forwarded-Proto: https', async () => {
    const { dt: d } = await start(at('10:00:00'), { environment: 'production' });
    const port = new URL(d.url).port;
    const r = await raw(d.url, { path: '/subscriptions?status=active', headers: { host: `127.0.0.1:${port}` } });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`https://127.0.0.1:${port}/subscriptions?status=active`);
    expect((await raw(d.url, { method: 'DELETE', path: '/subscriptions/1', headers: { host: `127.0.0.1:${port}` } })).status).toBe(301);
    expect((await raw(d.url, { path: '/health', headers: { host: `127.0.0.1:${port}` } })).status).toBe(200);
    expect((await health(d)).environment).toBe('production');
    expect((await raw(d.url, { path: '/metrics', headers: { host: `127.0.0.1:${port}` } })).status).toBe(404);
    expect((await raw(d.url, { path: '/subscriptions', headers: { host: `127.0.0.1:${port}`, 'x-forwarded-proto': 'https' } })).status).toBe(200);
  });
});

describe('state file', () => {
  it('keeps rows across restarts; a restart streams every active row, gives null rows an account, drops expired', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devticker-state-'));
    try {
      const file = join(dir, 'subs.json');
      const first = await start(at('10:00:00'), { stateFile: file, accounts: ['primary', 'second'] });
      const a = atm(first.dt, '2025-11-11', 'CE');
      const b = atm(first.dt, '2025-11-11', 'PE');
      const weekly = first.dt.registry.byTradingsymbol('NIFTY25N0426000CE')!; // expires 2025-11-04
      for (const t of [a.token, b.token, weekly.token, 256265]) expect((await post(first.dt, t)).status).toBe(201);
      await fetch(`${first.dt.url}/subscriptions/${b.token}`, { method: 'DELETE' });
      const listed = (await (await fetch(`${first.dt.url}/subscriptions`)).json()) as any[];
      await first.dt.close();
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      expect(saved.rows).toEqual(listed);
      // the next day: the weekly has expired
      const second = await start(fromIstWallClock('2025-11-06T10:00:00'), { stateFile: file, accounts: ['primary', 'second'] });
      const rows = (await (await fetch(`${second.dt.url}/subscriptions`)).json()) as any[];
      expect(rows.map((r) => [r.instrument_token, r.status])).toEqual([
        [a.token, 'active'],
        [b.token, 'inactive'],
        [weekly.token, 'inactive'],
        [256265, 'active'],
      ]);
      expect(rows.find((r) => r.instrument_token === a.token).created_at).toBe(listed[0].created_at);
      // round-robin over the configured accounts for the rows that had none
      expect(rows.filter((r) => r.status === 'active').map((r) => r.account_id)).toEqual(['primary', 'second']);
      expect(second.dt.sim.streamingTokens().sort()).toEqual([a.token, 256265].sort());
      expect((await health(second.dt)).ticker.running).toBe(true);
      run(second.clock, second.dt, 3);
      expect(second.dt.sim.counters().ticksPublished).toBeGreaterThanOrEqual(3); // NIFTY 50 every second at least
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file that is not a state file is a start-up error naming the setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devticker-state-'));
    try {
      const file = join(dir, 'bad.json');
      writeFileSync(file, '{"rows": 3}');
      await expect(startDevTicker({ port: 0, autoTick: false, stateFile: file })).rejects.toThrow(/--state-file .*bad\.json is not valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('strike rebalancer', () => {
  it('is off by default', async () => {
    const { dt: d } = await start(at('10:00:00'));
    expect(((await (await fetch(`${d.url}/subscriptions`)).json()) as unknown[]).length).toBe(0);
  });

  it('subscribes ATM+-10 over three expiries for NIFTY, BANKNIFTY, FINNIFTY as account primary, and re-centres', async () => {
    const { clock, dt: d } = await start(at('10:00:00'), { rebalancer: true });
    const rows = (await (await fetch(`${d.url}/subscriptions?limit=1000`)).json()) as any[];
    expect(rows.length).toBe(3 * 3 * 21 * 2);
    expect(rows.every((r) => r.account_id === REBALANCER_ACCOUNT && r.status === 'active')).toBe(true);
    for (const name of ['NIFTY', 'BANKNIFTY', 'FINNIFTY']) {
      const index = d.registry.index(name)!;
      const step = index.underlying.step;
      const centre = Math.round(d.sim.underlyingPrice(name) / step) * step;
      const mine = rows.map((r) => d.registry.byToken(r.instrument_token)!).filter((i) => i.name === name);
      expect(new Set(mine.map((i) => i.expiry))).toEqual(new Set(d.registry.expiries(name).slice(0, 3)));
      expect(Math.min(...mine.map((i) => i.strike))).toBe(centre - 10 * step);
      expect(Math.max(...mine.map((i) => i.strike))).toBe(centre + 10 * step);
    }
    expect(d.sim.streamingTokens().length).toBe(rows.length); // present at start: they stream
    // an hour later the index has moved: the pass re-centres (new rows in, rows out of range made inactive)
    clock.set(at('14:00:00'));
    d.sim.rebalance();
    const later = (await (await fetch(`${d.url}/subscriptions?status=active&limit=1000`)).json()) as any[];
    expect(later.length).toBe(3 * 3 * 21 * 2);
    // rows a client made are never touched by it
    const mine = atm(d, '2026-01-27', 'CE', 40);
    expect((await post(d, mine.token)).status).toBe(201);
    d.sim.rebalance();
    expect(
      ((await (await fetch(`${d.url}/subscriptions?status=active&limit=1000`)).json()) as any[]).find((r) => r.instrument_token === mine.token).account_id,
    ).toBeNull();
  });
});

describe('market model', () => {
  it('centres liquidity on the live spot: after a big drift the ITM leg next to the spot trades nearly every second', async () => {
    // find a session moment where NIFTY is at least 8 strikes (400 points) away from that day's open
    const { clock, dt: d } = await start(fromIstWallClock('2025-11-03T09:15:00'));
    const calendar = loadHolidayCalendar();
    let found: { date: string; time: string; spot: number; openSpot: number } | null = null;
    let date = '2025-11-03';
    for (let i = 0; i < 60 && !found; i++, date = calendar.nextTradingDay(date)) {
      clock.set(fromIstWallClock(`${date}T09:15:00`));
      const openSpot = d.sim.underlyingPrice('NIFTY');
      for (let m = 60; m <= 330 && !found; m += 15) {
        const time = `${String(9 + Math.floor((15 + m) / 60)).padStart(2, '0')}:${String((15 + m) % 60).padStart(2, '0')}:00`;
        clock.set(fromIstWallClock(`${date}T${time}`));
        const spot = d.sim.underlyingPrice('NIFTY');
        if (Math.abs(spot - openSpot) >= 400) found = { date, time, spot, openSpot };
      }
    }
    expect(found).not.toBeNull();
    const { spot, openSpot } = found!;
    d.sim.tick(); // the registry of that date
    const expiry = d.registry.expiries('NIFTY').find((e) => e > found!.date)!;
    const type = spot > openSpot ? 'CE' : 'PE';
    const strike = type === 'CE' ? Math.floor(spot / 50) * 50 : Math.ceil(spot / 50) * 50; // in the money, next to the spot
    const leg = d.registry.chain('NIFTY', expiry).find((i) => i.strike === strike && i.instrumentType === type)!;
    const ticks: number[] = [];
    d.bus.subscribe(CHANNEL_OPTIONS, (m) => {
      if (m.includes(`"token": ${leg.token},`)) ticks.push(1);
    });
    d.sim.subscribe([leg.token, 256265]);
    run(clock, d, 300);
    // liquidity around the day's open would leave this leg (>= 8 strikes from it) trading in about 3 seconds of 4
    expect(ticks.length).toBeGreaterThanOrEqual(285);
  });
});
