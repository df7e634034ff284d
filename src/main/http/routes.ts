// Everything the console serves over HTTP, registered in this one place: the ConsoleApi and its event stream for the
// headless UI (with /internal/health and /openapi.json), GET /metrics, GET /fo/strike-distribution and the webhook.
// HTTP is a leaf: the services below never import this folder; the composition root hands them in here.
import type { ConsoleApi } from '../api/console-api';
import type { PushHub } from '../api/push';
import type { EventIntake } from '../events/intake';
import type { HealthRegistry } from '../metrics/health';
import type { MetricsService } from '../metrics/service';
import type { ChainService } from '../chain/service';
import { registerConsoleRoutes } from './console-routes';
import { strikeDistributionRoute } from './fo-routes';
import { metricsRoute } from './metrics-route';
import type { HttpServer } from './server';
import { webhookRoute } from './webhook-route';

export interface RoutedServices {
  api: Pick<ConsoleApi, 'call'>;
  push: Pick<PushHub, 'subscribe'>;
  health: Pick<HealthRegistry, 'report'>;
  metrics: Pick<MetricsService, 'exposition'>;
  chains: Pick<ChainService, 'distribution'>;
  intake: Pick<EventIntake, 'auth' | 'accept'>;
  /** Strikes each side of the ATM when /fo/strike-distribution names no strike_range. */
  strikesEachSide: number;
  version: string;
}

export function registerRoutes(http: HttpServer, services: RoutedServices): void {
  registerConsoleRoutes(http, services.api, services.push, services.health, services.version);
  http.addRoute(metricsRoute(services.metrics));
  http.addRoute(strikeDistributionRoute(services.chains, services.strikesEachSide));
  http.addRoute(webhookRoute(services.intake));
}
