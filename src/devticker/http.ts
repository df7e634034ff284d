// The HTTP surface, exactly as the ticker service answers (docs/ticker-contract.md section 1), plus GET /instruments
// (Kite CSV; the ideal profile only, the real service has none) and the /_sim/ control endpoint (behind a per-run
// token). Every request must carry an allowed Host (421 otherwise: no DNS rebinding) and every POST a JSON body (415
// otherwise: no cross-site form or text/plain request reaches a handler).
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DevTickerCore } from './core';
import { KITE_MAX_DAYS, computeCandles, isKnownInterval, parseHistoryTime } from './history';
import type { Clock } from '../shared/clock';
import { countRequest, faultsPatchSchema, emptyCounters, profileFaults } from './sim';
import type { SubscriptionStatus } from './subscriptions';

type Json = unknown;
interface Reply {
  status: number;
  body: Json | string;
  contentType?: string;
  headers?: Record<string, string>;
}

interface ValidationError {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

const LIMITS: Record<string, number> = {
  'GET /health': 60,
  'GET /subscriptions': 100,
  'POST /subscriptions': 30,
  'DELETE /subscriptions/{instrument_token}': 30,
};

const MODES = ['FULL', 'QUOTE', 'LTP'];
const BOOL_TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const BOOL_FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no']);
const INT_RE = /^\s*[+-]?\d+\s*$/;

const detail = (status: number, message: string): Reply => ({ status, body: { detail: message } });
const invalid = (errors: ValidationError[]): Reply => ({ status: 422, body: { detail: errors } });

/** pydantic v2 lax int parsing of one value; returns the int or pushes an error. */
function parseInt_(value: unknown, loc: Array<string | number>, errors: ValidationError[]): number | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    errors.push({ type: 'int_from_float', loc, msg: 'Input should be a valid integer, got a number with a fractional part', input: value });
    return undefined;
  }
  if (typeof value === 'string') {
    if (INT_RE.test(value)) return Number.parseInt(value.trim(), 10);
    errors.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: value });
    return undefined;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  errors.push({ type: 'int_type', loc, msg: 'Input should be a valid integer', input: value });
  return undefined;
}

function parseBool(value: string | null, loc: Array<string | number>, errors: ValidationError[]): boolean | undefined {
  if (value === null) return undefined;
  const v = value.trim().toLowerCase();
  if (BOOL_TRUE.has(v)) return true;
  if (BOOL_FALSE.has(v)) return false;
  errors.push({ type: 'bool_parsing', loc, msg: 'Input should be a valid boolean, unable to interpret input', input: value });
  return undefined;
}

export interface HttpOptions {
  /** Host header values accepted (host:port, lower case); anything else answers 421 */
  allowedHosts: Set<string>;
  /** the /_sim/ token; null = /_sim/ is off (404) */
  simToken: string | null;
  /** answer GET /instruments (the devticker's extension; the real service has no such route) */
  instrumentsRoute: boolean;
}

