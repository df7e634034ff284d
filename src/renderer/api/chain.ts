import type { RequestOf } from '../../shared/api';
import { useChannelQuery } from './hooks';

export const useUnderlyings = () => useChannelQuery('chain:underlyings', {}, { staleTime: 60_000 });

/** Refetched on every chain:changed push for this symbol; the previous chain stays on screen while a new range loads. */
export const useDistribution = (request: RequestOf<'chain:distribution'>, enabled = true) =>
  useChannelQuery('chain:distribution', request, { keepPrevious: true, enabled });

/** One strike's OI, LTP and volume over time (the strike detail). Refetched with the chain's pushes. */
export const useStrikeHistory = (request: RequestOf<'chain:strikeHistory'> | null) =>
  useChannelQuery('chain:strikeHistory', request ?? { symbol: '', expiry: '1970-01-01', strike: 1 }, { enabled: request !== null, keepPrevious: true });

/**
 * The latest ticks the console holds for a few tokens (depth) and the nearest future. Ticks change every second
 * and their pushes are per bar, so this one query refreshes on a short timer while it is on screen.
 */
export const useChainQuote = (request: RequestOf<'chain:quote'> | null, refreshMs: number) =>
  useChannelQuery('chain:quote', request ?? { symbol: '' }, {
    enabled: request !== null && request.symbol !== '',
    keepPrevious: true,
    refetchInterval: refreshMs,
  });
