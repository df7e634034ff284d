import type { RequestOf } from '../../shared/api';
import { useChannelQuery } from './hooks';

export const useUnderlyings = () => useChannelQuery('chain:underlyings', {}, { staleTime: 60_000 });

/** Refetched on every chain:changed push for this symbol; the previous chain stays on screen while a new range loads. */
export const useDistribution = (request: RequestOf<'chain:distribution'>, enabled = true) =>
  useChannelQuery('chain:distribution', request, { keepPrevious: true, enabled });
