// metrics:summary and alerts:*: thin handlers over the metrics service. The actor is who is calling (the OS user
// in Electron, the API token's operator name over HTTP): acknowledgements and silences name a person.
import type { MetricsService } from '../metrics/service';
import type { Handlers } from './console-api';

export function metricsHandlers(
  metrics: MetricsService,
): Pick<
  Handlers,
  'metrics:summary' | 'alerts:list' | 'alerts:thresholds' | 'alerts:thresholdAudit' | 'alerts:acknowledge' | 'alerts:silence' | 'alerts:unsilence'
> {
  return {
    'metrics:summary': (req) => metrics.summary(req.hours, req.minutes),
    'alerts:list': (req) => metrics.listAlerts(req.limit),
    'alerts:thresholds': (req, ctx) => {
      const { reason, ...changes } = req;
      return metrics.setThresholds(changes, ctx.actor, reason);
    },
    'alerts:thresholdAudit': (req) => metrics.thresholdAudit(req.limit),
    'alerts:acknowledge': (req, ctx) => metrics.acknowledge(req.id, ctx.actor, req.reason),
    'alerts:silence': (req, ctx) => metrics.silence(req.rule, ctx.actor, req.reason, req.minutes),
    'alerts:unsilence': (req, ctx) => metrics.unsilence(req.rule, ctx.actor),
  };
}
