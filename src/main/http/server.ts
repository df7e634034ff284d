// The console's local HTTP server: /internal/*, /fo/*, /metrics, /api/* (the ConsoleApi for the headless UI),
// /openapi.json and the renderer build. Every route is declared with its zod schemas; client mistakes get a 4xx
// naming the field, never a 500. Loopback bind by default (the composition root refuses a non-loopback bind
// without a token).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { describeZodError } from '../../shared/field-errors';
import { redactUrlsIn, type Logger } from '../log';
import { RequestGuard } from './guard';
import { SECURITY_HEADERS } from './headers';
import { OperatorTokens, type NamedToken } from './operators';
import { serveStatic } from './static';

// The Electron shell applies the same policy to its window; it reads it from here.
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './headers';

export type RouteAuth =
  /** anyone (health, static files) */
  | 'public'
  /** Authorization: Bearer <apiToken> (?token= only where the route allows it: EventSource cannot set headers) */
  | 'token'
  /** open on a loopback bind (legacy /fo/* clients and the plan's curl tests), token otherwise */
  | 'loopback-open'
  /** the route authenticates itself from the raw body (webhook HMAC) */
  | 'custom';

export interface HttpReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Body already written by the handler (SSE, text exposition). */
  raw?: boolean;
}

export interface RouteContext<Q = unknown, B = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  query: Q;
  body: B;
  rawBody: Buffer;
  params: Record<string, string>;
  /** Who is calling, for audit: 'api-token', 'loopback', or what a custom authenticator says. */
  actor: string;
  requestId: string;
}

export type AuthResult = { ok: true; actor: string } | { ok: false; status: number; message: string };

export interface RouteDef<Q = any, B = any> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Literal segments and `:name` parameters. */
  path: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  authenticate?: (req: IncomingMessage, rawBody: Buffer) => AuthResult | Promise<AuthResult>;
  /** Checks the headers before the body is read (webhook: signature and timestamp present, fresh); null = go on. */
  preAuthenticate?: (req: IncomingMessage) => AuthResult | null;
  /** The token may come as ?token= (only GET /api/events: EventSource cannot send an Authorization header). */
  queryToken?: boolean;
  /**
   * The route changes something (default: every method but GET): a browser on another site is refused (403).
   * GET /fo/strike-distribution sets it (it subscribes instruments).
   */
  effect?: boolean;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** A body schema shown in the OpenAPI document but parsed by the handler itself (the ConsoleApi). */
  docBody?: z.ZodType;
  /** Documented answers for the OpenAPI document, e.g. { 200: 'ok', 422: 'schema error' }. */
  responses?: Record<number, string>;
  /** Maximum accepted body in bytes (default 64 KiB). */
  bodyLimit?: number;
  handler: (ctx: RouteContext<Q, B>) => Promise<HttpReply> | HttpReply;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  apiToken: string;
  /** Who holds apiToken (audit name; default 'api-token') and further named operator tokens (operators.ts). */
  apiTokenName?: string;
  namedTokens?: readonly NamedToken[];
  /** /fo/* answers without a token only on a loopback bind. */
  loopbackBind: boolean;
  staticDir?: string;
  logger: Logger;
  version: string;
  /** Concurrent connections accepted (default 256); more are dropped at accept. */
  maxConnections?: number;
  /** A request body must arrive within this long (default 10 s), else 408. */
  bodyTimeoutMs?: number;
  /**
   * Set when a front process owns the console's address and forwards requests here (the headless relay, see
   * relay/front.ts): this server listens on host:port (loopback, port 0) but checks Host and Origin against, and
   * reports its URL as, the address clients actually use.
   */
  publicAddress?: { host: string; port: number; url: string };
}

export interface HttpListener {
  /** The URL clients use (the public address when a front forwards here). */
  url: string;
  /** Where this server itself listens (equals url without a front). */
  listenUrl: string;
  port: number;
  close(): Promise<void>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const DEFAULT_BODY_LIMIT = 64 * 1024;

function matchPath(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/');
  const xs = path.split('/');
  if (ps.length !== xs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) params[ps[i].slice(1)] = decodeURIComponent(xs[i]);
    else if (ps[i] !== xs[i]) return null;
  }
  return params;
}

