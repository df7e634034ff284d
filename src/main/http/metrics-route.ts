// GET /metrics: the metrics service's registry in the Prometheus text exposition format.
import type { MetricsService } from '../metrics/service';
import type { RouteDef } from './server';

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
