// events:list (the intake's events and outcomes, newest first) and settings:get (what an operator needs to point a
// sender at this console: the webhook URL and secret, and where the rest of the data lives).
import type { SettingsView } from '../../shared/api';
import type { Config } from '../config/settings';
import type { EventIntake } from '../events/intake';
import type { HttpServer } from '../http/server';
import { redactUrl } from '../log';
import type { MarketDb } from '../market/db';
import type { Handlers } from './console-api';

export interface SettingsSources {
  intake: EventIntake;
  http: HttpServer;
  config: Pick<Config, 'redisUrl' | 'pollIntervalSeconds' | 'home'>;
  market: Pick<MarketDb, 'backend' | 'query'>;
  tickerUrl: () => string | undefined;
  embeddedTicker: () => boolean;
}

export function eventHandlers(src: SettingsSources): Pick<Handlers, 'events:list' | 'settings:get'> {
  let timescale: Promise<boolean> | null = null;
  const hasTimescale = () =>
    (timescale ??=
      src.market.backend === 'postgres'
        ? src.market
            .query<{ n: number }>("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'")
            .then((rows) => (rows[0]?.n ?? 0) > 0)
            .catch(() => false)
        : Promise.resolve(false));
  return {
    'events:list': (req) => src.intake.list(req.limit),
    'settings:get': async (): Promise<SettingsView> => ({
      webhook: src.intake.webhookInfo(src.http.url),
      intake: { redis: Boolean(src.config.redisUrl), pollIntervalSeconds: src.config.pollIntervalSeconds },
      ticker: { url: redactUrl(src.tickerUrl()) ?? '', embedded: src.embeddedTicker() },
      market: { backend: src.market.backend, timescale: await hasTimescale() },
      dataDir: src.config.home,
    }),
  };
}
