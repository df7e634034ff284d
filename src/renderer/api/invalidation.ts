// Pushed invalidations drive refetches (no polling loops for live data). Under a burst (ticks every second, a busy
// backfill) a refetch already in flight is kept rather than cancelled, and one trailing refetch follows it so the
// screen ends on the newest state.
import type { Query, QueryClient } from '@tanstack/react-query';
import type { PushEvent } from '../../shared/api';
import { isAffectedBy } from './keys';
import type { ConnectionState, Transport } from './transport';

export class PushInvalidator {
  private readonly trailing = new Set<string>();
  private readonly stops: (() => void)[] = [];
  private lastState: ConnectionState = 'connecting';

  constructor(
    private readonly client: QueryClient,
    private readonly transport: Transport,
  ) {}

  start(): void {
    this.stops.push(this.transport.onPush((event) => this.apply(event)));
    this.stops.push(
      this.transport.onConnection((state) => {
        // Back after a gap: pushes were missed, so everything on screen may be old.
        if (state === 'open' && this.lastState !== 'open' && this.lastState !== 'connecting')
          void this.client.invalidateQueries(undefined, { cancelRefetch: false });
        this.lastState = state;
      }),
    );
    this.stops.push(
      this.client.getQueryCache().subscribe((event) => {
        if (event.type !== 'updated' || !this.trailing.has(event.query.queryHash)) return;
        if (event.action.type !== 'success' && event.action.type !== 'error') return;
        this.trailing.delete(event.query.queryHash);
        void this.client.invalidateQueries({ queryKey: event.query.queryKey, exact: true }, { cancelRefetch: false });
      }),
    );
  }

  apply(event: PushEvent): void {
    const predicate = (query: Query) => isAffectedBy(event, query.queryKey);
    for (const query of this.client.getQueryCache().findAll({ predicate })) {
      if (query.state.fetchStatus === 'fetching') this.trailing.add(query.queryHash);
    }
    void this.client.invalidateQueries({ predicate }, { cancelRefetch: false });
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.trailing.clear();
  }
}
