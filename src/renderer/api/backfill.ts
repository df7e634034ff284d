import type { RequestOf } from '../../shared/api';
import { useChannelMutation, useChannelQuery } from './hooks';

export const useBackfillJobs = (request: RequestOf<'backfill:jobs'>) => useChannelQuery('backfill:jobs', request, { keepPrevious: true });
export const useBackfillPlan = (request: RequestOf<'backfill:plan'> | null) =>
  useChannelQuery('backfill:plan', request ?? { scope: { kind: 'subscribed' } }, { enabled: request !== null, staleTime: 0, gcTime: 0 });
export const useStartBackfill = () => useChannelMutation('backfill:start');
export const useCancelJob = () => useChannelMutation('backfill:cancel');
export const useRetryJob = () => useChannelMutation('backfill:retry');
export const useCoverage = (request: RequestOf<'backfill:coverage'> | null) =>
  useChannelQuery('backfill:coverage', request ?? { symbol: '', expiry: '1970-01-01' }, { enabled: request !== null, keepPrevious: true });
