// The renderer's one connection to main: a Transport, a QueryClient and the push-driven invalidation between them.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { isFinal } from './client';
import { PushInvalidator } from './invalidation';
import type { ConnectionState, Transport } from './transport';

const TransportContext = createContext<Transport | null>(null);

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Pushes keep data fresh; staleness only matters when a screen is re-opened.
        staleTime: 10_000,
        retry: (failures, error) => !isFinal(error) && failures < 1,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function ApiProvider({ transport, client, children }: { transport: Transport; client: QueryClient; children: ReactNode }) {
  useEffect(() => {
    const invalidator = new PushInvalidator(client, transport);
    invalidator.start();
    return () => invalidator.stop();
  }, [client, transport]);
  return (
    <TransportContext.Provider value={transport}>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </TransportContext.Provider>
  );
}

export function useTransport(): Transport {
  const transport = useContext(TransportContext);
  if (!transport) throw new Error('useTransport outside ApiProvider');
  return transport;
}

/** The push stream's state for the header's connection light and the chain's liveness. */
export function useConnectionState(): ConnectionState {
  const transport = useTransport();
  const [state, setState] = useState<ConnectionState>('connecting');
  useEffect(() => transport.onConnection(setState), [transport]);
  return state;
}
