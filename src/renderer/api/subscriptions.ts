import type { RequestOf } from '../../shared/api';
import { useChannelMutation, useChannelQuery } from './hooks';

export const useSubscriptionList = (request: RequestOf<'subscriptions:list'>) => useChannelQuery('subscriptions:list', request, { keepPrevious: true });
export const useCapacity = () => useChannelQuery('subscriptions:capacity', {});
export const useSubscribe = () => useChannelMutation('subscriptions:subscribe');
export const useUnsubscribe = () => useChannelMutation('subscriptions:unsubscribe');
export const useIntakeEvents = (limit = 200) => useChannelQuery('events:list', { limit });
