import { useChannelMutation, useChannelQuery } from './hooks';

export const useMetricsSummary = (hours: number) => useChannelQuery('metrics:summary', { hours }, { keepPrevious: true });
export const useAlerts = () => useChannelQuery('alerts:list', { limit: 100 });
export const useSetThresholds = () => useChannelMutation('alerts:thresholds');
