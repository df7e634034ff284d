// Every ConsoleApi channel, registered in this one place from the running services (the composition root calls it
// once): the same handlers answer IPC from the window and POST /api/<channel> over HTTP.
import type { BackfillService } from '../backfill/service';
import type { FeedMonitor } from '../feed/monitor';
import type { FlagService } from '../flags/flags';
import type { HealthRegistry } from '../metrics/health';
import type { MetricsService } from '../metrics/service';
import type { InstrumentRegistry } from '../registry/registry';
import type { ChainService } from '../chain/service';
import type { SubscriptionManager } from '../subscriptions/manager';
import type { Clock } from '../../shared/clock';
import { backfillHandlers } from './backfill';
import { chainHandlers } from './chain';
import type { ConsoleApi } from './console-api';
import { eventHandlers, type SettingsSources } from './events';
import { flagHandlers } from './flags';
import { metricsHandlers } from './metrics';
import type { PushHub } from './push';
import { subscriptionHandlers } from './subscriptions';

export interface ApiServices {
  clock: Clock;
  flags: FlagService;
  push: PushHub;
  health: Pick<HealthRegistry, 'report'>;
  metrics: MetricsService;
  registry: InstrumentRegistry;
  subscriptions: SubscriptionManager;
  chains: ChainService;
  backfill: BackfillService;
  feedMonitor: Pick<FeedMonitor, 'lastTickAt'>;
  /** events:list and settings:get. */
  settings: SettingsSources;
}

export function registerConsoleHandlers(api: Pick<ConsoleApi, 'register'>, s: ApiServices): void {
  api.register({ 'health:get': () => s.health.report() });
  api.register(flagHandlers(s.flags, s.push));
  api.register(metricsHandlers(s.metrics));
  api.register(
    subscriptionHandlers({
      manager: s.subscriptions,
      registry: s.registry,
      clock: s.clock,
      lastTickAt: () => (token) => s.feedMonitor.lastTickAt(token),
      unsubscribeWaitMs: () => s.flags.get('smart_subscription_wait_timeout') * 1000,
    }),
  );
  api.register(chainHandlers(s.chains));
  api.register(backfillHandlers(s.backfill));
  api.register(eventHandlers(s.settings));
}
