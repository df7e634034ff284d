// Generic hooks over the contract. Components use the domain hooks built from these, never the transport.
import { keepPreviousData, useMutation, useQuery, useQueryClient, type UseQueryOptions } from '@tanstack/react-query';
import type { Channel, RequestOf, ResultOf } from '../../shared/api';
import type { ConsoleError } from '../../shared/result';
import { callChannel } from './client';
import { domainOf, queryKey } from './keys';
import { useTransport } from './provider';

type QueryExtras<C extends Channel> = Omit<UseQueryOptions<ResultOf<C>, ConsoleError>, 'queryKey' | 'queryFn'> & {
  /** Keep showing the last answer while a changed request loads (chain range, expiries). */
  keepPrevious?: boolean;
};

export function useChannelQuery<C extends Channel>(channel: C, request: RequestOf<C>, extras: QueryExtras<C> = {}) {
  const transport = useTransport();
  const { keepPrevious, ...options } = extras;
  return useQuery<ResultOf<C>, ConsoleError>({
    queryKey: queryKey(channel, request),
    queryFn: () => callChannel(transport, channel, request),
    ...(keepPrevious ? { placeholderData: keepPreviousData } : {}),
    ...options,
  });
}

/** A write; on success the channel's domain is refetched (main pushes the same, this just makes it immediate). */
export function useChannelMutation<C extends Channel>(channel: C) {
  const transport = useTransport();
  const client = useQueryClient();
  return useMutation<ResultOf<C>, ConsoleError, RequestOf<C>>({
    mutationFn: (request) => callChannel(transport, channel, request),
    onSuccess: () => client.invalidateQueries({ predicate: (q) => typeof q.queryKey[0] === 'string' && domainOf(q.queryKey[0]) === domainOf(channel) }),
  });
}
