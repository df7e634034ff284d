// subscriptions:list, :capacity, :subscribe, :unsubscribe over the SubscriptionManager. An operator's subscribe is
// a 'manual' owner (never released for idleness) and is not governed by smart_subscription_enabled.
import type { SubscriptionOutcome } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import type { InstrumentRegistry } from '../registry/registry';
import type { SubscriptionManager } from '../subscriptions/manager';
import { subscriptionOutcome } from '../subscriptions/outcome';
import { capacityView, subscriptionRows } from '../subscriptions/views';
import type { Handlers } from './console-api';

export interface SubscriptionHandlerDeps {
  manager: SubscriptionManager;
  registry: InstrumentRegistry;
  clock: Clock;
  lastTickAt?: () => ((token: number) => number | null) | undefined;
  /** How long an operator's unsubscribe waits for its DELETEs (the rest stay queued). */
  unsubscribeWaitMs?: () => number;
}

type Channels = 'subscriptions:list' | 'subscriptions:capacity' | 'subscriptions:subscribe' | 'subscriptions:unsubscribe' | 'instruments:search';

export function subscriptionHandlers(deps: SubscriptionHandlerDeps): Pick<Handlers, Channels> {
  const { manager, registry, clock } = deps;
  return {
    'subscriptions:list': (req) =>
      subscriptionRows(manager, registry, { state: req.state, search: req.search, limit: req.limit, now: clock.now(), lastTickAt: deps.lastTickAt?.() }),
    'instruments:search': async (req) =>
      (await registry.search(req.text, req.limit)).map((i) => ({
        token: i.token,
        tradingsymbol: i.tradingsymbol,
        name: i.name,
        segment: i.segment,
        type: i.instrumentType,
        strike: i.instrumentType === 'CE' || i.instrumentType === 'PE' ? i.strike : null,
        expiry: i.expiry,
      })),
    'subscriptions:capacity': async () => {
      const snapshot = await manager.activeSnapshot().catch(() => manager.peekSnapshot());
      return capacityView(snapshot);
    },
    'subscriptions:subscribe': async (req): Promise<SubscriptionOutcome> => {
      const known = await registry.byTokens(req.tokens);
      const valid = req.tokens.filter((t) => known.get(t)?.isActive);
      const invalid = req.tokens.filter((t) => !known.get(t)?.isActive);
      const r = valid.length ? await manager.ensureSubscribed(valid, { owner: 'manual', auto: false, waitMs: 0 }) : null;
      const refused = invalid.map((token) => ({
        token,
        reason: known.has(token) ? 'contract expired or no longer listed' : 'unknown instrument token',
        retryAt: null,
      }));
      return subscriptionOutcome(r ? [r] : [], refused);
    },
    'subscriptions:unsubscribe': async (req) => {
      const all = manager.unsubscribe(req.tokens);
      const waitMs = deps.unsubscribeWaitMs?.() ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), waitMs);
      });
      const done = await Promise.race([all, timeout]);
      clearTimeout(timer);
      if (done) return done;
      // Still going (30 mutations a minute): report what is done, and what is queued as such.
      return manager.unsubscribeProgress(req.tokens);
    },
  };
}
