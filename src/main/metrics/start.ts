// The metrics step of the composition root (it runs first, so every later service reports to the real service):
// the service itself, GET /metrics for Prometheus, the metrics:* and alerts:* channels, a health probe, a stop step.
import type { AppContext } from '../app/app';
import type { RouteDef } from '../http/server';
import { metricsHandlers } from '../api/metrics';
import { scopedLogger } from '../log';
import { MetricsService } from './service';

export function startMetrics(context: AppContext): MetricsService {
  const service = new MetricsService({
    db: context.state.db,
    clock: context.clock,
    logger: scopedLogger('metrics'),
    push: context.push,
    signals: context.signals,
    // The feed step runs later; until it has, the feed's own reports (or 'idle') stand.
    feed: () => context.feedMonitor?.feedState(),
    // The subscriptions step runs later: until it has, nothing is judged.
    streaming: () => context.subscriptions?.streamingView(),
  });
  service.start();
  // Registered first, so stopped after the services that report to it: their last counts reach the history.
  context.onStop('metrics', () => service.stop());
  context.api.register(metricsHandlers(service));
  context.http.addRoute(metricsRoute(service));
  context.health.register('metrics', () => service.health());
  return service;
}

/** GET /metrics: the registry in the text exposition format. */
export function metricsRoute(service: Pick<MetricsService, 'exposition'>): RouteDef {
  return {
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format): success metrics, ticker calls, backfill, queues, feed, alerts, process',
    tag: 'metrics',
    // A local Prometheus scrapes without a token on a loopback bind; otherwise Bearer token as for the API.
    auth: 'loopback-open',
    responses: { 200: 'text/plain; version=0.0.4 exposition', 401: 'token required on a non-loopback bind' },
    handler: async ({ res }) => {
      const { contentType, body } = await service.exposition();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      res.end(body);
      return { raw: true };
    },
  };
}
