// One history request per planned chunk through the shared TickerClient (it holds the 3/s budget for every caller
// in the process; this side only bounds how many requests it has in flight). Times go out as the chunk's bounds;
// the client turns them into naive IST wall-clock. Errors are values: retried with exponential backoff when a retry
// can help, an expired contract reported as such (the caller marks that contract only), anything else a failure.
import { backoffDelay } from '../../shared/backoff';
import { workScheduler, type Scheduler } from '../../shared/clock';
import { TickerError, type HistoryCandle, type TickerClient } from '../ticker/types';
import { MINUTE_MS } from './types';

export type FetchFailure =
  'expired' | 'rate_limited' | 'upstream' | 'server' | 'timeout' | 'network' | 'circuit_open' | 'bad_request' | 'not_found' | 'no_client' | 'error';

export type FetchOutcome =
  { ok: true; candles: HistoryCandle[]; requests: number } | { ok: false; reason: FetchFailure; message: string; requests: number; retryable: boolean };

export interface RetryPolicy {
  /** Attempts per chunk (the client already retries transient failures a few times per attempt). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 15_000 };

const EXPIRED_TEXT = /expired/i;

export function classify(err: unknown): { reason: FetchFailure; retryable: boolean; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof TickerError) {
    if (err.kind === 'upstream' && EXPIRED_TEXT.test(message)) return { reason: 'expired', retryable: false, message };
    if (err.kind === 'bad_request' || err.kind === 'not_found') return { reason: err.kind, retryable: false, message };
    // A Kite range or interval refusal will not change on retry; other upstream failures may.
    if (err.kind === 'upstream') return { reason: 'upstream', retryable: !/exceeds max limit|invalid interval/i.test(message), message };
    return { reason: err.kind, retryable: true, message };
  }
  return { reason: 'error', retryable: true, message };
}

export const isAbort = (err: unknown): boolean => (err as { name?: string } | null)?.name === 'AbortError';

export class HistoryFetcher {
  constructor(
    private readonly ticker: () => TickerClient | undefined,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly random: () => number = Math.random,
    private readonly scheduler: Scheduler = workScheduler,
  ) {}

  /**
   * Candles of one instrument for [from, to) (to exclusive: Kite's `to` is inclusive, so the request ends one second
   * before it). An abort (the service stopping) is thrown, not returned: the chunk stays pending for a restart.
   */
  async fetch(token: number, from: number, to: number, signal?: AbortSignal): Promise<FetchOutcome> {
    let requests = 0;
    for (let attempt = 1; ; attempt++) {
      const client = this.ticker();
      if (!client) return { ok: false, reason: 'no_client', message: 'ticker client not running', requests, retryable: true };
      try {
        requests++;
        const answer = await client.history({ token, from, to: Math.max(from + 1000, to - 1000), interval: 'minute', oi: true, signal });
        return { ok: true, candles: answer.candles, requests };
      } catch (err) {
        if (isAbort(err) || signal?.aborted) throw err;
        const c = classify(err);
        if (!c.retryable || attempt >= this.retry.attempts) return { ok: false, ...c, requests };
        // Exponential backoff with jitter (half fixed, half random) so retries of many chunks spread out.
        const delay = backoffDelay({ baseMs: this.retry.baseDelayMs, maxMs: this.retry.maxDelayMs, jitter: 'equal' }, attempt - 1, this.random);
        await this.scheduler.sleep(delay, signal);
      }
    }
  }
}

/** Candle start instant (UTC ms) from Kite's "2025-11-04T09:15:00+05:30"; null when not a whole minute. */
export function candleMinute(candle: HistoryCandle): number | null {
  const t = Date.parse(candle.date);
  if (!Number.isFinite(t) || t % MINUTE_MS !== 0) return null;
  return t;
}
