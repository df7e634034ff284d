// Listens on ticker:nifty:events (docs/ticker-contract.md, events) with its own subscriber connection.
// A lost connection is retried forever with capped, jittered exponential backoff. Pub/sub is best effort: what was
// published while we were away is gone, so after EVERY (re)connect, once the channel is subscribed again, the owner
// runs a reconciliation (the poll diff), which finds what the missed events would have said.
import { Redis } from 'ioredis';
import { CHANNEL_EVENTS } from '../../shared/feed';
import { reconnectDelay } from '../feed/redis-bus';
import type { Logger } from '../log';

export type RedisListenerState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface RedisListenerStatus {
  state: RedisListenerState;
  lastError: string | null;
  /** Successful (re)subscriptions since start. */
  connects: number;
  reconnectAttempts: number;
  readyAt: number | null;
}

export interface RedisEventListenerOptions {
  url: string;
  onMessage: (text: string) => void;
  /** After every (re)connect, once subscribed. */
  onConnected: (connects: number) => void;
  logger?: Logger;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class RedisEventListener {
  private readonly redis: Redis;
  private readonly s: RedisListenerStatus = { state: 'connecting', lastError: null, connects: 0, reconnectAttempts: 0, readyAt: null };
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly opts: RedisEventListenerOptions) {
    const base = opts.baseBackoffMs ?? 200;
    const max = opts.maxBackoffMs ?? 10_000;
    this.redis = new Redis(opts.url, {
      lazyConnect: false,
      maxRetriesPerRequest: null,
      // We subscribe ourselves on every 'ready', so that the reconciliation runs strictly after the subscription.
      autoResubscribe: false,
      retryStrategy: (times: number) => (this.closed ? null : reconnectDelay(times, base, max)),
    });
    this.redis.on('ready', () => void this.subscribe());
    this.redis.on('reconnecting', () => {
      if (this.closed) return;
      this.s.reconnectAttempts++;
      this.s.state = 'reconnecting';
    });
    this.redis.on('close', () => {
      if (!this.closed && this.s.state === 'ready') this.s.state = 'reconnecting';
    });
    this.redis.on('error', (err: Error) => {
      if (this.s.lastError === null) opts.logger?.warn({ err: err.message }, 'redis events connection error; retrying with backoff');
      this.s.lastError = err.message;
    });
    this.redis.on('message', (channel: string, message: string) => {
      if (channel === CHANNEL_EVENTS) opts.onMessage(message);
    });
  }

  private async subscribe(): Promise<void> {
    try {
      await this.redis.subscribe(CHANNEL_EVENTS);
    } catch (err) {
      // The connection dropped again before the subscription; the next 'ready' tries again.
      this.s.lastError = (err as Error).message;
      return;
    }
    if (this.closed) return;
    if (this.s.connects > 0 || this.s.lastError) this.opts.logger?.info({ connects: this.s.connects + 1 }, 'redis events subscribed again; reconciling');
    this.s.state = 'ready';
    this.s.lastError = null;
    this.s.readyAt = Date.now();
    this.s.connects++;
    for (const wake of this.waiters) wake();
    this.opts.onConnected(this.s.connects);
  }

  status(): RedisListenerStatus {
    return { ...this.s };
  }

  /** Resolves once subscribed `connects` times in all (1 = first connect). */
  async subscribed(connects = 1, timeoutMs = 10_000): Promise<void> {
    if (this.s.connects >= connects) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`redis events not subscribed (${connects}) within ${timeoutMs} ms${this.s.lastError ? `: ${this.s.lastError}` : ''}`));
      }, timeoutMs);
      const check = () => {
        if (this.s.connects < connects) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.s.state = 'closed';
    try {
      await Promise.race([this.redis.quit(), new Promise((r) => setTimeout(r, 1000))]);
    } catch {
      // already gone
    }
    this.redis.disconnect();
  }
}
