// The headless console's front door: the parent process owns the console's address (config host:port) and keeps
// the window's traffic off the core's thread. It serves
//  - the renderer build (static files),
//  - the console contract, POST /api/<channel>, through the relay (CoreClient), and
//  - the push stream, GET /api/events (server-sent events), from the relay's pushed events;
// and forwards every other route of the core's HTTP server (webhook POST /internal/subscription-events, /metrics,
// /fo/*, /internal/health, /openapi.json, and wrong methods on /api/* so their 405 stays the core's) to the core's
// own loopback listener, streaming request and response through. Forwarded requests keep their Host,
// Authorization and signature headers: the core's server knows the front's address (HttpServer.publicAddress),
// so its Host allow-list, token, cross-site and webhook checks apply exactly as when it listened itself.
// The front applies the same checks to what it answers itself (RequestGuard, the API token, Content-Type, body
// limits), so a request gets the same status from either process.
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHANNELS, type Channel } from '../../shared/api';
import { STATUS_OF } from '../api/console-api';
import { RequestGuard } from '../http/guard';
import { HttpError, readBody, SECURITY_HEADERS, sendJson } from '../http/server';
import { OperatorTokens, type NamedToken } from '../http/operators';
import { serveStatic } from '../http/static';
import type { ContractEndpoint } from './contract';
import type { CoreRoute } from './protocol';

const BODY_LIMIT = 64 * 1024;
const BODY_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MS = 15_000;
const CHANNEL_SET = new Set<string>(CHANNELS);
// Hop-by-hop headers belong to one connection, not to the forwarded message.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
]);

export interface FrontOptions {
  host: string;
  port: number;
  /** The renderer build. */
  staticDir?: string;
  /** The contract through the relay. */
  core: ContractEndpoint;
  /** Called with a forwarding failure (logged by the caller). */
  onError?: (err: unknown, what: string) => void;
  /** Audit names a person (http/operators.ts): the console token's holder and the named operator tokens. */
  apiTokenName?: string;
  namedTokens?: readonly NamedToken[];
}

/** What the front learns once the core is ready. */
export interface FrontTarget {
  apiToken: string;
  /** The core's loopback listener. */
  listenUrl: string;
  routes: CoreRoute[];
}

export interface RunningFront {
  url: string;
  port: number;
  /** Starts answering (requests that arrived earlier waited for this). */
  attach(target: FrontTarget): void;
  close(): Promise<void>;
}

function matches(pattern: string, path: string): boolean {
  const ps = pattern.split('/');
  const xs = path.split('/');
  return ps.length === xs.length && ps.every((p, i) => p.startsWith(':') || p === xs[i]);
}

function forwardableHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

