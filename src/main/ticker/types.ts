// The TickerClient's surface (docs/ticker-contract.md). Implemented in ./client.ts over undici; the wire schemas
// that read these shapes are in ./wire.ts. Consumers (subscriptions, backfill, events) depend on this interface only.

export interface TickerSubscription {
  instrument_token: number;
  tradingsymbol: string;
  segment: string;
  status: 'active' | 'inactive';
  requested_mode: string;
  /**
   * null for every row created without an account (Strikedesk's own POSTs) until the service restarts and assigns
   * accounts round-robin; may also be "" (stored as sent). Treat null and "" alike as "the service's default".
   */
  account_id: string | null;
  /** ISO-8601 with microseconds ("2025-11-04T06:52:22.132000Z"); "" when absent. */
  created_at: string;
  updated_at: string;
}

export interface HistoryCandle {
  /** "2025-11-04T09:15:00+05:30" */
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  /** That minute's traded volume (0 for indices). */
  volume: number;
  oi?: number;
  iv?: number | null;
  delta?: number | null;
  gamma?: number | null;
  theta?: number | null;
  vega?: number | null;
  underlying?: number | null;
}

export interface HistoryResponse {
  instrument_token: number;
  symbol: string;
  tradingsymbol: string;
  segment: string;
  interval: string;
  from_ts: string;
  to_ts: string;
  candles: HistoryCandle[];
}

export interface TickerHealth {
  status: 'ok' | 'degraded' | string;
  environment?: string;
  ticker?: {
    running: boolean;
    /** Epoch seconds; null while idle (the service started with no subscriptions). */
    started_at: number | null;
    active_subscriptions?: number;
    /** [] while idle. `last_tick_at` moves only with live Kite ticks (null in mock mode), and freezes when streaming stops. */
    accounts: { account_id: string; instrument_count: number; last_tick_at: number | null }[];
  };
  dependencies?: Record<string, unknown>;
}

export type HistoryInterval = 'minute' | '3minute' | '5minute' | '10minute' | '15minute' | '30minute' | '60minute' | 'day';

export interface HistoryRequest {
  token: number;
  /** UTC epoch ms; the client converts to naive IST wall-clock as the service requires. */
  from: number;
  to: number;
  interval?: HistoryInterval;
  oi?: boolean;
  continuous?: boolean;
  accountId?: string;
  /** Caller's abort signal (stop a running backfill job after its current request). */
  signal?: AbortSignal;
}

export type TickerErrorKind =
  | 'not_found' // 404
  | 'bad_request' // 400 / 422
  | 'rate_limited' // 429, or a 502 whose Kite text says too many requests
  | 'upstream' // 502 from Kite (range too long, expired contract, ...)
  | 'server' // 5xx
  | 'timeout'
  | 'network'
  | 'circuit_open';

export class TickerError extends Error {
  constructor(
    readonly kind: TickerErrorKind,
    message: string,
    readonly status: number | null,
    readonly endpoint: string,
    /** rate_limited: when the bucket is free again (epoch ms), as the client's limiter holds it. */
    readonly retryAt: number | null = null,
  ) {
    super(message);
    this.name = 'TickerError';
  }
  /**
   * A 301/302/307/308 (kind bad_request, never retried): TICKER_URL names the wrong scheme or host, typically plain
   * http to a production service that redirects to https. The message names TICKER_URL.
   */
  get redirected(): boolean {
    return this.status !== null && this.status >= 300 && this.status < 400;
  }
  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'server' || this.kind === 'timeout' || this.kind === 'network' || this.kind === 'circuit_open';
  }
}

export interface ListCallOptions {
  /**
   * Wait out a rate-limit hold (default true): a bucket held after a 429 is waited for, and a 429 is retried after
   * the hold. An interactive caller says false: it hears "rate limited" at once, with TickerError.retryAt, and
   * reports it rather than wait a whole window for the answer.
   */
  waitOutRateLimit?: boolean;
}

export interface TickerClient {
  readonly baseUrl: string;
  health(): Promise<TickerHealth>;
  /** One page. Order is unspecified by the service. */
  listSubscriptions(opts?: { status?: 'active' | 'inactive'; limit?: number; offset?: number } & ListCallOptions): Promise<TickerSubscription[]>;
  /** Every page, as a snapshot sorted by token. */
  listAllSubscriptions(status?: 'active' | 'inactive', opts?: ListCallOptions): Promise<TickerSubscription[]>;
  subscribe(token: number, opts?: { mode?: 'FULL' | 'QUOTE' | 'LTP'; accountId?: string; signal?: AbortSignal }): Promise<TickerSubscription>;
  unsubscribe(token: number): Promise<TickerSubscription | null>;
  history(request: HistoryRequest): Promise<HistoryResponse>;
  /**
   * Estimated ms until the (position+1)-th POST /subscriptions from now may be sent within the service's one POST
   * budget (30/min; 0 = now). DELETEs do not draw from it (each token path has its own budget). Optional: a client
   * without a limiter omits it.
   */
  mutationEtaMs?(position?: number): number;
  close(): Promise<void>;
}
