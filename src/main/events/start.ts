// The [events] step of the composition root: the intake (webhook, Redis events, poll reconciler) over the services
// its actions call, a stop step; the intake registers its own health probes. Its ConsoleApi channels and the webhook
// route are registered with the others (api/handlers.ts, http/routes.ts).
import type { PushTopic } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import type { FlagService } from '../flags/flags';
import type { OnStop } from '../lifecycle';
import { scopedLogger } from '../log';
import type { HealthRegistry } from '../metrics/health';
import type { Telemetry } from '../metrics/telemetry';
import type { StateStore } from '../state/store';
import type { BackfillHook, SubscriptionHooks } from './actions';
import { EventIntake, type EventIntakeOptions } from './intake';
import type { SubscriptionLister } from './poller';

export interface EventsDeps {
  config: EventIntakeOptions['config'];
  state: StateStore;
  clock: Clock;
  flags: Pick<FlagService, 'get'>;
  telemetry: Telemetry;
  push: { publish(topic: PushTopic, key?: string): void };
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
  subscriptions: SubscriptionHooks;
  backfill: BackfillHook;
  ticker: SubscriptionLister;
  registry: { byToken(token: number): Promise<unknown> };
  /** The environment, to say whether a configured webhook secret came from it (settings show the source). */
  env: NodeJS.ProcessEnv;
}

export function startEvents(deps: EventsDeps): EventIntake {
  const { subscriptions, backfill, ticker, registry } = deps;
  const intake = new EventIntake({
    config: deps.config,
    state: deps.state,
    clock: deps.clock,
    flags: deps.flags,
    telemetry: deps.telemetry,
    push: deps.push,
    health: deps.health,
    // The intake takes its collaborators as lookups (its own tests take some away); here all are running.
    subscriptions: () => subscriptions,
    backfill: () => backfill,
    ticker: () => ticker,
    registry: () => registry,
    env: deps.env,
    logger: scopedLogger('events'),
  });
  intake.start();
  deps.onStop('event intake', () => intake.stop());
  return intake;
}
