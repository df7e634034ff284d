// The latest tick per instrument, as the console received it: what the strike detail's market depth and the
// header strip's future read. Ingest cuts depth before parsing (it is most of a tick's bytes and no bar uses it), so
// this book keeps the raw text of each token's latest options-channel message and parses it only when asked.
// Hot path: one bounded regex for the token and a Map set per message.
import type { ChainQuote, InstrumentQuote, QuoteDepthLevel } from '../../shared/api';
import type { DepthLevel, FeedBus, OptionTickMessage } from '../../shared/feed';
import { CHANNEL_OPTIONS } from '../../shared/feed';
import { tickTime } from '../ingest/parse';

const TOKEN = /"token":\s*(\d+)/;
/** A runaway subscription list must not grow memory without bound. */
export const MAX_TOKENS = 20_000;
const LEVELS = 5;

export interface HeldTick {
  text: string;
  receivedAt: number;
}

/** Python's NaN/Infinity as null, so JSON.parse reads the service's text (docs/ticker-contract.md, encoding). */
const jsonOf = (text: string): unknown => JSON.parse(text.replace(/(?<=[:\s[,])-?(NaN|Infinity)(?=\s*[,}\]])/g, 'null'));

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Depth levels, best first, at most five a side, invalid levels dropped. The real service's live ticks carry depth
 * prices 100 times too small (mock ticks are right), and no flag says which a tick is: the best level is compared
 * with the tick's own price, and rescaled when price/100 is nearer than price itself.
 */
export function readDepth(depth: OptionTickMessage['depth'] | undefined, ltp: number | null): { depth: InstrumentQuote['depth']; rescaled: boolean } {
  if (!depth || typeof depth !== 'object') return { depth: null, rescaled: false };
  const side = (levels: unknown): QuoteDepthLevel[] =>
    (Array.isArray(levels) ? (levels as DepthLevel[]) : [])
      .filter((l) => l && finite(l.price) && l.price > 0 && finite(l.quantity) && l.quantity > 0)
      .slice(0, LEVELS)
      .map((l) => ({ price: l.price, quantity: l.quantity, orders: finite(l.orders) ? l.orders : 0 }));
  const buy = side(depth.buy);
  const sell = side(depth.sell);
  if (buy.length === 0 && sell.length === 0) return { depth: null, rescaled: false };
  const probe = buy[0]?.price ?? sell[0]?.price;
  const rescaled = ltp !== null && ltp > 0 && probe !== undefined && Math.abs(probe * 100 - ltp) < Math.abs(probe - ltp);
  if (!rescaled) return { depth: { buy, sell }, rescaled };
  // Two decimals: tick sizes are 0.05; the division left float noise.
  const up = (l: QuoteDepthLevel) => ({ ...l, price: Math.round(l.price * 100 * 100) / 100 });
  return { depth: { buy: buy.map(up), sell: sell.map(up) }, rescaled };
}

export function quoteOf(token: number, held: HeldTick | undefined): InstrumentQuote {
  const empty: InstrumentQuote = {
    token,
    tradingsymbol: null,
    ltp: null,
    at: null,
    depth: null,
    depthRescaled: false,
    totalBuyQuantity: null,
    totalSellQuantity: null,
  };
  if (!held) return empty;
  let m: Partial<OptionTickMessage>;
  try {
    m = jsonOf(held.text) as Partial<OptionTickMessage>;
  } catch {
    return empty;
  }
  const ltp = finite(m.price) && m.price > 0 ? m.price : null;
  // The tick time by the ingest's one rule (docs/ticker-contract.md, quirk 2): epoch seconds, milliseconds
  // recognised; missing, unreadable or more than 5 s ahead of the console's clock: when the console received it.
  const tsMs = tickTime(m.ts, held.receivedAt).ms;
  const { depth, rescaled } = readDepth(m.depth, ltp);
  return {
    token,
    tradingsymbol: typeof m.tradingsymbol === 'string' ? m.tradingsymbol : null,
    ltp,
    at: new Date(tsMs).toISOString(),
    depth,
    depthRescaled: rescaled,
    totalBuyQuantity: finite(m.total_buy_quantity) ? m.total_buy_quantity : null,
    totalSellQuantity: finite(m.total_sell_quantity) ? m.total_sell_quantity : null,
  };
}

export class TickBook {
  private readonly latest = new Map<number, HeldTick>();
  private off: (() => void) | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  attach(bus: FeedBus): void {
    this.off = bus.subscribe(CHANNEL_OPTIONS, (message) => this.hold(message));
  }

  detach(): void {
    this.off?.();
    this.off = null;
  }

  hold(message: string): void {
    const match = TOKEN.exec(message.length > 400 ? message.slice(0, 400) : message);
    if (!match) return;
    const token = Number(match[1]);
    if (!this.latest.has(token) && this.latest.size >= MAX_TOKENS) return;
    this.latest.set(token, { text: message, receivedAt: this.now() });
  }

  quote(token: number): InstrumentQuote {
    return quoteOf(token, this.latest.get(token));
  }

  has(token: number): boolean {
    return this.latest.has(token);
  }

  get size(): number {
    return this.latest.size;
  }
}

export interface FutureListing {
  token: number;
  tradingsymbol: string;
  expiry: string | null;
}

/** The nearest future on or after today (IST date), with its latest tick. */
export function nearestFuture(book: TickBook, futures: readonly FutureListing[], todayIst: string): ChainQuote['future'] {
  const listed = futures
    .filter((f): f is FutureListing & { expiry: string } => f.expiry !== null && f.expiry >= todayIst)
    .sort((a, b) => a.expiry.localeCompare(b.expiry));
  const near = listed[0];
  if (!near) return null;
  const q = book.quote(near.token);
  return { ...q, tradingsymbol: q.tradingsymbol ?? near.tradingsymbol, expiry: near.expiry, streaming: book.has(near.token) };
}
