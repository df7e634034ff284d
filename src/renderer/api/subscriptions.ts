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
 * Looks tradingsymbols up among the instruments the console knows (every subscription it has seen, any state), for
 * the manual subscribe box. Returns the token of each exact match and the symbols it could not find.
 */
export function useResolveTradingsymbols(): (symbols: string[]) => Promise<{ tokens: number[]; unknown: string[] }> {
  const transport = useTransport();
  return async (symbols) => {
    const tokens: number[] = [];
    const unknown: string[] = [];
    for (const symbol of symbols) {
      const rows = await callChannel(transport, 'subscriptions:list', { state: 'all', search: symbol, limit: 50 });
      const match = rows.find((r) => r.tradingsymbol.toUpperCase() === symbol);
      if (match) tokens.push(match.token);
      else unknown.push(symbol);
    }
    return { tokens, unknown };
  };
}

/** Suggestions for the subscribe box: known instruments whose tradingsymbol contains the text. */
export const useInstrumentSuggestions = (text: string) =>
  useChannelQuery('subscriptions:list', { state: 'all', search: text, limit: 20 }, { enabled: text.length >= 3, staleTime: 30_000 });
