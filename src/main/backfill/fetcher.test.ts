// How history failures are read: an expired contract is a fact about that contract (not retried), a range or
// interval refusal will not change on retry, transient failures are retried with exponential backoff.
import { describe, expect, it } from 'vitest';
import { TickerError, type HistoryRequest, type HistoryResponse, type TickerClient } from '../ticker/types';
import { classify, HistoryFetcher } from './fetcher';

const err = (kind: TickerError['kind'], message: string, status: number | null = 502) => new TickerError(kind, message, status, 'history');

describe('classify', () => {
  it('reads Kite texts behind a 502', () => {
    expect(classify(err('upstream', 'Historical fetch failed: Intraday history for expired contracts is not available'))).toMatchObject({
      reason: 'expired',
      retryable: false,
    });
    expect(classify(err('upstream', 'Historical fetch failed: interval exceeds max limit: 60 days'))).toMatchObject({ reason: 'upstream', retryable: false });
    expect(classify(err('upstream', 'Historical fetch failed: Something went wrong'))).toMatchObject({ reason: 'upstream', retryable: true });
    expect(classify(err('rate_limited', 'Historical fetch failed: Too many requests'))).toMatchObject({ reason: 'rate_limited', retryable: true });
  });

  it('does not retry what a retry cannot fix', () => {
    expect(classify(err('not_found', 'Instrument token not found in registry', 404))).toMatchObject({ reason: 'not_found', retryable: false });
    expect(classify(err('bad_request', "'to_ts' must be greater than 'from_ts'", 400))).toMatchObject({ reason: 'bad_request', retryable: false });
    for (const kind of ['server', 'timeout', 'network', 'circuit_open'] as const) expect(classify(err(kind, kind, null)).retryable).toBe(true);
    expect(classify(new Error('socket hang up'))).toMatchObject({ reason: 'error', retryable: true });
  });
});

/** A scripted client: answers each history call with the next scripted outcome (the devticker tests cover HTTP). */
class ScriptedClient {
  readonly baseUrl = 'scripted';
  calls: HistoryRequest[] = [];
  constructor(private readonly script: (Error | HistoryResponse)[]) {}
  async history(req: HistoryRequest): Promise<HistoryResponse> {
    this.calls.push(req);
    const next = this.script.shift();
    if (!next) throw new Error('script exhausted');
    if (next instanceof Error) throw next;
    return next;
  }
}

const answer: HistoryResponse = {
  instrument_token: 1,
  symbol: 'NIFTY',
  tradingsymbol: 'X',
  segment: 'NFO-OPT',
  interval: 'minute',
  from_ts: '',
  to_ts: '',
  candles: [],
};

describe('HistoryFetcher', () => {
  it('retries transient failures with growing delays, then answers; asks for [from, to) as Kite-inclusive bounds', async () => {
    const client = new ScriptedClient([err('server', 'boom', 500), err('timeout', 'slow', null), answer]);
    const fetcher = new HistoryFetcher(
      () => client as unknown as TickerClient,
      { attempts: 4, baseDelayMs: 20, maxDelayMs: 1000 },
      () => 0,
    );
    const started = Date.now();
    const out = await fetcher.fetch(1, 60_000, 180_000);
    expect(out).toEqual({ ok: true, candles: [], requests: 3 });
    // Delays (jitter 0): 10 ms then 20 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(28);
    expect(client.calls.map((c) => [c.from, c.to, c.interval, c.oi])).toEqual(Array(3).fill([60_000, 179_000, 'minute', true]));
  });

  it('gives up after the attempts, and at once on an expired contract', async () => {
    const flaky = new ScriptedClient([err('server', 'a', 500), err('server', 'b', 500)]);
    expect(await new HistoryFetcher(() => flaky as unknown as TickerClient, { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }).fetch(1, 0, 60_000)).toMatchObject({
      ok: false,
      reason: 'server',
      requests: 2,
      message: 'b',
    });
    const expired = new ScriptedClient([err('upstream', 'Historical fetch failed: Intraday history for expired contracts is not available')]);
    expect(await new HistoryFetcher(() => expired as unknown as TickerClient).fetch(1, 0, 60_000)).toMatchObject({ ok: false, reason: 'expired', requests: 1 });
    expect(await new HistoryFetcher(() => undefined).fetch(1, 0, 60_000)).toMatchObject({ ok: false, reason: 'no_client', requests: 0 });
  });
});