export class DevTickerHttp {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly core: DevTickerCore,
    private readonly options: HttpOptions,
  ) {}

  private get production(): boolean {
    return this.core.opts.profile === 'production';
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.dispatch(req, res).catch((err: unknown) => {
      this.core.opts.logger.error({ err: (err as Error).message }, 'devticker request failed');
      const id = typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'] ? req.headers['x-request-id'] : randomUUID();
      if (!res.headersSent) this.send(res, this.internalError(id), id);
    });
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'] ? req.headers['x-request-id'] : randomUUID();
    const method = req.method ?? 'GET';
    // A page on another site can reach a loopback server only through DNS rebinding: its Host is then foreign.
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.options.allowedHosts.has(host)) {
      req.resume();
      this.send(res, detail(421, 'Misdirected Request: Host not allowed'), requestId);
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://devticker');
    } catch {
      req.resume();
      this.send(res, detail(400, 'Bad Request'), requestId);
      return;
    }
    const path = url.pathname;
    const isBodyMethod = method === 'POST' || method === 'PUT' || method === 'PATCH';
    // JSON only: a cross-site form or text/plain fetch (no CORS preflight) must not reach a handler.
    if (isBodyMethod && !isJsonContentType(req.headers['content-type'])) {
      req.resume();
      const reply = detail(415, 'Content-Type must be application/json');
      countRequest(this.core.counters, routeOf(method, path, this.options.instrumentsRoute) ?? `${method} ${path}`, reply.status);
      this.send(res, reply, requestId);
      return;
    }
    const body = isBodyMethod ? await readBody(req) : '';

    if (path === '/_sim' || path.startsWith('/_sim/')) {
      this.send(res, this.simGate(req, method, path, body), requestId);
      return;
    }

    const env = this.core.opts.environment;
    if ((env === 'production' || env === 'staging') && path !== '/health' && path !== '/metrics' && req.headers['x-forwarded-proto'] !== 'https') {
      this.send(res, { status: 301, body: '', contentType: 'text/plain; charset=utf-8', headers: { location: `https://${host}${req.url ?? '/'}` } }, requestId);
      return;
    }

    const route = routeOf(method, path, this.options.instrumentsRoute);
    const reply = await this.contract(route, method, path, url, body, req, requestId);
    countRequest(this.core.counters, route ?? `${method} ${path}`, reply.status);
    this.send(res, reply, requestId);
  }

  private simGate(req: IncomingMessage, method: string, path: string, body: string): Reply {
    const token = this.options.simToken;
    if (token === null) return detail(404, 'Not Found');
    const auth = req.headers.authorization;
    const given =
      (typeof req.headers['x-sim-token'] === 'string' ? req.headers['x-sim-token'] : undefined) ??
      (typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (given === undefined || !sameSecret(given, token))
      return detail(401, 'a valid X-Sim-Token header is required for /_sim/ (the token is printed at start)');
    return this.sim(method, path, body);
  }

  private async contract(route: string | null, method: string, path: string, url: URL, body: string, req: IncomingMessage, requestId: string): Promise<Reply> {
    const f = this.core.faults;
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (route === null) {
      const known =
        ['/health', '/subscriptions', '/history', ...(this.options.instrumentsRoute ? ['/instruments'] : [])].includes(path) ||
        /^\/subscriptions\/[^/]+$/.test(path);
      return known ? detail(405, 'Method Not Allowed') : detail(404, 'Not Found');
    }
    // slowapi runs inside the endpoint, after FastAPI's validation: a 422 is not counted against the limit.
    const gate = (): Reply | null => {
      const limit = LIMITS[route];
      if (limit !== undefined) {
        if (f.rateLimitStorm || !this.allow(route, path, req.socket.remoteAddress ?? '?', limit)) {
          return { status: 429, body: { error: `Rate limit exceeded: ${limit} per 1 minute` } };
        }
      }
      if (this.core.chance(f.errorRate)) return this.internalError(requestId);
      return null;
    };
    this.core.ensureRegistry(this.core.opts.marketClock.now());
    switch (route) {
      case 'GET /health':
        return gate() ?? { status: 200, body: this.health() };
      case 'GET /subscriptions':
        return this.listSubscriptions(url, gate);
      case 'POST /subscriptions':
        return this.createSubscription(body, gate);
      case 'DELETE /subscriptions/{instrument_token}':
        return this.deleteSubscription(path.slice('/subscriptions/'.length), gate);
      case 'GET /history':
        return await this.history(url, gate);
      case 'GET /instruments':
        return gate() ?? { status: 200, body: this.core.registry.toCsv(), contentType: 'text/csv; charset=utf-8' };
      default:
        return detail(404, 'Not Found');
    }
  }

  /**
   * Fixed 1-minute window opened by the first hit, per client IP and limit. Production keys it by request path too
   * (slowapi key_style="url"): each DELETE /subscriptions/{token} path has its own budget.
   */
  private allow(route: string, path: string, ip: string, limit: number): boolean {
    const now = this.core.opts.baseClock.now();
    const key = this.production ? `${route}|${path}|${ip}` : `${route}|${ip}`;
    let w = this.windows.get(key);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count <= limit;
  }

  /** Forgets every rate-limit window (sim reset). */
  resetRateLimits(): void {
    this.windows.clear();
  }

  private internalError(requestId: string): Reply {
    const now = this.core.opts.baseClock.now();
    return {
      status: 500,
      body: {
        error: this.production
          ? { type: 'internal_error', message: 'An unexpected error occurred', timestamp: pyIsoUtc(now), request_id: requestId }
          : { type: 'InternalServerError', message: 'An unexpected error occurred', timestamp: new Date(now).toISOString(), request_id: requestId },
      },
    };
  }

  health(): Json {
    const core = this.core;
    const redis = core.redisStatus;
    if (this.production) {
      // The service reports the last stream start: idle until one, frozen after a broken reload.
      const running = core.streamStartedAt !== null;
      return {
        status: running && redis !== 'error' ? 'ok' : 'degraded',
        environment: core.opts.environment,
        ticker: {
          running,
          started_at: running ? (core.streamStartedAt as number) / 1000 : null,
          active_subscriptions: running ? core.streamStartActive : 0,
          accounts: running
            ? core.opts.accounts.map((account_id, i) => ({
                account_id,
                instrument_count: core.streamStartPerAccount[i] ?? 0,
                last_tick_at: core.streamer.lastTickAt[i],
              }))
            : [],
        },
        dependencies: {
          redis: redis === 'error' ? 'error' : 'ok',
          database: 'ok',
          instrument_registry: { status: 'ok', cached_instruments: core.registry.size, last_refresh: pyIsoUtc(core.registry.refreshedAt) },
        },
        // the stream orchestrator and token refresher report only once streams have started (as in the idle example)
        ...(running ? { orchestrator: { status: 'ok' }, token_refresher: { status: 'ok', next_refresh_at: null } } : {}),
      };
    }
    const perAccount = core.streamingPerAccount();
    return {
      status: redis === 'error' ? 'degraded' : 'ok',
      environment: core.opts.environment,
      ticker: {
        running: true,
        started_at: core.startedAt / 1000,
        active_subscriptions: core.store.activeCount(),
        accounts: core.opts.accounts.map((account_id, i) => ({
          account_id,
          instrument_count: perAccount[i] ?? 0,
          last_tick_at: core.streamer.lastTickAt[i],
        })),
      },
      dependencies: {
        redis: redis === 'error' ? 'error' : 'ok',
        database: 'ok',
        instrument_registry: { status: 'ok', cached_instruments: core.registry.size, last_refresh: new Date(core.registry.refreshedAt).toISOString() },
      },
    };
  }

  private listSubscriptions(url: URL, gate: () => Reply | null): Reply {
    const errors: ValidationError[] = [];
    const rawLimit = url.searchParams.get('limit');
    const rawOffset = url.searchParams.get('offset');
    const limit = rawLimit === null ? 100 : parseInt_(rawLimit, ['query', 'limit'], errors);
    const offset = rawOffset === null ? 0 : parseInt_(rawOffset, ['query', 'offset'], errors);
    if (errors.length) return invalid(errors);
    const refused = gate();
    if (refused) return refused;
    if ((limit as number) < 1 || (limit as number) > 1000) return detail(400, 'limit must be between 1 and 1000');
    if ((offset as number) < 0) return detail(400, 'offset must be non-negative');
    const rawStatus = url.searchParams.get('status');
    const status = rawStatus === null || rawStatus === '' ? null : rawStatus.toLowerCase();
    if (status !== null && status !== 'active' && status !== 'inactive') return detail(400, "status must be 'active', 'inactive', or omitted");
    const rows = this.core.store.list((status ?? undefined) as SubscriptionStatus | undefined);
    return { status: 200, body: rows.slice(offset as number, (offset as number) + (limit as number)) };
  }

  private createSubscription(raw: string, gate: () => Reply | null): Reply {
    if (raw.trim() === '') return invalid([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (e) {
      const pos = /position (\d+)/.exec((e as Error).message);
      return invalid([
        { type: 'json_invalid', loc: ['body', pos ? Number(pos[1]) : 0], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } },
      ]);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return invalid([
        { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body },
      ]);
    }
    const b = body as Record<string, unknown>;
    const errors: ValidationError[] = [];
    let token: number | undefined;
    if (!('instrument_token' in b)) {
      errors.push({ type: 'missing', loc: ['body', 'instrument_token'], msg: 'Field required', input: body });
    } else {
      token = parseInt_(b.instrument_token, ['body', 'instrument_token'], errors);
      if (token !== undefined && token < 1) {
        errors.push({
          type: 'greater_than_equal',
          loc: ['body', 'instrument_token'],
          msg: 'Input should be greater than or equal to 1',
          input: b.instrument_token,
          ctx: { ge: 1 },
        });
      }
    }
    const rawMode = b.requested_mode;
    if (rawMode !== undefined && rawMode !== null && typeof rawMode !== 'string') {
      errors.push({ type: 'string_type', loc: ['body', 'requested_mode'], msg: 'Input should be a valid string', input: rawMode });
    }
    const rawAccount = b.account_id;
    if (rawAccount !== undefined && rawAccount !== null && typeof rawAccount !== 'string') {
      errors.push({ type: 'string_type', loc: ['body', 'account_id'], msg: 'Input should be a valid string', input: rawAccount });
    }
    if (errors.length) return invalid(errors);
    const refused = gate();
    if (refused) return refused;
    // requested_mode "" means FULL
    const mode = ((rawMode as string | null | undefined) || 'FULL').toUpperCase();
    if (!MODES.includes(mode)) return detail(400, 'requested_mode must be one of FULL, QUOTE, LTP');
    const inst = this.core.registry.liveByToken(token as number);
    if (!inst) return detail(404, 'Instrument token not found or inactive in registry');
    let accountId: string | null;
    if (this.production) {
      // The real service stores what it was given: null without an account, "" as is; other names must exist.
      accountId = (rawAccount as string | null | undefined) ?? null;
      if (accountId && !this.core.opts.accounts.includes(accountId)) return detail(400, `Account '${accountId}' is not configured`);
    } else {
      accountId = (rawAccount as string | null | undefined) ?? this.core.opts.accounts[0];
      if (!this.core.opts.accounts.includes(accountId)) return detail(400, `Account '${accountId}' is not configured`);
    }
    const row = this.core.subscribe(inst, mode, accountId, 'reload');
    return { status: 201, body: row };
  }

  private deleteSubscription(encoded: string, gate: () => Reply | null): Reply {
    let rawToken: string;
    try {
      rawToken = decodeURIComponent(encoded);
    } catch {
      rawToken = encoded; // malformed percent-encoding: not an integer, so the path fails validation like any other
    }
    const errors: ValidationError[] = [];
    const token = parseInt_(rawToken, ['path', 'instrument_token'], errors);
    if (errors.length) return invalid(errors);
    const refused = gate();
    if (refused) return refused;
    const row = this.core.unsubscribe(token as number, 'reload');
    if (!row) return detail(404, 'Subscription not found');
    return { status: 200, body: row };
  }

  private async history(url: URL, gate: () => Reply | null): Promise<Reply> {
    const core = this.core;
    const now = core.opts.marketClock.now();
    // A call's time is when it arrived: building the candles takes longer under load, and stamping after it would
    // crowd calls that arrived a second apart into one second.
    const arrivedAt = core.opts.baseClock.now();
    const q = url.searchParams;
    const errors: ValidationError[] = [];
    const rawToken = q.get('instrument_token');
    let token: number | undefined;
    if (rawToken === null) errors.push({ type: 'missing', loc: ['query', 'instrument_token'], msg: 'Field required', input: null });
    else token = parseInt_(rawToken, ['query', 'instrument_token'], errors);
    const times: Record<string, ReturnType<typeof parseHistoryTime>> = {};
    for (const name of ['from_ts', 'to_ts']) {
      const raw = q.get(name);
      if (raw === null) {
        errors.push({ type: 'missing', loc: ['query', name], msg: 'Field required', input: null });
        continue;
      }
      const parsed = parseHistoryTime(raw);
      if (!parsed) {
        errors.push({
          type: 'datetime_from_date_parsing',
          loc: ['query', name],
          msg: `Input should be a valid datetime or date, ${raw.length < 10 ? 'input is too short' : 'invalid character in year'}`,
          input: raw,
        });
      }
      times[name] = parsed;
    }
    parseBool(q.get('continuous'), ['query', 'continuous'], errors);
    const withOi = parseBool(q.get('oi'), ['query', 'oi'], errors) ?? false;
    const record = (status: number, rateLimited = false, queuedMs = 0): void => {
      const calls = core.counters.historyCalls;
      calls.push({ at: arrivedAt, instrumentToken: token ?? null, status, rateLimited, queuedMs });
      if (calls.length > 10_000) calls.splice(0, calls.length - 10_000);
    };
    if (errors.length) {
      record(422);
      return invalid(errors);
    }
    const refused = gate();
    if (refused) return refused;
    const from = times.from_ts as NonNullable<(typeof times)['from_ts']>;
    const to = times.to_ts as NonNullable<(typeof times)['to_ts']>;
    if (to.istMs <= from.istMs) {
      record(400);
      return detail(400, "'to_ts' must be greater than 'from_ts'");
    }
    const inst = core.registry.byToken(token as number);
    if (!inst) {
      record(404);
      return detail(404, 'Instrument token not found in registry');
    }
    let queuedMs = 0;
    const kiteFail = (text: string, rateLimited = false): Reply => {
      record(502, rateLimited, queuedMs);
      return detail(502, `Historical fetch failed: ${text}`);
    };
    if (core.faults.rateLimitStorm) {
      core.counters.historyRateLimited++;
      return kiteFail('Too many requests', true);
    }
    if (this.production) {
      // The service's own limiter queues (3/s bucket): slow, not refused. Past 30 s it sends anyway, and Kite's own
      // 3/s limit may then turn the call away.
      const base = core.opts.baseClock;
      const { waitMs, capped } = core.kiteLimiterWait(base.now());
      if (waitMs > 0) {
        core.counters.historyQueued++;
        core.counters.historyQueuedMs += waitMs;
        queuedMs = waitMs;
        await waitUntil(base, base.now() + waitMs);
      }
      if (capped && !core.kiteHistoryAllowed(base.now())) {
        core.counters.historyRateLimited++;
        return kiteFail('Too many requests', true);
      }
      if (!capped) core.kiteHistoryAllowed(base.now());
    } else if (!core.kiteHistoryAllowed(core.opts.baseClock.now())) {
      core.counters.historyRateLimited++;
      return kiteFail('Too many requests', true);
    }
    const interval = q.get('interval') ?? 'minute';
    if (!isKnownInterval(interval)) return kiteFail('invalid interval');
    const maxDays = KITE_MAX_DAYS[interval];
    if (to.istMs - from.istMs > maxDays * 86_400_000) return kiteFail(`interval exceeds max limit: ${maxDays} days`);
    if (inst.expired) return kiteFail('Intraday history for expired contracts is not available');
    const candles = await computeCandles(core.model, core.opts.calendar, inst, from.istMs, to.istMs, now, interval, withOi, core.faults.quirkGreeksScaled);
    record(200, false, queuedMs);
    // The service names an option (or future) by its own tradingsymbol, an index by its underlying.
    const symbol = this.production && inst.kind !== 'index' ? inst.tradingsymbol : inst.name;
    return {
      status: 200,
      body: {
        instrument_token: inst.token,
        symbol,
        tradingsymbol: inst.tradingsymbol,
        segment: inst.segment,
        interval,
        from_ts: from.text,
        to_ts: to.text,
        candles,
      },
    };
  }

  // ---- /_sim/ ----------------------------------------------------------------------------------------------

  private sim(method: string, path: string, raw: string): Reply {
    const core = this.core;
    if (method === 'GET' && path === '/_sim/state') return { status: 200, body: simState(core) };
    if (method === 'GET' && path === '/_sim/faults') return { status: 200, body: core.faults };
    if (method === 'POST' && path === '/_sim/faults') {
      let json: unknown;
      try {
        json = raw.trim() ? JSON.parse(raw) : {};
      } catch {
        return detail(400, 'body must be JSON');
      }
      const parsed = faultsPatchSchema.safeParse(json);
      if (!parsed.success) return detail(400, `invalid faults: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      core.faults = { ...core.faults, ...parsed.data };
      return { status: 200, body: core.faults };
    }
    if (method === 'POST' && path === '/_sim/reset') {
      core.faults = profileFaults(core.opts.profile);
      Object.assign(core.counters, emptyCounters());
      this.resetRateLimits();
      return { status: 200, body: core.faults };
    }
    if (method === 'POST' && path === '/_sim/subscribe') {
      let json: { tokens?: unknown; account_id?: unknown };
      try {
        json = JSON.parse(raw || '{}');
      } catch {
        return detail(400, 'body must be JSON');
      }
      const tokens = Array.isArray(json.tokens) ? json.tokens.filter((t): t is number => Number.isInteger(t)) : [];
      const account = typeof json.account_id === 'string' ? json.account_id : this.production ? null : core.opts.accounts[0];
      if (account && !core.opts.accounts.includes(account)) return detail(400, `Account '${account}' is not configured`);
      const missing: number[] = [];
      for (const t of tokens) {
        const inst = core.registry.liveByToken(t);
        if (inst) core.subscribe(inst, 'FULL', account, 'none');
        else missing.push(t);
      }
      core.applyNow();
      return { status: 200, body: { subscribed: tokens.length - missing.length, missing } };
    }
    if (method === 'POST' && path === '/_sim/restart') {
      core.restart();
      this.resetRateLimits();
      return { status: 200, body: { restarted: true, streaming: core.streamer.streamingCount } };
    }
    return detail(404, 'Not Found');
  }

  private send(res: ServerResponse, reply: Reply, requestId: string): void {
    const isText = typeof reply.body === 'string' && reply.contentType;
    const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-type': reply.contentType ?? 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-request-id': requestId,
    });
    res.end(payload);
  }
}

export function simState(core: DevTickerCore): Json {
  const prices: Record<string, number> = {};
  const now = core.opts.marketClock.now();
  for (const inst of core.registry.live) {
    if (inst.kind === 'index') prices[inst.name] = core.model.spot(inst.underlying, Math.floor(now / 1000));
  }
  return {
    now: new Date(now).toISOString(),
    clock_mode: core.opts.clockMode,
    in_session: core.opts.calendar.isInSession(now),
    registry_date: core.registry.date,
    live_instruments: core.registry.live.length,
    faults: core.faults,
    counters: { ...core.counters, historyCalls: core.counters.historyCalls.slice(-100) },
    streaming: core.streamer.streamingCount,
    streaming_per_account: Object.fromEntries(core.opts.accounts.map((a, i) => [a, core.streamingPerAccount()[i] ?? 0])),
    profile: core.opts.profile,
    reload_mode: core.opts.reloadMode,
    stream_dead: core.streamDead,
    reload_pending: core.reloadPending,
    reload_in_progress: core.reloadInProgress,
    underlying_prices: prices,
  };
}

function routeOf(method: string, path: string, instrumentsRoute: boolean): string | null {
  if (path === '/health') return method === 'GET' ? 'GET /health' : null;
  if (path === '/subscriptions') return method === 'GET' ? 'GET /subscriptions' : method === 'POST' ? 'POST /subscriptions' : null;
  if (/^\/subscriptions\/[^/]+$/.test(path)) return method === 'DELETE' ? 'DELETE /subscriptions/{instrument_token}' : null;
  if (path === '/history') return method === 'GET' ? 'GET /history' : null;
  if (path === '/instruments' && instrumentsRoute) return method === 'GET' ? 'GET /instruments' : null;
  return null;
}

/** application/json (any parameters, e.g. charset); nothing else reaches a handler. */
function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(';')[0].trim().toLowerCase() === 'application/json';
}

/** Constant-time comparison of a presented token with the expected one. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Python's datetime.isoformat() of an aware UTC instant: 2025-11-04T02:00:03.118000+00:00 */
export function pyIsoUtc(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000+00:00`;
}

/** Waits until `clock` reaches `target` (real timers; a test's manual clock is polled, so advancing it releases the wait). */
async function waitUntil(clock: Clock, target: number): Promise<void> {
  for (;;) {
    const left = target - clock.now();
    if (left <= 0) return;
    await new Promise((r) => setTimeout(r, Math.min(left, 25)));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1_000_000) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
