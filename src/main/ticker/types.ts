// The TickerClient's surface (shared/spec/ticker-service.md). Implemented in ./client.ts over undici;
// consumers (subscriptions, backfill, events) depend on this interface only.

export interface TickerSubscription {
  instrument_token: number;
  tradingsymbol: string;
  segment: string;
  status: 'active' | 'inactive';
  requested_mode: string;
  /** null (or "") for a row created without an account: Strikedesk's own rows at the real service. */
  account_id: string | null;
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
    started_at?: number;
    active_subscriptions?: number;
    accounts?: { account_id: string; instrument_count: number; last_tick_at: number | null }[];
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
   * Estimated ms until the (position+1)-th POST/DELETE from now may be sent within the shared 30/min budget
   * (0 = now). Optional: a client without a limiter omits it.
   */
  mutationEtaMs?(position?: number): number;
  close(): Promise<void>;
}
