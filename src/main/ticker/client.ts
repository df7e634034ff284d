// The TickerClient over undici (one keep-alive Pool per service): every endpoint of docs/ticker-contract.md
// with typed results and typed errors (TickerError), timeouts, a client-side limiter holding the service's budgets
// as the service keys them (POST one budget, DELETE one per token path, 422s not counted), a circuit breaker, and
// every attempt counted by endpoint and outcome (telemetry.tickerRequest). Answers are read with the wire schemas
// of ./wire.ts, which accept what the real service sends (null accounts, microsecond timestamps, extra fields).
//
// Retries (exponential backoff with full jitter) are for idempotent calls: GET /subscriptions, /health, /history and
// DELETE (deleting twice is harmless: an inactive token answers 200, an unknown one 404 = gone). POST /subscriptions
// is an idempotent upsert by contract too, but the client sends it ONCE: every POST costs one of 30 mutations a
// minute and a full stream reload at the service, and the subscription manager owns its retry (per-token backoff
// with a visible next-retry time, nearest-ATM order, the caller's wait budget). Re-sending it there is safe because
// the upsert is idempotent.
import { Pool } from 'undici';
import type { z } from 'zod';
import { toIstNaive } from '../calendar';
import { redactUrl, type Logger } from '../log';
import type { Telemetry } from '../metrics/telemetry';
import { CircuitBreaker, type BreakerOptions, type BreakerView } from './breaker';
import { RateLimiter, type BudgetSharing, type BucketLimit, type BucketView, type SharedLimiterOptions, type TickerBucket } from './limiter';
import { backoffDelay } from '../../shared/backoff';
import { systemScheduler, type Scheduler } from '../../shared/clock';
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
import { errorText, healthSchema, historySchema, subscriptionListSchema, subscriptionSchema } from './wire';

export type TickerEndpoint = 'subscriptions.list' | 'subscriptions.create' | 'subscriptions.delete' | 'history' | 'health' | 'instruments';

export interface TickerClientOptions {
  baseUrl: string;
  scheduler?: Scheduler;
  telemetry?: Telemetry;
  logger?: Logger;
  /**
   * Override budgets (tests, a service configured differently). `mutate` (the old shared POST/DELETE bucket) is
   * still read, as the value for both create and delete, when those are not given.
   */
  limits?: Partial<Record<TickerBucket | 'mutate', BucketLimit>>;
  /** How long a 429 holds its bucket. Default: the bucket's window (the service gives no Retry-After). `mutate` as above. */
  rateLimitHoldMs?: Partial<Record<TickerBucket | 'mutate', number>>;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /**
   * /history timeout (default HISTORY_TIMEOUT_MS = 45 s): the service queues a history call up to 30 s behind its
   * own Kite limiter before sending it, so a slow answer is the queue working, not a failure.
   */
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
  /**
   * Share the budgets with every console on the same store (PostgreSQL: PostgresBudget). Absent: this process's
   * budgets alone (the embedded single-console default).
   */
  sharedBudget?: SharedLimiterOptions;
}

export interface TickerClientStats {
  /** endpoint -> outcome (HTTP status or error kind) -> count */
  calls: Record<string, Record<string, number>>;
  rateLimited: number;
  breaker: BreakerView;
  limiter: BucketView[];
  /** Whether the budgets are shared with other consoles, or kept alone (by choice or after a store failure). */
  budget: BudgetSharing;
}

/** /history waits up to 30 s in the service's Kite queue, then Kite itself answers: 45 s covers both. */
export const HISTORY_TIMEOUT_MS = 45_000;

/** Redirect statuses: a service in production answers 301 to https for any plain-http path but /health and /metrics. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface CallSpec {
  endpoint: TickerEndpoint;
  bucket: TickerBucket | null;
  /** Path key of a keyed bucket (DELETE: the token). */
  bucketKey?: string;
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
  /** Location header of a redirect. */
  location?: string;
}

const PAGE = 1000;

