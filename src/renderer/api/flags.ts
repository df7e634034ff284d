import { useChannelMutation, useChannelQuery } from './hooks';

export const useFlags = () => useChannelQuery('flags:list', {});
export const useFlagAudit = (limit = 100) => useChannelQuery('flags:audit', { limit });
export const useSetFlag = () => useChannelMutation('flags:set');
