// What the operator's Subscriptions screen shows: one row per token the ticker has active or the manager knows
// (queued, failing, owned), with registry names, owners, failure and retry time, and the last tick seen; and the
// capacity per account (3 connections x 3000 instruments; Kite fills connections in order).
// Rows nobody here made (the service's strike rebalancer, other clients) show their account and the owner 'external'.
// A row without an account (null or "": the service's answer to a POST without one) is shown under, and counted
// against, the service's default account.
import type { CapacityView, SubscriptionRow, SubscriptionState } from '../../shared/api';
import type { InstrumentRegistry } from '../registry/registry';
import { accountOf, CONNECTIONS_PER_ACCOUNT, DEFAULT_SERVICE_ACCOUNT, INSTRUMENTS_PER_CONNECTION } from './capacity';
import type { SubscriptionManager } from './manager';
import type { ActiveSnapshot } from './snapshot';

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export async function subscriptionRows(
  manager: SubscriptionManager,
  registry: Pick<InstrumentRegistry, 'byTokens'>,
  opts: { state: SubscriptionState | 'all'; search?: string; limit: number; now: number; lastTickAt?: (token: number) => number | null },
): Promise<SubscriptionRow[]> {
  let snapshot: ActiveSnapshot | null;
  try {
    snapshot = await manager.activeSnapshot();
  } catch {
    snapshot = manager.peekSnapshot();
  }
  const tokens = new Set<number>(snapshot?.tokens ?? []);
  for (const st of manager.store.all()) tokens.add(st.token);
  const instruments = await registry.byTokens(tokens);
  const search = opts.search?.trim().toUpperCase();
  const rows: SubscriptionRow[] = [];
  for (const token of [...tokens].sort((a, b) => a - b)) {
    const state = manager.statusOf(token);
    if (opts.state !== 'all' && state !== opts.state) continue;
    const inst = instruments.get(token);
    const sub = snapshot?.rows.get(token);
    const tradingsymbol = inst?.tradingsymbol ?? sub?.tradingsymbol ?? String(token);
    if (search && !tradingsymbol.toUpperCase().includes(search) && !String(token).includes(search)) continue;
    const st = manager.store.get(token);
    const lastTick = opts.lastTickAt?.(token) ?? null;
    const held = state === 'pending' ? manager.holdReason() : null;
    rows.push({
      token,
      tradingsymbol,
      symbol: inst?.name ?? st?.symbol ?? null,
      segment: inst?.segment ?? sub?.segment ?? '',
      expiry: inst?.expiry ?? null,
      strike: inst && (inst.instrumentType === 'CE' || inst.instrumentType === 'PE') ? inst.strike : null,
      type: inst?.instrumentType ?? null,
      state,
      mode: sub?.requested_mode ?? 'FULL',
      account: sub ? accountOf(sub) : DEFAULT_SERVICE_ACCOUNT,
      owners: [...manager.store.ownersOf(token).keys()].sort(),
      failureReason: held ? `not sent: ${held}` : (st?.failureReason ?? null),
      nextRetryAt: iso(st?.nextRetryAt),
      attempts: st?.attempts ?? 0,
      lastTickAt: iso(lastTick),
      lastTickAgeMs: lastTick === null ? null : Math.max(0, opts.now - lastTick),
      createdAt: sub?.created_at || null,
    });
    if (rows.length >= opts.limit) break;
  }
  return rows;
}

/** Active subscriptions per account as the last snapshot saw them (queued ones are not counted until active). */
export function capacityView(snapshot: ActiveSnapshot | null, defaultAccount = DEFAULT_SERVICE_ACCOUNT): CapacityView {
  const used = new Map<string, number>([[defaultAccount, 0]]);
  for (const row of snapshot?.rows.values() ?? []) used.set(accountOf(row, defaultAccount), (used.get(accountOf(row, defaultAccount)) ?? 0) + 1);
  const limit = INSTRUMENTS_PER_CONNECTION * CONNECTIONS_PER_ACCOUNT;
  return {
    perConnection: INSTRUMENTS_PER_CONNECTION,
    connectionsPerAccount: CONNECTIONS_PER_ACCOUNT,
    accounts: [...used.entries()].sort().map(([account, n]) => ({
      account,
      used: n,
      limit,
      connections: Array.from({ length: CONNECTIONS_PER_ACCOUNT }, (_, index) => ({
        index,
        used: Math.max(0, Math.min(INSTRUMENTS_PER_CONNECTION, n - index * INSTRUMENTS_PER_CONNECTION)),
      })),
    })),
  };
}
