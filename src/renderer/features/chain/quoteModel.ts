// Pure helpers of the depth table and the futures figure (tested without a DOM).
import type { ChainQuote, InstrumentQuote, QuoteDepthLevel } from '../../../shared/api';

/** Futures basis: future LTP minus spot, in points and as a percentage of spot; null when either is unknown. */
export function basisOf(futureLtp: number | null | undefined, spot: number | null | undefined): { points: number; pct: number } | null {
  if (futureLtp == null || spot == null || !Number.isFinite(futureLtp) || !Number.isFinite(spot) || spot <= 0) return null;
  const points = futureLtp - spot;
  return { points, pct: (points / spot) * 100 };
}

export interface DepthRow {
  bid: QuoteDepthLevel | null;
  ask: QuoteDepthLevel | null;
}

/** Five rows, best first, bid and ask side by side as Kite shows them; empty levels are null. */
export function depthRows(depth: InstrumentQuote['depth'], levels = 5): DepthRow[] {
  return Array.from({ length: levels }, (_, i) => ({ bid: depth?.buy[i] ?? null, ask: depth?.sell[i] ?? null }));
}

/** Best ask minus best bid, or null when a side is empty. */
export function spreadOf(depth: InstrumentQuote['depth']): number | null {
  const bid = depth?.buy[0]?.price;
  const ask = depth?.sell[0]?.price;
  return bid === undefined || ask === undefined ? null : Math.round((ask - bid) * 100) / 100;
}

/** What the futures figure says when it has no price. */
export function futureNote(future: ChainQuote['future']): string | null {
  if (!future) return 'no future listed';
  if (future.ltp === null) return future.streaming ? 'no price in its ticks' : 'not streaming: subscribe it to see its price';
  return null;
}
