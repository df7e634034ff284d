// Query keys come from the contract: [channel, request]. The domain of a channel is what its push topic names,
// so 'backfill:changed' refreshes every backfill:* query and 'chain:changed' (key NIFTY) refreshes NIFTY's chain only.
import type { Channel, PushEvent, RequestOf } from '../../shared/api';

export type QueryKeyOf<C extends Channel> = readonly [C, RequestOf<C>];

export const queryKey = <C extends Channel>(channel: C, request: RequestOf<C>): QueryKeyOf<C> => [channel, request];

export const domainOf = (channel: string): string => channel.slice(0, channel.indexOf(':'));

/** Whether a query (by its key) must be refetched after a pushed event. */
export function isAffectedBy(event: PushEvent, key: readonly unknown[]): boolean {
  const channel = key[0];
  if (typeof channel !== 'string') return false;
  const topicDomain = domainOf(event.topic);
  if (domainOf(channel) !== topicDomain) return false;
  if (topicDomain === 'chain' && event.key) {
    if (channel !== 'chain:distribution' && channel !== 'chain:strikeHistory' && channel !== 'chain:quote') return false;
    const request = key[1] as { symbol?: unknown } | undefined;
    return typeof request?.symbol === 'string' && request.symbol.toUpperCase() === event.key.toUpperCase();
  }
  return true;
}
