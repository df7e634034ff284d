// The HTTP server's guards over real sockets (issue 14): Host allow-list, cross-site refusal, token in the URL only
// for the event stream, JSON only, connection cap, body timeout, webhook headers judged before the body, malformed
// paths and internal errors answered without a 500 body that leaks.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../log';
import { isLoopbackHost } from '../config/load';
import { planBody, signedHeaders, startTestIntake, type TestIntake } from '../events/testing/support';
import { HttpServer, type HttpListener } from './server';
import { raw } from './testing/raw';

const TOKEN = 'security-test-token-0123456789';
let server: HttpServer;
let listener: HttpListener;
let effects = 0;

beforeAll(async () => {
  server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    apiToken: TOKEN,
    loopbackBind: true,
    logger: silentLogger,
    version: 't',
    maxConnections: 8,
    bodyTimeoutMs: 300,
  });
  server.addRoute({ method: 'GET', path: '/read', summary: '', tag: 't', auth: 'public', handler: () => ({ body: { ok: true } }) });
  server.addRoute({ method: 'GET', path: '/effect', summary: '', tag: 't', auth: 'loopback-open', effect: true, handler: () => ({ body: { n: ++effects } }) });
  server.addRoute({
    method: 'POST',
    path: '/api/thing',
    summary: '',
    tag: 't',
    auth: 'token',
    docBody: z.object({}),
    handler: () => ({ body: { n: ++effects } }),
  });
  server.addRoute({ method: 'GET', path: '/api/events', summary: '', tag: 't', auth: 'token', queryToken: true, handler: () => ({ body: 'stream' }) });
  server.addRoute({ method: 'GET', path: '/item/:id', summary: '', tag: 't', auth: 'public', handler: ({ params }) => ({ body: params }) });
  server.addRoute({
    method: 'GET',
    path: '/boom',
    summary: '',
    tag: 't',
    auth: 'public',
    handler: () => {
      throw new Error('relation "bars" does not exist (postgres://u:hunter2@db/x)');
    },
  });
  listener = await server.listen();
});
afterAll(async () => listener?.close());

const port = () => listener.port;

