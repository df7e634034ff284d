// The metrics step of the composition root (it runs first, so every later service reports to the real service): the
// service itself, a health probe, a stop step. Its ConsoleApi channels and GET /metrics are registered with the other
// channels and routes (api/handlers.ts, http/routes.ts).
import type { Clock } from '../../shared/clock';
import type { OnStop } from '../lifecycle';
import { scopedLogger } from '../log';
import type { DataSignals } from '../market/data-signals';
import type { StateStore } from '../state/store';
import type { HealthRegistry } from './health';
import { MetricsService, type MetricsPush, type MetricsServiceOptions } from './service';

export interface MetricsDeps {
  state: Pick<StateStore, 'db'>;
  clock: Clock;
  push: MetricsPush;
  signals: DataSignals;
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
  /**
   * The feed monitor's state and the streaming verdict. Both services report to metrics, so they start after it:
   * these reads answer undefined until they exist (the feed's own reports stand, nothing is judged).
   */
  feed: NonNullable<MetricsServiceOptions['feed']>;
  streaming: NonNullable<MetricsServiceOptions['streaming']>;
}

export function startMetrics(deps: MetricsDeps): MetricsService {
  const service = new MetricsService({
    db: deps.state.db,
    clock: deps.clock,
    logger: scopedLogger('metrics'),
    push: deps.push,
    signals: deps.signals,
    feed: deps.feed,
    streaming: deps.streaming,
  });
  service.start();
  // Registered first, so stopped after the services that report to it: their last counts reach the history.
  deps.onStop('metrics', () => service.stop());
  deps.health.register('metrics', () => service.health());
  return service;
}
