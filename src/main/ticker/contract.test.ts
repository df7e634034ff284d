// The client against the real service's recorded answers (fixtures/ticker-service/): every JSON fixture is parsed
// with the client's own wire schemas and the values it means are read back; then the same bytes are served over
// real HTTP (a replaying server: the fixtures are the peer) to the real HttpTickerClient, so what the client's
// methods return is checked too, including paging that repeats and moves rows, redirects and slow history.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTickerClient, HISTORY_TIMEOUT_MS } from './client';
import { TickerError } from './types';
import { errorText, healthSchema, historySchema, subscriptionListSchema, subscriptionSchema } from './wire';

const DIR = join(__dirname, '../../../fixtures/ticker-service');
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const json = (name: string): unknown => JSON.parse(fixture(name));

describe('wire schemas read every fixture of the real service', () => {
  it('has a reading for every JSON fixture (a new fixture must get one)', () => {
    const covered = [
      'subscriptions-list.json',
      'subscription-created.json',
      'subscription-deleted.json',
      'health-idle.json',
      'health-running.json',
      'history-option.json',
      'history-index.json',
      'error-400-limit.json',
      'error-404-registry.json',
      'error-404-route.json',
      'error-422.json',
      'error-429.json',
      'error-500.json',
      'error-502-history.json',
    ];
    expect(
      readdirSync(DIR)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual([...covered].sort());
  });

  it('subscriptions list: null and "" accounts, microsecond timestamps, inactive rows', () => {
    const rows = subscriptionListSchema.parse(json('subscriptions-list.json'));
    expect(rows.map((r) => [r.instrument_token, r.status, r.account_id, r.requested_mode])).toEqual([
      [13660418, 'active', null, 'FULL'],
      [13660674, 'active', '', 'FULL'],
      [12345602, 'active', 'primary', 'FULL'],
      [12345858, 'inactive', 'primary', 'QUOTE'],
    ]);
    expect(rows[1].created_at).toBe('2025-11-04T06:52:23.004117Z');
    expect(rows[3].updated_at).toBe('2025-11-04T05:10:11.999999Z');
    expect(rows[0].tradingsymbol).toBe('NIFTY25NOV24500CE');
    expect(rows[0].segment).toBe('NFO-OPT');
  });

  it('POST and DELETE answers with a null account', () => {
    const created = subscriptionSchema.parse(json('subscription-created.json'));
    expect(created).toEqual({
      instrument_token: 13660418,
      tradingsymbol: 'NIFTY25NOV24500CE',
      segment: 'NFO-OPT',
      status: 'active',
      requested_mode: 'FULL',
      account_id: null,
      created_at: '2025-11-04T06:52:22.132000Z',
      updated_at: '2025-11-04T06:52:22.132000Z',
    });
    const deleted = subscriptionSchema.parse(json('subscription-deleted.json'));
    expect(deleted.status).toBe('inactive');
    expect(deleted.account_id).toBeNull();
    expect(deleted.updated_at).toBe('2025-11-04T07:01:09.511342Z');
  });

  it('health: idle (started_at null, no accounts) and running (extra blocks ignored)', () => {
    const idle = healthSchema.parse(json('health-idle.json'));
    expect(idle.status).toBe('degraded');
    expect(idle.ticker).toEqual({ running: false, started_at: null, active_subscriptions: 0, accounts: [] });
    const running = healthSchema.parse(json('health-running.json'));
    expect(running.status).toBe('ok');
    expect(running.ticker?.started_at).toBe(1762239154.1);
    expect(running.ticker?.accounts).toEqual([{ account_id: 'primary', instrument_count: 442, last_tick_at: 1762239154.76 }]);
    expect(running).not.toHaveProperty('orchestrator');
  });

  it('history: option candles with null greeks, index candles without oi or greeks', () => {
    const option = historySchema.parse(json('history-option.json'));
    expect(option.symbol).toBe('NIFTY25NOV24500CE');
    expect(option.candles).toHaveLength(3);
    expect(option.candles[0]).toMatchObject({ close: 103.1, volume: 12450, oi: 2310225, iv: 0.1432, theta: -0.0328767, vega: 0.1425, underlying: 25536.85 });
    expect(option.candles[1]).toMatchObject({ iv: null, delta: null, gamma: null, theta: null, vega: null, underlying: null, oi: 2311800 });
    const index = historySchema.parse(json('history-index.json'));
    expect(index.segment).toBe('INDICES');
    expect(index.candles.map((c) => c.close)).toEqual([25536.85, 25531.1]);
    expect(index.candles[0].oi).toBeUndefined();
    expect(index.candles[0].iv).toBeUndefined();
  });

  it('error bodies: every shape gives its message', () => {
    expect(errorText(fixture('error-400-limit.json'))).toBe('limit must be between 1 and 1000');
    expect(errorText(fixture('error-404-registry.json'))).toBe('Instrument token not found or inactive in registry');
    expect(errorText(fixture('error-404-route.json'))).toBe('Not Found');
    expect(errorText(fixture('error-422.json'))).toBe('path.instrument_token: Input should be a valid integer, unable to parse string as an integer');
    expect(errorText(fixture('error-429.json'))).toBe('Rate limit exceeded: 30 per 1 minute');
    expect(errorText(fixture('error-500.json'))).toBe('An unexpected error occurred');
    expect(errorText(fixture('error-502-history.json'))).toBe('Historical fetch failed: Too many requests');
    expect(errorText('<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
  });
});

// ---------- the same answers over real HTTP ----------

type Handler = (req: IncomingMessage, url: URL) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number };

let server: Server | null = null;
let client: HttpTickerClient | null = null;
const seen: string[] = [];

async function serve(handler: Handler): Promise<string> {
  seen.length = 0;
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    req.resume();
    req.on('end', () => {
      const answer = handler(req, url);
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => (server as Server).listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await client?.close();
  client = null;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

const row = (token: number, account: string | null, updatedAt = '2025-11-04T06:52:22.132000Z') => ({
  instrument_token: token,
  tradingsymbol: `T${token}`,
  segment: 'NFO-OPT',
  status: 'active',
  requested_mode: 'FULL',
  account_id: account,
  created_at: updatedAt,
  updated_at: updatedAt,
});

describe('HttpTickerClient over HTTP with the real service answers', () => {
  it('reads POST and DELETE answers with null accounts, and idle health', async () => {
    const url = await serve((req, u) => {
      if (req.method === 'POST') return { status: 201, body: fixture('subscription-created.json') };
      if (req.method === 'DELETE') return { status: 200, body: fixture('subscription-deleted.json') };
      if (u.pathname === '/health') return { status: 200, body: fixture('health-idle.json') };
      return { status: 404, body: fixture('error-404-route.json') };
    });
    client = new HttpTickerClient({ baseUrl: url, retries: 0 });
    expect(await client.subscribe(13660418)).toMatchObject({ status: 'active', account_id: null });
    expect(await client.unsubscribe(13660418)).toMatchObject({ status: 'inactive', account_id: null });
    expect((await client.health()).ticker).toEqual({ running: false, started_at: null, active_subscriptions: 0, accounts: [] });
  });

  it('pages above 1000 rows with null accounts, merging a repeated row and keeping the later update', async () => {
    // 2300 active rows, accounts null / "" / primary. Between the first and second page request one row changes
    // and moves up into page 2's range: page 2 repeats it (newer updated_at) and another row shifts out of sight.
    const rows = Array.from({ length: 2300 }, (_, i) => row(1_000_000 + i, i % 3 === 0 ? null : i % 3 === 1 ? '' : 'primary'));
    let requests = 0;
    const url = await serve((_req, u) => {
      requests++;
      const offset = Number(u.searchParams.get('offset'));
      const limit = Number(u.searchParams.get('limit'));
      let view = rows;
      if (requests >= 2) {
        const moved = { ...rows[5], updated_at: '2025-11-04T06:59:00.000001Z' };
        view = [...rows.slice(0, 5), ...rows.slice(6, 1001), moved, ...rows.slice(1001)];
      }
      return { status: 200, body: JSON.stringify(view.slice(offset, offset + limit)) };
    });
    client = new HttpTickerClient({ baseUrl: url, retries: 0 });
    const all = await client.listAllSubscriptions('active');
    expect(seen).toEqual([
      'GET /subscriptions?status=active&limit=1000&offset=0',
      'GET /subscriptions?status=active&limit=1000&offset=1000',
      'GET /subscriptions?status=active&limit=1000&offset=2000',
    ]);
    const tokens = all.map((r) => r.instrument_token);
    expect(new Set(tokens).size).toBe(tokens.length); // de-duplicated
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    // rows[1000] shifted into page 1's range after it was read: one pass did not see it (the caller confirms removals on the next poll)
    expect(tokens).not.toContain(rows[1000].instrument_token);
    expect(all).toHaveLength(2299);
    const moved = all.find((r) => r.instrument_token === rows[5].instrument_token);
    expect(moved?.updated_at).toBe('2025-11-04T06:59:00.000001Z');
    expect(all.filter((r) => r.account_id === null)).toHaveLength(rows.filter((r, i) => r.account_id === null && i !== 1000).length);
    expect(all.filter((r) => r.account_id === '')).toHaveLength(rows.filter((r, i) => r.account_id === '' && i !== 1000).length);
  });

  it('stops paging when a full page brings nothing new (a service that ignores offset)', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row(5_000 + i, null));
    const url = await serve(() => ({ status: 200, body: JSON.stringify(rows) }));
    client = new HttpTickerClient({ baseUrl: url, retries: 0 });
    expect(await client.listAllSubscriptions()).toHaveLength(1000);
    expect(seen).toHaveLength(2);
  });

  it('turns a 301 to https into one clear error naming TICKER_URL, without retrying or opening the circuit', async () => {
    const url = await serve((_req, u) => ({ status: 301, headers: { location: `https://ticker.example${u.pathname}${u.search}` } }));
    const withCredentials = url.replace('http://', 'http://ops:hunter2@');
    client = new HttpTickerClient({ baseUrl: withCredentials, breaker: { failureThreshold: 1, coolDownMs: 60_000 } });
    const err = await client.listSubscriptions().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TickerError);
    const e = err as TickerError;
    expect(e.kind).toBe('bad_request');
    expect(e.status).toBe(301);
    expect(e.redirected).toBe(true);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('TICKER_URL');
    expect(e.message).toContain('https://ticker.example/subscriptions');
    expect(e.message).toContain('https');
    expect(e.message).not.toContain('hunter2');
    expect(seen).toHaveLength(1);
    expect(client.breaker.state).toBe('closed');
    // The POST budget is not spent by an answer that never reached the service's handler.
    await client.subscribe(1).catch(() => undefined);
    expect(client.limiter.view().find((b) => b.bucket === 'create')?.usedInWindow).toBe(0);
  });

  it('waits for a slow /history (the service queues it) while other calls keep their short timeout', async () => {
    expect(HISTORY_TIMEOUT_MS).toBeGreaterThanOrEqual(40_000); // the service's 30 s queue plus Kite's own answer time
    const url = await serve((_req, u) =>
      u.pathname === '/history'
        ? { status: 200, body: fixture('history-option.json'), delayMs: 400 }
        : { status: 200, body: fixture('health-running.json'), delayMs: 400 },
    );
    client = new HttpTickerClient({ baseUrl: url, retries: 0, timeoutMs: 150, historyTimeoutMs: 2_000, breaker: { failureThreshold: 1, coolDownMs: 60_000 } });
    const res = await client.history({ token: 13660418, from: Date.UTC(2025, 10, 4, 3, 45), to: Date.UTC(2025, 10, 4, 3, 48) });
    expect(res.candles).toHaveLength(3);
    const err = await client.health().then(
      () => null,
      (e: unknown) => e as TickerError,
    );
    expect(err?.kind).toBe('timeout');
  });

  it('does not let a /history timeout open the circuit', async () => {
    const url = await serve(() => ({ status: 200, body: fixture('history-option.json'), delayMs: 400 }));
    client = new HttpTickerClient({ baseUrl: url, retries: 0, historyTimeoutMs: 100, breaker: { failureThreshold: 1, coolDownMs: 60_000 } });
    const err = await client.history({ token: 13660418, from: Date.UTC(2025, 10, 4, 3, 45), to: Date.UTC(2025, 10, 4, 3, 48) }).then(
      () => null,
      (e: unknown) => e as TickerError,
    );
    expect(err?.kind).toBe('timeout');
    expect(client.breaker.state).toBe('closed');
  });
});
