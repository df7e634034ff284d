// metrics:summary, alerts:list and alerts:thresholds: thin handlers over the metrics service.
import type { MetricsService } from '../metrics/service';
import type { Handlers } from './console-api';

export function metricsHandlers(metrics: MetricsService): Pick<Handlers, 'metrics:summary' | 'alerts:list' | 'alerts:thresholds'> {
  return {
    'metrics:summary': (req) => metrics.summary(req.hours),
    'alerts:list': (req) => metrics.listAlerts(req.limit),
    'alerts:thresholds': (req, ctx) => {
      const { reason, ...changes } = req;
      return metrics.setThresholds(changes, ctx.actor, reason);
    },
  };
}
