// The TickerClient over undici (one keep-alive Pool per service): every endpoint of shared/spec/ticker-service.md
// with typed results and typed errors (TickerError), timeouts, a client-side limiter holding the service's budgets,
// a circuit breaker, and every attempt counted by endpoint and outcome (telemetry.tickerRequest).
//
// Retries (exponential backoff with full jitter) are for idempotent calls: GET /subscriptions, /health, /history and
// DELETE (deleting twice is harmless: an inactive token answers 200, an unknown one 404 = gone). POST /subscriptions
// is an idempotent upsert by contract too, but the client sends it ONCE: every POST costs one of 30 mutations a
// minute and a full stream reload at the service, and the subscription manager owns its retry (per-token backoff
// with a visible next-retry time, nearest-ATM order, the caller's wait budget). Re-sending it there is safe because
// the upsert is idempotent.
import { Pool } from 'undici';
import { z } from 'zod';
import { toIstNaive } from '../calendar';
import type { Logger } from '../log';
import type { Telemetry } from '../metrics/telemetry';
import { CircuitBreaker, type BreakerOptions, type BreakerView } from './breaker';
import { RateLimiter, type BucketLimit, type BucketView, type TickerBucket } from './limiter';
import { systemScheduler, type Scheduler } from './time';
import {
  TickerError,
  type HistoryRequest,
  type HistoryResponse,
  type TickerClient,
  type TickerErrorKind,
  type TickerHealth,
  type TickerSubscription,
  type ListCallOptions,
} from './types';

export type TickerEndpoint = 'subscriptions.list' | 'subscriptions.create' | 'subscriptions.delete' | 'history' | 'health' | 'instruments';

export interface TickerClientOptions {
  baseUrl: string;
  scheduler?: Scheduler;
  telemetry?: Telemetry;
  logger?: Logger;
  /** Override budgets (tests, a service configured differently). */
  limits?: Partial<Record<TickerBucket, BucketLimit>>;
  /** How long a 429 holds its bucket. Default: the bucket's window (the service gives no Retry-After). */
  rateLimitHoldMs?: Partial<Record<TickerBucket, number>>;
  /** Per-request timeout (default 10 s; history 30 s). */
  timeoutMs?: number;
  historyTimeoutMs?: number;
  /** Retries of idempotent calls after the first attempt (default 3). */
  retries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  breaker?: BreakerOptions;
  /** Keep-alive connections in the pool (default 6). */
  connections?: number;
  /** Jitter source (tests). */
  random?: () => number;
}

export interface TickerClientStats {
  /** endpoint -> outcome (HTTP status or error kind) -> count */
  calls: Record<string, Record<string, number>>;
  rateLimited: number;
  breaker: BreakerView;
  limiter: BucketView[];
}

const subscriptionSchema = z
  .object({
    instrument_token: z.coerce.number().int(),
    tradingsymbol: z.string().default(''),
    segment: z.string().default(''),
    status: z.enum(['active', 'inactive']),
    requested_mode: z.string().default('FULL'),
    account_id: z.string().default('primary'),
    created_at: z.string().default(''),
    updated_at: z.string().default(''),
  })
  .loose();
const subscriptionListSchema = z.array(subscriptionSchema);
const nullableNumber = z.number().nullable().optional();
const historySchema = z
  .object({
    instrument_token: z.coerce.number().int(),
    symbol: z.string().default(''),
    tradingsymbol: z.string().default(''),
    segment: z.string().default(''),
    interval: z.string().default('minute'),
    from_ts: z.string().default(''),
    to_ts: z.string().default(''),
    candles: z.array(
      z
        .object({
          date: z.string(),
          open: z.number(),
          high: z.number(),
          low: z.number(),
          close: z.number(),
          volume: z.number(),
          oi: z.number().optional(),
          iv: nullableNumber,
          delta: nullableNumber,
          gamma: nullableNumber,
          theta: nullableNumber,
          vega: nullableNumber,
          underlying: nullableNumber,
        })
        .loose(),
    ),
  })
  .loose();
const healthSchema = z.object({ status: z.string() }).loose();