export async function startFront(options: FrontOptions): Promise<RunningFront> {
  let target: FrontTarget | null = null;
  let guard: RequestGuard | null = null;
  // Keep-alive connections to the core: forwarding costs no new handshake per request.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const streams = new Set<ServerResponse>();

  let operators: OperatorTokens | null = null;
  /** The operator name of the presented token, or null (no token, unknown token, core not ready). */
  const actorOf = (req: IncomingMessage, url: URL, allowQuery: boolean): string | null => {
    const header = req.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : allowQuery ? url.searchParams.get('token') : null;
    return operators?.actorFor(presented) ?? null;
  };
  const hasToken = (req: IncomingMessage, url: URL, allowQuery: boolean) => actorOf(req, url, allowQuery) !== null;
  const refuseToken = (res: ServerResponse) =>
    sendJson(res, 401, { detail: 'missing or invalid API token (Authorization: Bearer <token>)' }, { 'WWW-Authenticate': 'Bearer' });

  async function contractCall(req: IncomingMessage, res: ServerResponse, url: URL, channel: Channel): Promise<void> {
    if (guard?.isCrossSite(req)) {
      sendJson(res, 403, { detail: 'cross-site request refused: this route changes state and only answers this console or a non-browser client' });
      return;
    }
    const actor = actorOf(req, url, false);
    if (actor === null) return refuseToken(res);
    if ((req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() !== 'application/json') {
      sendJson(res, 415, { detail: 'Content-Type must be application/json' }, { Connection: 'close' });
      return;
    }
    const rawBody = await readBody(req, BODY_LIMIT, BODY_TIMEOUT_MS);
    let request: unknown = {};
    if (rawBody.length) {
      try {
        request = JSON.parse(rawBody.toString('utf8'));
      } catch (err) {
        sendJson(res, 400, { ok: false, error: { code: 'BAD_REQUEST', message: `malformed JSON body: ${(err as Error).message}` } });
        return;
      }
    }
    const result = await options.core.call(channel, request, { actor });
    sendJson(res, result.ok ? 200 : STATUS_OF[result.error.code], result);
  }

  function pushStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    // EventSource cannot send an Authorization header: the one route that takes ?token=.
    if (!hasToken(req, url, true)) return refuseToken(res);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', ...SECURITY_HEADERS });
    res.write('retry: 2000\n\n');
    streams.add(res);
    const unsubscribe = options.core.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(res);
    });
  }

  function forward(req: IncomingMessage, res: ServerResponse, core: URL): void {
    const upstream = httpRequest(
      { host: core.hostname, port: core.port, method: req.method, path: req.url, headers: forwardableHeaders(req.headers), agent },
      (answer) => {
        const headers = forwardableHeaders(answer.headers);
        // The core closes after refusing a body it will not read: so does the front.
        if (String(answer.headers.connection ?? '').toLowerCase() === 'close') headers.connection = 'close';
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
        // A core that dies mid-answer: pipe() does not end the client's response on a source closed early, so the
        // client would wait for the rest until its own time-out. Cut it instead: the client sees the answer broke.
        answer.on('close', () => {
          if (!answer.complete) res.destroy();
        });
      },
    );
    upstream.on('error', (err) => {
      options.onError?.(err, `forwarding ${req.method} ${url(req)}`);
      if (!res.headersSent) sendJson(res, 502, { detail: 'the console core is not answering' });
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  const url = (req: IncomingMessage) => (req.url ?? '/').split('?')[0];

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The front listens before the core is up (the core needs its address). A request in that window is told to come
    // back, not held: a first start can take seconds and a held connection looks like a hung console.
    if (!target) {
      sendJson(res, 503, { detail: 'the console core is starting; retry shortly' }, { 'Retry-After': '2' });
      return;
    }
    const current = target;
    const method = (req.method ?? 'GET').toUpperCase();
    let parsed: URL;
    try {
      parsed = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { detail: 'malformed request target' });
      return;
    }
    const path = parsed.pathname;
    const misdirected = guard?.checkHost(req);
    if (misdirected) {
      sendJson(res, 421, { detail: misdirected });
      return;
    }
    const channel = path.startsWith('/api/') ? path.slice(5) : null;
    if (method === 'POST' && channel && CHANNEL_SET.has(channel)) return contractCall(req, res, parsed, channel as Channel);
    if (method === 'GET' && path === '/api/events') return pushStream(req, res, parsed);
    if (current.routes.some((route) => matches(route.path, path))) return forward(req, res, new URL(current.listenUrl));
    if ((method === 'GET' || method === 'HEAD') && options.staticDir && !path.startsWith('/api/')) {
      if (await serveStatic(options.staticDir, path, res)) return;
    }
    sendJson(res, 404, { detail: `no route ${method} ${path}` });
  }

  const server = createServer((req, res) => {
    const requestId = (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID();
    // The same id reaches the core's log for forwarded requests.
    req.headers['x-request-id'] = requestId;
    res.setHeader('X-Request-ID', requestId);
    dispatch(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (err.status === 408) res.once('finish', () => req.socket.destroy());
        sendJson(res, err.status, { detail: err.message }, err.status === 408 ? { Connection: 'close' } : {});
        if (err.status === 413) req.resume();
        return;
      }
      options.onError?.(err, `${req.method} ${url(req)}`);
      sendJson(res, 500, { detail: 'internal error', request_id: requestId });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = 256;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  guard = new RequestGuard(options.host, address.port);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    attach(next) {
      target = next;
      operators = new OperatorTokens({ name: options.apiTokenName ?? 'api-token', token: next.apiToken }, options.namedTokens);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Push streams and keep-alive connections would hold close() open.
        for (const res of streams) res.end();
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
