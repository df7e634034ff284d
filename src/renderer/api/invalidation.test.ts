// Pushes drive refetches: the right queries, an in-flight fetch kept and followed by one trailing refetch, and a
// full refresh after the push stream comes back from a gap.
import { QueryClient, QueryObserver } from '@tanstack/query-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushEvent } from '../../shared/api';
import { PushInvalidator } from './invalidation';
import { queryKey } from './keys';
import type { ConnectionState, Transport } from './transport';

function fakeTransport() {
  const push = new Set<(e: PushEvent) => void>();
  const conn = new Set<(s: ConnectionState) => void>();
  const transport: Transport = {
    kind: 'http',
    problem: null,
    call: () => Promise.reject(new Error('not used')),
    onPush: (l) => (push.add(l), () => push.delete(l)),
    onConnection: (l) => (conn.add(l), () => conn.delete(l)),
  };
  return { transport, emit: (e: PushEvent) => push.forEach((l) => l(e)), connection: (s: ConnectionState) => conn.forEach((l) => l(s)) };
}

/** A watched query whose fetches are counted and released by hand. */
function watched(client: QueryClient, key: readonly unknown[]) {
  const state = { fetches: 0, release: [] as (() => void)[] };
  const observer = new QueryObserver(client, {
    queryKey: key,
    queryFn: () =>
      new Promise((done) => {
        state.fetches += 1;
        state.release.push(() => done(state.fetches));
      }),
    staleTime: Infinity,
  });
  const unsubscribe = observer.subscribe(() => undefined);
  return { state, unsubscribe, releaseAll: () => state.release.splice(0).forEach((r) => r()) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const clients: QueryClient[] = [];
afterEach(() => clients.splice(0).forEach((c) => c.clear()));

describe('PushInvalidator', () => {
  it('refetches the queries of the pushed domain and, for chain:changed NIFTY, only NIFTY’s chain', async () => {
    const client = new QueryClient();
    clients.push(client);
    const t = fakeTransport();
    const inv = new PushInvalidator(client, t.transport);
    inv.start();
    const nifty = watched(client, queryKey('chain:distribution', { symbol: 'NIFTY' }));
    const bank = watched(client, queryKey('chain:distribution', { symbol: 'BANKNIFTY' }));
    const jobs = watched(client, queryKey('backfill:jobs', { state: 'all' }));
    await tick();
    [nifty, bank, jobs].forEach((q) => q.releaseAll());
    await tick();
    expect([nifty.state.fetches, bank.state.fetches, jobs.state.fetches]).toEqual([1, 1, 1]);

    t.emit({ topic: 'chain:changed', key: 'NIFTY' });
    await tick();
    expect([nifty.state.fetches, bank.state.fetches, jobs.state.fetches]).toEqual([2, 1, 1]);
    t.emit({ topic: 'backfill:changed' });
    await tick();
    expect([nifty.state.fetches, bank.state.fetches, jobs.state.fetches]).toEqual([2, 1, 2]);
    inv.stop();
  });

  it('keeps a refetch in flight and follows a burst with exactly one trailing refetch', async () => {
    const client = new QueryClient();
    clients.push(client);
    const t = fakeTransport();
    const inv = new PushInvalidator(client, t.transport);
    inv.start();
    const q = watched(client, queryKey('chain:distribution', { symbol: 'NIFTY' }));
    await tick();
    q.releaseAll();
    await tick();
    t.emit({ topic: 'chain:changed', key: 'NIFTY' });
    await tick();
    expect(q.state.fetches).toBe(2);
    // A burst while fetch 2 is slow: not cancelled, not repeated per push.
    for (let i = 0; i < 5; i++) t.emit({ topic: 'chain:changed', key: 'NIFTY' });
    await tick();
    expect(q.state.fetches).toBe(2);
    q.releaseAll();
    await tick();
    await tick();
    expect(q.state.fetches).toBe(3);
    q.releaseAll();
    await tick();
    await tick();
    expect(q.state.fetches).toBe(3);
    inv.stop();
  });

  it('refreshes everything when the push stream reconnects after a gap', async () => {
    const client = new QueryClient();
    clients.push(client);
    const t = fakeTransport();
    const inv = new PushInvalidator(client, t.transport);
    inv.start();
    const flags = watched(client, queryKey('flags:list', {}));
    await tick();
    flags.releaseAll();
    await tick();
    t.connection('open');
    await tick();
    expect(flags.state.fetches).toBe(1);
    t.connection('lost');
    t.connection('open');
    await tick();
    expect(flags.state.fetches).toBe(2);
    inv.stop();
  });
});