function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const all = search.getAll(key);
    out[key] = all.length > 1 ? all : all[0];
  }
  return out;
}

/** Reads the body up to `limit` bytes within `timeoutMs` (a slow sender cannot hold a connection for long). */
export async function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `body exceeds ${limit} bytes`);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | null, body?: Buffer) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) reject(err);
      else resolve(body as Buffer);
    };
    const timer = setTimeout(() => {
      finish(new HttpError(408, `request body not received within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(new HttpError(413, `body exceeds ${limit} bytes`));
      } else chunks.push(chunk);
    };
    const onEnd = () => finish(null, Buffer.concat(chunks));
    const onError = (err: Error) => finish(new HttpError(400, `request body failed: ${err.message}`));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(text);
}

export class HttpServer {
  private readonly routes: RouteDef[] = [];
  private boundUrl: string | null = null;
  private guard: RequestGuard | null = null;

  private readonly operators: OperatorTokens;

  constructor(private readonly options: HttpServerOptions) {
    this.operators = new OperatorTokens({ name: options.apiTokenName ?? 'api-token', token: options.apiToken }, options.namedTokens);
  }

  /** The base URL once listening (settings show the webhook URL with the real port, also for port 0). */
  get url(): string | null {
    return this.boundUrl;
  }

  addRoute<Q, B>(route: RouteDef<Q, B>): void {
    if (this.routes.some((r) => r.method === route.method && r.path === route.path)) {
      throw new Error(`route ${route.method} ${route.path} declared twice`);
    }
    this.routes.push(route as RouteDef);
  }

  listRoutes(): readonly RouteDef[] {
    return this.routes;
  }

  /** Checks the API token from the Authorization header (or the `token` query parameter where the route allows it). */
  hasValidToken(req: IncomingMessage, url: URL, allowQuery = false): boolean {
    return this.tokenActor(req, url, allowQuery) !== null;
  }

  /** The operator name of the presented token (operators.ts), or null when none or an unknown one is presented. */
  tokenActor(req: IncomingMessage, url: URL, allowQuery = false): string | null {
    const header = req.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : allowQuery ? url.searchParams.get('token') : null;
    return this.operators.actorFor(presented);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID();
    res.setHeader('X-Request-ID', requestId);
    const method = (req.method ?? 'GET').toUpperCase();
    const misdirected = this.guard?.checkHost(req);
    if (misdirected) {
      sendJson(res, 421, { detail: misdirected });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { detail: 'malformed request target' });
      return;
    }
    let candidates: { route: RouteDef; params: Record<string, string> | null }[];
    try {
      candidates = this.routes.map((r) => ({ route: r, params: matchPath(r.path, url.pathname) })).filter((c) => c.params);
    } catch {
      // decodeURIComponent of a malformed escape (%E0%A4%A)
      sendJson(res, 400, { detail: `malformed path ${url.pathname.slice(0, 200)}` });
      return;
    }
    const match = candidates.find((c) => c.route.method === method);

    if (!match) {
      if (candidates.length > 0) {
        const allow = [...new Set(candidates.map((c) => c.route.method))].join(', ');
        sendJson(res, 405, { detail: `method ${method} not allowed on ${url.pathname}; allowed: ${allow}` }, { Allow: allow });
        return;
      }
      if ((method === 'GET' || method === 'HEAD') && this.options.staticDir && !url.pathname.startsWith('/api/')) {
        if (await serveStatic(this.options.staticDir, url.pathname, res)) return;
      }
      sendJson(res, 404, { detail: `no route ${method} ${url.pathname}` });
      return;
    }

    const { route } = match;
    const params = match.params;
    if ((route.effect ?? method !== 'GET') && this.guard?.isCrossSite(req)) {
      sendJson(res, 403, { detail: 'cross-site request refused: this route changes state and only answers this console or a non-browser client' });
      return;
    }
    let actor = 'anonymous';
    if (route.auth === 'token' || (route.auth === 'loopback-open' && !this.options.loopbackBind)) {
      const tokenActor = this.tokenActor(req, url, route.queryToken === true);
      if (tokenActor === null) {
        sendJson(res, 401, { detail: 'missing or invalid API token (Authorization: Bearer <token>)' }, { 'WWW-Authenticate': 'Bearer' });
        return;
      }
      actor = tokenActor;
    } else if (route.auth === 'loopback-open') {
      actor = 'loopback';
    }

    if (route.preAuthenticate) {
      const early = route.preAuthenticate(req);
      if (early && !early.ok) {
        // Refused from its headers alone: the body is never read, the connection closes after the answer.
        sendJson(res, early.status, { detail: early.message }, { Connection: 'close' });
        return;
      }
    }
    const declaresJson = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
    if ((route.body || route.docBody) && !declaresJson && method !== 'GET') {
      sendJson(res, 415, { detail: 'Content-Type must be application/json' }, { Connection: 'close' });
      return;
    }
    let rawBody: Buffer = Buffer.alloc(0);
    if (method === 'POST' || method === 'PUT' || method === 'DELETE') {
      rawBody = await readBody(req, route.bodyLimit ?? DEFAULT_BODY_LIMIT, this.options.bodyTimeoutMs ?? 10_000);
    }
    if (route.auth === 'custom') {
      if (!route.authenticate) throw new Error(`route ${route.path} has custom auth but no authenticator`);
      const verdict = await route.authenticate(req, rawBody);
      if (!verdict.ok) {
        sendJson(res, verdict.status, { detail: verdict.message });
        return;
      }
      actor = verdict.actor;
    }

    let body: unknown;
    if (route.body) {
      let parsed: unknown;
      try {
        parsed = rawBody.length ? JSON.parse(rawBody.toString('utf8')) : {};
      } catch (err) {
        throw new HttpError(400, `malformed JSON body: ${(err as Error).message}`);
      }
      const result = route.body.safeParse(parsed);
      if (!result.success) {
        const { message, errors } = describeZodError(result.error);
        throw new HttpError(422, message, { errors });
      }
      body = result.data;
    }
    let query: unknown = queryObject(url.searchParams);
    if (route.query) {
      const result = route.query.safeParse(query);
      if (!result.success) {
        const { message, errors } = describeZodError(result.error);
        throw new HttpError(400, message, { errors });
      }
      query = result.data;
    }

    const reply = await route.handler({ req, res, query, body, rawBody, params: params ?? {}, actor, requestId });
    if (reply.raw) return;
    sendJson(res, reply.status ?? 200, reply.body ?? null, reply.headers);
  }

  async listen(): Promise<HttpListener> {
    const log = this.options.logger;
    const server = createServer((req, res) => {
      this.dispatch(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) {
          if (err.status === 408) {
            // The rest of a slow body is not waited for: answer, then drop the connection.
            res.once('finish', () => req.socket.destroy());
            sendJson(res, err.status, { detail: err.message }, { Connection: 'close' });
            return;
          }
          sendJson(res, err.status, { detail: redactUrlsIn(err.message), ...err.extra });
          if (err.status === 413) req.resume();
          return;
        }
        // The client gets generic text and the request id; the cause (maybe a database's words) goes to the log.
        log.error({ err, path: req.url?.split('?')[0] }, 'request failed');
        sendJson(res, 500, { detail: 'internal error', request_id: res.getHeader('X-Request-ID') });
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    // A flood of slow connections must not exhaust file descriptors or memory.
    server.maxConnections = this.options.maxConnections ?? 256;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const front = this.options.publicAddress;
    this.guard = new RequestGuard(front?.host ?? this.options.host, front?.port ?? address.port);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const listenUrl = `http://${host}:${address.port}`;
    const url = front?.url ?? listenUrl;
    this.boundUrl = url;
    return {
      url,
      listenUrl,
      port: address.port,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // SSE streams and keep-alive sockets would hold close() open forever.
          server.closeAllConnections();
        }),
    };
  }
}
