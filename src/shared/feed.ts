// The live feed as the ticker service publishes it (docs/ticker-contract.md, the live feed and events).
// Messages travel as the exact JSON text the real service PUBLISHes on Redis, on the in-process bus too,
// so there is one parse path whichever transport is in use.

export const CHANNEL_OPTIONS = 'ticker:nifty:options';
export const CHANNEL_UNDERLYING = 'ticker:nifty:underlying';
export const CHANNEL_EVENTS = 'ticker:nifty:events';
export type FeedChannel = typeof CHANNEL_OPTIONS | typeof CHANNEL_UNDERLYING | typeof CHANNEL_EVENTS;

/** A pub/sub transport carrying raw JSON strings: the devticker's in-process bus, or Redis. */
export interface FeedBus {
  publish(channel: FeedChannel, message: string): void;
  /** Returns an unsubscribe function. */
  subscribe(channel: FeedChannel, onMessage: (message: string) => void): () => void;
}

export interface DepthLevel {
  quantity: number;
  price: number;
  orders: number;
}

/** `ticker:nifty:options`: every non-index instrument (options and futures). */
export interface OptionTickMessage {
  symbol: string;
  token: number;
  tradingsymbol: string;
  segment: string;
  exchange: string;
  strike: number;
  expiry: string;
  type: 'CE' | 'PE' | 'FUT';
  lot_size: number;
  tick_size: number;
  price: number;
  /** CUMULATIVE day volume. */
  volume: number;
  oi: number;
  /** decimal: 0.20 = 20% */
  iv: number;
  delta: number;
  gamma: number;
  theta: number;
  vega: number;
  /** epoch seconds */
  ts: number;
  is_mock: boolean;
  depth?: { buy: DepthLevel[]; sell: DepthLevel[] };
  total_buy_quantity?: number;
  total_sell_quantity?: number;
}

/** `ticker:nifty:underlying`, first shape. */
export interface UnderlyingTickA {
  symbol: string;
  instrument_token: number;
  last_price: number;
  volume: number;
  timestamp: number;
  ohlc?: { open: number; high: number; low: number; close: number };
}

/** `ticker:nifty:underlying`, second shape. */
export interface UnderlyingTickB {
  symbol: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  ts: number;
}

export type UnderlyingTickMessage = UnderlyingTickA | UnderlyingTickB;

/** `ticker:nifty:events` (Redis contract). */
export interface RedisSubscriptionEvent {
  event_type: 'subscription_created' | 'subscription_removed';
  instrument_token: number;
  metadata: { tradingsymbol: string; segment: string; requested_mode: string; account_id: string };
  /** epoch seconds */
  timestamp: number;
}

/** A minimal in-process bus. Handlers run synchronously in publish order; a throwing handler does not stop others. */
export class InProcessBus implements FeedBus {
  private readonly handlers = new Map<FeedChannel, Set<(message: string) => void>>();

  publish(channel: FeedChannel, message: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(message);
      } catch {
        // A consumer's bug must not break the producer or other consumers; consumers count their own errors.
      }
    }
  }

  subscribe(channel: FeedChannel, onMessage: (message: string) => void): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(onMessage);
    return () => set.delete(onMessage);
  }
}