interface CallSpec {
  endpoint: TickerEndpoint;
  bucket: TickerBucket | null;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  idempotent: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Statuses other than 2xx that are an answer, not an error (DELETE 404). */
  accept?: number[];
  /** false: a held bucket or a 429 is thrown at once (with retryAt) instead of waited out. */
  waitOutRateLimit?: boolean;
}

interface RawAnswer {
  status: number;
  text: string;
}

const PAGE = 1000;

/** The message of a ticker error body: {"detail": "..."} | {"detail": [...]} | {"error": "..."} | {"error": {message}}. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; error?: unknown };
    if (typeof body.detail === 'string') return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}`).join('; ');
    if (typeof body.error === 'string') return body.error;
    if (body.error && typeof body.error === 'object' && 'message' in body.error) return String((body.error as { message: unknown }).message);
  } catch {
    // not JSON: the raw text says it
  }
  return text.slice(0, 300);
}

function kindOfStatus(status: number, message: string): TickerErrorKind {
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status === 502) return /too many requests/i.test(message) ? 'rate_limited' : 'upstream';
  if (status >= 500) return 'server';
  return 'bad_request';
}

export class HttpTickerClient implements TickerClient {
  readonly baseUrl: string;
  readonly limiter: RateLimiter;
  readonly breaker: CircuitBreaker;
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly scheduler: Scheduler;
  private readonly calls: Record<string, Record<string, number>> = {};
  private rateLimited = 0;
  private closed = false;

  constructor(private readonly options: TickerClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`ticker URL must be http(s): ${options.baseUrl}`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.scheduler = options.scheduler ?? systemScheduler;
    this.limiter = new RateLimiter(this.scheduler, options.limits);
    this.breaker = new CircuitBreaker(this.scheduler, options.breaker);
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 6,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connectTimeout: 5_000,
    });
  }

  async health(): Promise<TickerHealth> {
    const answer = await this.call({ endpoint: 'health', bucket: 'health', method: 'GET', path: '/health', idempotent: true, timeoutMs: this.timeout() });
    return this.parse(healthSchema, answer, 'health') as TickerHealth;
  }

  async listSubscriptions(opts: { status?: 'active' | 'inactive'; limit?: number; offset?: number } & ListCallOptions = {}): Promise<TickerSubscription[]> {
    const answer = await this.call({
      endpoint: 'subscriptions.list',
      bucket: 'list',
      method: 'GET',
      path: '/subscriptions',
      query: { status: opts.status, limit: opts.limit, offset: opts.offset },
      idempotent: true,
      waitOutRateLimit: opts.waitOutRateLimit,
      timeoutMs: this.timeout(),
    });
    return this.parse(subscriptionListSchema, answer, 'subscriptions.list') as TickerSubscription[];
  }

  /**
   * Every page as one snapshot, sorted by token. The service has no ORDER BY, so rows can move between pages while
   * we read: duplicates are merged (the later updated_at wins); the result is what one pass saw.
   */
  async listAllSubscriptions(status?: 'active' | 'inactive', opts: ListCallOptions = {}): Promise<TickerSubscription[]> {
    const byToken = new Map<number, TickerSubscription>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.listSubscriptions({ status, limit: PAGE, offset, ...opts });
      for (const row of page) {
        const seen = byToken.get(row.instrument_token);
        if (!seen || row.updated_at >= seen.updated_at) byToken.set(row.instrument_token, row);
      }
      if (page.length < PAGE) break;
    }
    return [...byToken.values()].sort((a, b) => a.instrument_token - b.instrument_token);
  }

  async subscribe(token: number, opts: { mode?: 'FULL' | 'QUOTE' | 'LTP'; accountId?: string; signal?: AbortSignal } = {}): Promise<TickerSubscription> {
    const answer = await this.call({
      endpoint: 'subscriptions.create',
      bucket: 'mutate',
      method: 'POST',
      path: '/subscriptions',
      body: { instrument_token: token, requested_mode: opts.mode ?? 'FULL', ...(opts.accountId ? { account_id: opts.accountId } : {}) },
      idempotent: false,
      timeoutMs: this.timeout(),
      signal: opts.signal,
    });
    return this.parse(subscriptionSchema, answer, 'subscriptions.create') as TickerSubscription;
  }

  /** DELETE; null when the service does not know the subscription (404 "Subscription not found": already gone). */
  async unsubscribe(token: number): Promise<TickerSubscription | null> {
    const answer = await this.call({
      endpoint: 'subscriptions.delete',
      bucket: 'mutate',
      method: 'DELETE',
      path: `/subscriptions/${encodeURIComponent(String(token))}`,
      idempotent: true,
      timeoutMs: this.timeout(),
      accept: [404],
    });
    if (answer.status === 404 || answer.status === 204 || answer.text.trim() === '') return null;
    return this.parse(subscriptionSchema, answer, 'subscriptions.delete') as TickerSubscription;
  }

  /** Kite history for one instrument. Times go out as naive IST wall-clock (the service drops any zone). */
  async history(request: HistoryRequest): Promise<HistoryResponse> {
    if (!(request.to > request.from)) throw new TickerError('bad_request', "'to' must be after 'from'", null, 'history');
    const answer = await this.call({
      endpoint: 'history',
      bucket: 'history',
      method: 'GET',
      path: '/history',
      query: {
        instrument_token: request.token,
        from_ts: toIstNaive(request.from),
        to_ts: toIstNaive(request.to),
        interval: request.interval ?? 'minute',
        oi: request.oi ?? true,
        continuous: request.continuous,
        account_id: request.accountId,
      },
      idempotent: true,
      timeoutMs: this.options.historyTimeoutMs ?? 30_000,
      signal: request.signal,
    });
    return this.parse(historySchema, answer, 'history') as HistoryResponse;
  }

  /** The devticker's extension GET /instruments (Kite CSV); the real service has no such endpoint (404). */
  async instrumentsCsv(signal?: AbortSignal): Promise<string> {
    const answer = await this.call({ endpoint: 'instruments', bucket: null, method: 'GET', path: '/instruments', idempotent: true, timeoutMs: 60_000, signal });
    return answer.text;
  }

  mutationEtaMs(position = 0): number {
    return this.limiter.estimateWaitMs('mutate', position);
  }

  stats(): TickerClientStats {
    return { calls: structuredClone(this.calls), rateLimited: this.rateLimited, breaker: this.breaker.view(), limiter: this.limiter.view() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.limiter.close(new TickerError('network', 'ticker client closed', null, 'client'));
    await this.pool.close();
  }

  private timeout(): number {
    return this.options.timeoutMs ?? 10_000;
  }

  private parse<T>(schema: z.ZodType<T>, answer: RawAnswer, endpoint: TickerEndpoint): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw new TickerError('server', `${endpoint}: response is not JSON`, answer.status, endpoint);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new TickerError('server', `${endpoint}: unexpected response shape (${parsed.error.issues[0]?.message ?? 'invalid'})`, answer.status, endpoint);
    return parsed.data;
  }

  private count(endpoint: TickerEndpoint, outcome: string | number, durationMs: number): void {
    const byOutcome = (this.calls[endpoint] ??= {});
    byOutcome[String(outcome)] = (byOutcome[String(outcome)] ?? 0) + 1;
    this.options.telemetry?.tickerRequest(endpoint, outcome, durationMs);
  }

  private backoffMs(attempt: number): number {
    const base = this.options.retryBaseMs ?? 500;
    const cap = this.options.retryMaxMs ?? 8_000;
    const random = this.options.random ?? Math.random;
    return Math.round(random() * Math.min(cap, base * 2 ** attempt));
  }

  private async call(spec: CallSpec): Promise<RawAnswer> {
    const retries = spec.idempotent ? (this.options.retries ?? 3) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(spec);
      } catch (err) {
        const retryable = err instanceof TickerError && err.retryable && err.kind !== 'circuit_open' && !(err.kind === 'rate_limited' && spec.waitOutRateLimit === false);
        if (!retryable || attempt >= retries || this.closed || spec.signal?.aborted) throw err;
        // A rate-limited bucket is held by the limiter; other failures back off with jitter.
        const delay = err.kind === 'rate_limited' ? 0 : this.backoffMs(attempt);
        this.options.logger?.debug({ endpoint: spec.endpoint, attempt: attempt + 1, kind: err.kind, delayMs: delay }, 'ticker call retried');
        if (delay > 0) await this.scheduler.sleep(delay, spec.signal);
      }
    }
  }

  private circuitOpen(endpoint: TickerEndpoint): TickerError {
    this.count(endpoint, 'circuit_open', 0);
    const wait = Math.max(0, this.breaker.retryAt() - this.scheduler.now());
    return new TickerError('circuit_open', `ticker service circuit open (retry in ${Math.ceil(wait / 1000)} s)`, null, endpoint);
  }

  private async attempt(spec: CallSpec): Promise<RawAnswer> {
    if (this.closed) throw new TickerError('network', 'ticker client closed', null, spec.endpoint);
    // Fail fast before spending budget; checked again after the limiter's wait, which may have been long.
    if (this.breaker.state === 'open') throw this.circuitOpen(spec.endpoint);
    if (spec.bucket) {
      const heldUntil = spec.waitOutRateLimit === false ? this.limiter.heldUntil(spec.bucket) : null;
      if (heldUntil !== null) throw new TickerError('rate_limited', `${spec.method} ${spec.path}: held after a 429 until ${new Date(heldUntil).toISOString()}`, null, spec.endpoint, heldUntil);
      await this.limiter.acquire(spec.bucket, spec.signal);
    }
    if (!this.breaker.tryAcquire()) throw this.circuitOpen(spec.endpoint);
    const started = this.scheduler.now();
    const timeoutSignal = AbortSignal.timeout(spec.timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeoutSignal]) : timeoutSignal;
    let answer: RawAnswer;
    try {
      const query = Object.entries(spec.query ?? {}).filter(([, v]) => v !== undefined);
      const search = query.length ? `?${new URLSearchParams(query.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
      const res = await this.pool.request({
        path: `${this.prefix}${spec.path}${search}`,
        method: spec.method,
        headers: spec.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal,
        headersTimeout: spec.timeoutMs,
        bodyTimeout: spec.timeoutMs,
      });
      answer = { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      const elapsed = this.scheduler.now() - started;
      if (spec.signal?.aborted) {
        this.breaker.neutral();
        this.count(spec.endpoint, 'aborted', elapsed);
        throw spec.signal.reason ?? err;
      }
      const e = err as { name?: string; code?: string; message?: string };
      const timedOut = timeoutSignal.aborted || e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT';
      const kind: TickerErrorKind = timedOut ? 'timeout' : 'network';
      this.breaker.failure();
      this.count(spec.endpoint, kind, elapsed);
      throw new TickerError(kind, `${spec.method} ${spec.path}: ${timedOut ? `no answer within ${spec.timeoutMs} ms` : (e.code ?? e.message ?? 'network error')}`, null, spec.endpoint);
    }
    const elapsed = this.scheduler.now() - started;
    this.count(spec.endpoint, answer.status, elapsed);
    if ((answer.status >= 200 && answer.status < 300) || spec.accept?.includes(answer.status)) {
      this.breaker.success();
      return answer;
    }
    const message = errorText(answer.text);
    const kind = kindOfStatus(answer.status, message);
    if (kind === 'server') this.breaker.failure();
    else this.breaker.neutral();
    if (kind === 'rate_limited') {
      this.rateLimited++;
      if (spec.bucket) {
        const hold = this.options.rateLimitHoldMs?.[spec.bucket] ?? this.limiter.limitOf(spec.bucket).windowMs;
        this.limiter.penalize(spec.bucket, this.scheduler.now() + hold);
      }
    }
    const retryAt = kind === 'rate_limited' && spec.bucket ? this.limiter.heldUntil(spec.bucket) : null;
    throw new TickerError(kind, `${spec.method} ${spec.path} -> ${answer.status}: ${message}`, answer.status, spec.endpoint, retryAt);
  }
}
