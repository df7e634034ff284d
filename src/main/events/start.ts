// The [events] step of the composition root: the intake over the context's services. The ticker client,
// subscription manager and backfill service are looked up at use, so the intake runs (and says what it could not
// do) while any of them is absent.
import type { AppContext } from '../app/app';
import { eventHandlers } from '../api/events';
import { scopedLogger } from '../log';
import type { BackfillHook, SubscriptionHooks } from './actions';
import { EventIntake } from './intake';
import type { SubscriptionLister } from './poller';

interface Providers {
  ticker?: SubscriptionLister;
  subscriptions?: SubscriptionHooks;
  backfill?: BackfillHook;
}

export function startEvents(context: AppContext, env: NodeJS.ProcessEnv = process.env): EventIntake {
  const providers = context as unknown as Providers;
  const intake = new EventIntake({
    config: context.config,
    state: context.state,
    clock: context.clock,
    flags: context.flags,
    telemetry: context.telemetry,
    push: context.push,
    http: context.http,
    health: context.health,
    subscriptions: () => providers.subscriptions,
    backfill: () => providers.backfill,
    ticker: () => providers.ticker,
    registry: () => context.registry,
    env,
    logger: scopedLogger('events'),
  });
  context.api.register(
    eventHandlers({
      intake,
      http: context.http,
      config: context.config,
      market: context.market,
      tickerUrl: () => context.tickerUrl,
      embeddedTicker: () => Boolean(context.devticker),
    }),
  );
  intake.start();
  context.onStop('event intake', () => intake.stop());
  return intake;
}