describe('Host allow-list (DNS rebinding)', () => {
  it('answers the bound address, localhost, 127.0.0.1 and [::1] on the bound port', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, `LOCALHOST:${port()}`, `[::1]:${port()}`]) {
      expect((await raw(listener.url, '/read', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('421 for any other host, another port or none, on every route', async () => {
    for (const host of ['evil.example', `evil.example:${port()}`, `127.0.0.1:${port() + 1}`, `127.attacker.example:${port()}`, `0.0.0.0:${port()}`]) {
      for (const path of ['/read', '/effect', '/api/events', '/nope']) {
        const res = await raw(listener.url, path, { headers: { host } });
        expect(res.status, `${host} ${path}`).toBe(421);
      }
    }
    const before = effects;
    await raw(listener.url, '/effect', { headers: { host: 'evil.example' } });
    expect(effects).toBe(before);
  });
});

describe('cross-site browsers', () => {
  it('refuses a foreign Origin or Sec-Fetch-Site cross-site/same-site on routes with an effect', async () => {
    const before = effects;
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://127.0.0.1:${port() + 1}` },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ] as Record<string, string>[]) {
      expect((await raw(listener.url, '/effect', { headers })).status, JSON.stringify(headers)).toBe(403);
      const post = await raw(listener.url, '/api/thing', {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(post.status, JSON.stringify(headers)).toBe(403);
    }
    expect(effects).toBe(before);
  });

  it('serves this console (same-origin), plain clients (no headers), and reads from anywhere', async () => {
    expect((await raw(listener.url, '/effect')).status).toBe(200);
    expect((await raw(listener.url, '/effect', { headers: { origin: `http://127.0.0.1:${port()}`, 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
    expect((await raw(listener.url, '/effect', { headers: { origin: `http://localhost:${port()}` } })).status).toBe(200);
    expect((await raw(listener.url, '/read', { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });
});

describe('API token and content type', () => {
  it('takes ?token= only on GET /api/events', async () => {
    expect((await raw(listener.url, `/api/events?token=${TOKEN}`)).status).toBe(200);
    const viaQuery = await raw(listener.url, `/api/thing?token=${TOKEN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(viaQuery.status).toBe(401);
  });

  it('415 for /api without application/json, before the handler runs', async () => {
    const before = effects;
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
      if (type) headers['content-type'] = type;
      expect((await raw(listener.url, '/api/thing', { method: 'POST', headers, body: '{}' })).status, String(type)).toBe(415);
    }
    expect(effects).toBe(before);
    expect(
      (
        await raw(listener.url, '/api/thing', {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
          body: '{}',
        })
      ).status,
    ).toBe(200);
  });
});

describe('bad input never gets a 500 with internals', () => {
  it('400 for a malformed percent escape in a path parameter', async () => {
    const res = await raw(listener.url, '/item/%E0%A4%A');
    expect(res.status).toBe(400);
  });

  it('500 answers carry generic text and a request id, not the cause', async () => {
    const res = await raw(listener.url, '/boom');
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ detail: 'internal error' });
    expect(res.text).not.toMatch(/hunter2|relation|bars/);
  });
});

describe('slow and many connections', () => {
  it('408 and a closed connection when the body does not arrive within the body timeout', async () => {
    const socket = connect(port(), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write(
      `POST /api/thing HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"a":`,
    );
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(Buffer.concat(received).toString()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('caps concurrent connections', async () => {
    const sockets: Socket[] = [];
    const closedEarly: number[] = [];
    for (let i = 0; i < 12; i++) {
      const s = connect(port(), '127.0.0.1');
      s.on('error', () => undefined);
      s.once('close', () => closedEarly.push(i));
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => (s.readyState === 'open' ? r() : s.once('connect', () => r()).once('close', () => r())))));
    // Connections over the cap (8) are dropped by the server at accept.
    await expect.poll(() => closedEarly.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(4);
    for (const s of sockets) s.destroy();
  });
});

describe('webhook: headers judged before the body is read', () => {
  let t: TestIntake;
  beforeAll(async () => {
    t = await startTestIntake({});
  });
  afterAll(async () => t?.close());

  const sendHeadersOnly = async (headers: string) => {
    const u = new URL(t.url);
    const socket = connect(Number(u.port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    // A 60 KB body is declared and never sent: the answer must not wait for it.
    socket.write(`POST /internal/subscription-events HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n${headers}\r\n`);
    await expect.poll(() => Buffer.concat(received).toString(), { timeout: 3_000 }).toMatch(/^HTTP\/1\.1 \d{3}/);
    socket.destroy();
    return Buffer.concat(received).toString();
  };

  it('401 at once for missing, malformed or stale credentials, without the body', async () => {
    expect(await sendHeadersOnly('')).toMatch(/^HTTP\/1\.1 401/);
    expect(await sendHeadersOnly('X-Strikedesk-Timestamp: 1\r\nX-Strikedesk-Signature: sha256=zz\r\n')).toMatch(/^HTTP\/1\.1 401/);
    const stale = signedHeaders('{}', undefined, Math.floor(Date.now() / 1000) - 10_000);
    expect(
      await sendHeadersOnly(`X-Strikedesk-Timestamp: ${stale['x-strikedesk-timestamp']}\r\nX-Strikedesk-Signature: ${stale['x-strikedesk-signature']}\r\n`),
    ).toMatch(/^HTTP\/1\.1 401/);
  });

  it('a well-formed signed delivery still goes through', async () => {
    const body = planBody(4242);
    const res = await raw(t.url, '/internal/subscription-events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders(body) },
      body,
    });
    expect(res.status).toBe(202);
  });
});

describe('isLoopbackHost judges the parsed address', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['127.attacker.example', false],
    ['127.0.0.1.nip.io', false],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['1270.0.0.1', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
