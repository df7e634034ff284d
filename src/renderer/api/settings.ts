import { useChannelQuery } from './hooks';

export const useSettings = () => useChannelQuery('settings:get', {});
export const useHealth = () => useChannelQuery('health:get', {});
