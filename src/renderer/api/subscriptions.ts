import type { RequestOf } from '../../shared/api';
import { callChannel } from './client';
import { useChannelMutation, useChannelQuery } from './hooks';
import { useTransport } from './provider';

export const useSubscriptionList = (request: RequestOf<'subscriptions:list'>) => useChannelQuery('subscriptions:list', request, { keepPrevious: true });
export const useCapacity = () => useChannelQuery('subscriptions:capacity', {});
export const useSubscribe = () => useChannelMutation('subscriptions:subscribe');
export const useUnsubscribe = () => useChannelMutation('subscriptions:unsubscribe');
export const useIntakeEvents = (limit = 200) => useChannelQuery('events:list', { limit });

/**
 * Looks tradingsymbols up in the instrument registry (live contracts, subscribed or not), for the manual subscribe
 * box. Returns the token of each exact match and the symbols it could not find.
 */
export function useResolveTradingsymbols(): (symbols: string[]) => Promise<{ tokens: number[]; unknown: string[] }> {
  const transport = useTransport();
  return async (symbols) => {
    const tokens: number[] = [];
    const unknown: string[] = [];
    for (const symbol of symbols) {
      const rows = await callChannel(transport, 'instruments:search', { text: symbol, limit: 5 });
      const match = rows.find((r) => r.tradingsymbol.toUpperCase() === symbol.toUpperCase());
      if (match) tokens.push(match.token);
      else unknown.push(symbol);
    }
    return { tokens, unknown };
  };
}

/** Suggestions for the subscribe box: live instruments whose tradingsymbol contains the text. */
export const useInstrumentSuggestions = (text: string) =>
  useChannelQuery('instruments:search', { text, limit: 20 }, { enabled: text.trim().length >= 3, staleTime: 30_000 });