/** The old single `mutate` bucket's setting, read as create and delete unless those are given. */
function withMutateAlias<T>(values: Partial<Record<TickerBucket | 'mutate', T>> = {}): Partial<Record<TickerBucket, T>> {
  const { mutate, ...rest } = values;
  return mutate === undefined ? rest : { create: mutate, delete: mutate, ...rest };
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
  private readonly holdMs: Partial<Record<TickerBucket, number>>;
  private readonly calls: Record<string, Record<string, number>> = {};
  private rateLimited = 0;
  private closed = false;

  constructor(private readonly options: TickerClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`ticker URL must be http(s): ${options.baseUrl}`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.scheduler = options.scheduler ?? systemScheduler;
    this.limiter = new RateLimiter(this.scheduler, withMutateAlias(options.limits), undefined, options.sharedBudget);
    this.holdMs = withMutateAlias(options.rateLimitHoldMs);
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
    return this.parse(healthSchema, answer, 'health');
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
    return this.parse(subscriptionListSchema, answer, 'subscriptions.list');
  }

  /**
   * Every page as one snapshot, sorted by token. The service has no ORDER BY and re-reads all rows for each page, so
   * above 1000 rows a row that changes between two page requests can move: it may appear twice (merged here, the
   * later updated_at wins) or not at all (a caller must not take one missing row for a removal: confirm it on the
   * next poll). A full page that brings no new token ends the walk, so a service that ignores offset cannot loop us.
   */
  async listAllSubscriptions(status?: 'active' | 'inactive', opts: ListCallOptions = {}): Promise<TickerSubscription[]> {
    const byToken = new Map<number, TickerSubscription>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.listSubscriptions({ status, limit: PAGE, offset, ...opts });
      let fresh = 0;
      for (const row of page) {
        const seen = byToken.get(row.instrument_token);
        if (!seen) fresh++;
        if (!seen || row.updated_at >= seen.updated_at) byToken.set(row.instrument_token, row);
      }
      if (page.length < PAGE || fresh === 0) break;
    }
    return [...byToken.values()].sort((a, b) => a.instrument_token - b.instrument_token);
  }

  async subscribe(token: number, opts: { mode?: 'FULL' | 'QUOTE' | 'LTP'; accountId?: string; signal?: AbortSignal } = {}): Promise<TickerSubscription> {
    const answer = await this.call({
      endpoint: 'subscriptions.create',
      bucket: 'create',
      method: 'POST',
      path: '/subscriptions',
      body: { instrument_token: token, requested_mode: opts.mode ?? 'FULL', ...(opts.accountId ? { account_id: opts.accountId } : {}) },
      idempotent: false,
      timeoutMs: this.timeout(),
      signal: opts.signal,
    });
    return this.parse(subscriptionSchema, answer, 'subscriptions.create');
  }

  /** DELETE; null when the service does not know the subscription (404 "Subscription not found": already gone). */
  async unsubscribe(token: number): Promise<TickerSubscription | null> {
    const answer = await this.call({
      endpoint: 'subscriptions.delete',
      // Each token path has its own 30/min at the service: deleting many tokens is not held by one budget.
      bucket: 'delete',
      bucketKey: String(token),
      method: 'DELETE',
      path: `/subscriptions/${encodeURIComponent(String(token))}`,
      idempotent: true,
      timeoutMs: this.timeout(),
      accept: [404],
    });
    if (answer.status === 404 || answer.status === 204 || answer.text.trim() === '') return null;
    return this.parse(subscriptionSchema, answer, 'subscriptions.delete');
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
      timeoutMs: this.options.historyTimeoutMs ?? HISTORY_TIMEOUT_MS,
      signal: request.signal,
    });
    return this.parse(historySchema, answer, 'history');
  }

  /**
   * The devticker's extension GET /instruments (Kite CSV); the real service has no such endpoint (404). The
   * registry reads it only when STRIKEDESK_INSTRUMENTS=ticker says so (see registry/source.ts).
   */
  async instrumentsCsv(signal?: AbortSignal): Promise<string> {
    const answer = await this.call({ endpoint: 'instruments', bucket: null, method: 'GET', path: '/instruments', idempotent: true, timeoutMs: 60_000, signal });
    return answer.text;
  }

  mutationEtaMs(position = 0): number {
    return this.limiter.estimateWaitMs('create', position);
  }

  stats(): TickerClientStats {
    return {
      calls: structuredClone(this.calls),
      rateLimited: this.rateLimited,
      breaker: this.breaker.view(),
      limiter: this.limiter.view(),
      budget: this.limiter.sharing(),
    };
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

  private parse<S extends z.ZodType>(schema: S, answer: RawAnswer, endpoint: TickerEndpoint): z.output<S> {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw new TickerError('server', `${endpoint}: response is not JSON`, answer.status, endpoint);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new TickerError('server', `${endpoint}: unexpected response shape (${parsed.error.issues[0]?.message ?? 'invalid'})`, answer.status, endpoint);
    return parsed.data;
  }

  private count(endpoint: TickerEndpoint, outcome: string | number, durationMs: number): void {
    const byOutcome = (this.calls[endpoint] ??= {});
    byOutcome[String(outcome)] = (byOutcome[String(outcome)] ?? 0) + 1;
    this.options.telemetry?.tickerRequest(endpoint, outcome, durationMs);
  }

  private backoffMs(attempt: number): number {
    const policy = { baseMs: this.options.retryBaseMs ?? 500, maxMs: this.options.retryMaxMs ?? 8_000, jitter: 'full' as const };
    return backoffDelay(policy, attempt, this.options.random);
  }

  private async call(spec: CallSpec): Promise<RawAnswer> {
    const retries = spec.idempotent ? (this.options.retries ?? 3) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(spec);
      } catch (err) {
        const retryable =
          err instanceof TickerError && err.retryable && err.kind !== 'circuit_open' && !(err.kind === 'rate_limited' && spec.waitOutRateLimit === false);
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

  /** A redirect is a configuration problem (plain http to a service that insists on https), said as one. */
  private redirected(spec: CallSpec, answer: RawAnswer & { location?: string }): TickerError {
    const to = answer.location ? ` to ${redactUrl(answer.location)}` : '';
    const https = answer.location?.startsWith('https:')
      ? ': the service wants https; set TICKER_URL to its https address (or reach it through a proxy that sets X-Forwarded-Proto: https)'
      : ': set TICKER_URL to the address the service answers on';
    return new TickerError(
      'bad_request',
      `${spec.method} ${spec.path} -> ${answer.status} redirect${to}; TICKER_URL=${redactUrl(this.baseUrl)} is not the service's address${https}`,
      answer.status,
      spec.endpoint,
    );
  }

  private async attempt(spec: CallSpec): Promise<RawAnswer> {
    if (this.closed) throw new TickerError('network', 'ticker client closed', null, spec.endpoint);
    // Fail fast before spending budget; checked again after the limiter's wait, which may have been long.
    if (this.breaker.state === 'open') throw this.circuitOpen(spec.endpoint);
    let grantedAt: number | null = null;
    if (spec.bucket) {
      const heldUntil = spec.waitOutRateLimit === false ? await this.limiter.heldUntilShared(spec.bucket, spec.bucketKey) : null;
      if (heldUntil !== null)
        throw new TickerError(
          'rate_limited',
          `${spec.method} ${spec.path}: held after a 429 until ${new Date(heldUntil).toISOString()}`,
          null,
          spec.endpoint,
          heldUntil,
        );
      grantedAt = await this.limiter.acquire(spec.bucket, spec.signal, spec.bucketKey);
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
      const location = res.headers.location;
      answer = { status: res.statusCode, text: await res.body.text(), location: Array.isArray(location) ? location[0] : location };
    } catch (err) {
      const elapsed = this.scheduler.now() - started;
      if (spec.signal?.aborted) {
        this.breaker.neutral();
        this.count(spec.endpoint, 'aborted', elapsed);
        throw spec.signal.reason ?? err;
      }
      const e = err as { name?: string; code?: string; message?: string };
      const timedOut =
        timeoutSignal.aborted ||
        e.name === 'TimeoutError' ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT' ||
        e.code === 'UND_ERR_CONNECT_TIMEOUT';
      const kind: TickerErrorKind = timedOut ? 'timeout' : 'network';
      // A slow /history is the service's Kite queue at work, not a sick service: it does not count toward opening
      // the circuit (a dead service still shows as refused connections and failing calls elsewhere).
      if (timedOut && spec.endpoint === 'history') this.breaker.neutral();
      else this.breaker.failure();
      this.count(spec.endpoint, kind, elapsed);
      throw new TickerError(
        kind,
        `${spec.method} ${spec.path}: ${timedOut ? `no answer within ${spec.timeoutMs} ms` : (e.code ?? e.message ?? 'network error')}`,
        null,
        spec.endpoint,
      );
    }
    const elapsed = this.scheduler.now() - started;
    this.count(spec.endpoint, answer.status, elapsed);
    if ((answer.status >= 200 && answer.status < 300) || spec.accept?.includes(answer.status)) {
      this.breaker.success();
      return answer;
    }
    if (REDIRECTS.has(answer.status)) {
      this.breaker.neutral();
      if (spec.bucket && grantedAt !== null) this.limiter.refund(spec.bucket, grantedAt, spec.bucketKey);
      throw this.redirected(spec, answer);
    }
    // 422 is rejected by validation before the service's limiter counts the request: give the grant back.
    if (answer.status === 422 && spec.bucket && grantedAt !== null) this.limiter.refund(spec.bucket, grantedAt, spec.bucketKey);
    const message = errorText(answer.text);
    const kind = kindOfStatus(answer.status, message);
    if (kind === 'server') this.breaker.failure();
    else this.breaker.neutral();
    if (kind === 'rate_limited') {
      this.rateLimited++;
      if (spec.bucket) {
        const hold = this.holdMs[spec.bucket] ?? this.limiter.limitOf(spec.bucket).windowMs;
        this.limiter.penalize(spec.bucket, this.scheduler.now() + hold, spec.bucketKey);
      }
    }
    const retryAt = kind === 'rate_limited' && spec.bucket ? this.limiter.heldUntil(spec.bucket, spec.bucketKey) : null;
    throw new TickerError(kind, `${spec.method} ${spec.path} -> ${answer.status}: ${message}`, answer.status, spec.endpoint, retryAt);
  }
}
