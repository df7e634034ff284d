import { useChannelMutation, useChannelQuery } from './hooks';

/** The metrics window in minutes: under an hour it is asked in minutes (15-second or 30-second buckets). */
export const useMetricsSummary = (minutes: number) =>
  useChannelQuery('metrics:summary', minutes < 60 ? { minutes } : { hours: minutes / 60 }, { keepPrevious: true });
export const useAlerts = () => useChannelQuery('alerts:list', { limit: 100 });
export const useSetThresholds = () => useChannelMutation('alerts:thresholds');
export const useThresholdAudit = () => useChannelQuery('alerts:thresholdAudit', { limit: 50 });
export const useAcknowledgeAlert = () => useChannelMutation('alerts:acknowledge');
export const useSilenceRule = () => useChannelMutation('alerts:silence');
export const useUnsilenceRule = () => useChannelMutation('alerts:unsilence');
