// The feed transport over Redis pub/sub (docs/ticker-contract.md, live ticks): a FeedBus whose messages are the
// exact JSON text the ticker service PUBLISHes. One subscriber connection (a subscribed Redis connection can do
// nothing else) and a lazily opened publisher. A lost connection is retried forever with capped, jittered
// exponential backoff and the channels are subscribed again on reconnect; pub/sub is best effort, so what was
// published while we were away is gone (the feed monitor shows the silence, backfill repairs the bars).
import { backoffDelay } from '../../shared/backoff';
import { Redis } from 'ioredis';
import type { FeedBus, FeedChannel } from '../../shared/feed';
import type { Logger } from '../log';

export type RedisBusState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface RedisBusStatus {
  state: RedisBusState;
  /** The last connection error, cleared when the connection is ready again. */
  lastError: string | null;
  /** Reconnect attempts since start. */
  reconnects: number;
  /** When the subscriber last became ready (epoch ms), or null. */
  readyAt: number | null;
  /** Publishes that failed (publisher unavailable). */
  publishErrors: number;
}

export interface RedisFeedBusOptions {
  url: string;
  logger?: Logger;
  /** Upper bound of the reconnect delay (default 10 s). */
  maxBackoffMs?: number;
  /** First reconnect delay (default 200 ms), doubled per attempt. */
  baseBackoffMs?: number;
}

/** Delay before reconnect attempt `attempt` (1-based): exponential, capped, with +-20% jitter so consoles spread out. */
export function reconnectDelay(attempt: number, baseMs = 200, maxMs = 10_000, random: () => number = Math.random): number {
  return Math.max(1, backoffDelay({ baseMs, maxMs, jitter: { spread: 0.2 } }, attempt - 1, random));
}

export class RedisFeedBus implements FeedBus {
  private readonly subscriber: Redis;
  private publisher: Redis | null = null;
  private readonly handlers = new Map<FeedChannel, Set<(message: string) => void>>();
  private state: RedisBusState = 'connecting';
  private lastError: string | null = null;
  private reconnects = 0;
  private readyAt: number | null = null;
  private publishErrors = 0;
  private closed = false;

  constructor(private readonly opts: RedisFeedBusOptions) {
    const base = opts.baseBackoffMs ?? 200;
    const max = opts.maxBackoffMs ?? 10_000;
    this.subscriber = new Redis(opts.url, {
      lazyConnect: false,
      // Commands (SUBSCRIBE) wait in the offline queue while disconnected instead of failing.
      maxRetriesPerRequest: null,
      autoResubscribe: true,
      retryStrategy: (times: number) => (this.closed ? null : reconnectDelay(times, base, max)),
    });
    this.subscriber.on('ready', () => {
      if (this.state !== 'ready' && this.lastError) opts.logger?.info({ reconnects: this.reconnects }, 'redis feed reconnected');
      this.state = 'ready';
      this.lastError = null;
      this.readyAt = Date.now();
      // Channels wanted before the connection was ready are subscribed here (see subscribe()); after a reconnect
      // this also covers any autoResubscribe missed (SUBSCRIBE is idempotent at Redis: no duplicate messages).
      const channels = [...this.handlers.keys()];
      if (channels.length) this.subscriber.subscribe(...channels).catch((err: Error) => (this.lastError = err.message));
    });
    this.subscriber.on('reconnecting', () => {
      if (this.closed) return;
      this.reconnects++;
      this.state = 'reconnecting';
    });
    this.subscriber.on('error', (err: Error) => {
      // Logged once per outage: a retry loop must not flood the log.
      if (this.lastError === null) opts.logger?.warn({ err: err.message }, 'redis feed connection error; retrying with backoff');
      this.lastError = err.message;
    });
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel as FeedChannel, message));
  }

  private dispatch(channel: FeedChannel, message: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(message);
      } catch (err) {
        // A consumer's bug must not stop other consumers; consumers count their own errors.
        this.opts.logger?.error({ err: (err as Error).message, channel }, 'feed consumer threw');
      }
    }
  }

  subscribe(channel: FeedChannel, onMessage: (message: string) => void): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      // Only on a ready connection: a SUBSCRIBE sent during ioredis's ready check (INFO) puts the connection in
      // subscriber mode before INFO is answered, and both are lost. Until ready, the 'ready' handler subscribes.
      if (this.subscriber.status === 'ready') {
        this.subscriber.subscribe(channel).catch((err: Error) => {
          this.lastError = err.message;
        });
      }
    }
    set.add(onMessage);
    return () => {
      const current = this.handlers.get(channel);
      if (!current) return;
      current.delete(onMessage);
      if (current.size === 0) {
        this.handlers.delete(channel);
        if (!this.closed) this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  publish(channel: FeedChannel, message: string): void {
    if (this.closed) return;
    if (!this.publisher) {
      this.publisher = new Redis(this.opts.url, {
        lazyConnect: false,
        enableAutoPipelining: true,
        maxRetriesPerRequest: 1,
        retryStrategy: (times: number) => (this.closed ? null : reconnectDelay(times, this.opts.baseBackoffMs, this.opts.maxBackoffMs)),
      });
      this.publisher.on('error', () => undefined);
    }
    this.publisher.publish(channel, message).catch(() => {
      this.publishErrors++;
    });
  }

  status(): RedisBusStatus {
    return { state: this.state, lastError: this.lastError, reconnects: this.reconnects, readyAt: this.readyAt, publishErrors: this.publishErrors };
  }

  /** Resolves when the subscriber connection is ready and every channel subscribed so far is active. */
  async ready(timeoutMs = 5000): Promise<void> {
    const sub = this.subscriber;
    if (sub.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          sub.off('ready', onReady);
          reject(new Error(`redis not ready within ${timeoutMs} ms${this.lastError ? `: ${this.lastError}` : ''}`));
        }, timeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        sub.once('ready', onReady);
      });
    }
    // A round trip through the same connection: SUBSCRIBEs queued before it have been acknowledged.
    await sub.call('PING');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state = 'closed';
    this.handlers.clear();
    for (const conn of [this.subscriber, this.publisher]) {
      if (!conn) continue;
      try {
        await Promise.race([conn.quit(), new Promise((r) => setTimeout(r, 1000))]);
      } catch {
        // already gone
      }
      conn.disconnect();
    }
  }
}
