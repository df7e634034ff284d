// events:list (the intake's events and outcomes, newest first) and settings:get (what an operator needs to point a
// sender at this console: the webhook URL and secret, and where the rest of the data lives). Plain translation: the
// facts come from the services and the composition root (TimescaleDB is known from enabling it at start-up).
import type { SettingsView } from '../../shared/api';
import type { Config } from '../config/settings';
import type { EventIntake } from '../events/intake';
import { redactUrl } from '../log';
import type { MarketDb } from '../market/db';
import type { Handlers } from './console-api';

export interface SettingsSources {
  intake: Pick<EventIntake, 'list' | 'webhookInfo'>;
  /** The console's HTTP base URL, known once it listens (port 0 picks one); null before. */
  webhookBaseUrl: () => string | null;
  config: Pick<Config, 'redisUrl' | 'pollIntervalSeconds' | 'home'>;
  market: { backend: MarketDb['backend']; timescale: boolean };
  ticker: { url: string; embedded: boolean };
}

export function eventHandlers(src: SettingsSources): Pick<Handlers, 'events:list' | 'settings:get'> {
  return {
    'events:list': (req) => src.intake.list(req.limit),
    'settings:get': (_req, ctx): SettingsView => {
      const webhook = src.intake.webhookInfo(src.webhookBaseUrl());
      return {
        webhook: { ...webhook, secret: isConsoleOwner(ctx.actor) ? webhook.secret : null },
        intake: { redis: Boolean(src.config.redisUrl), pollIntervalSeconds: src.config.pollIntervalSeconds },
        ticker: { url: redactUrl(src.ticker.url) ?? '', embedded: src.ticker.embedded },
        market: { backend: src.market.backend, timescale: src.market.timescale },
        dataDir: src.config.home,
      };
    },
  };
}

/** The OS user who runs the console (the window, or its own API token); named operator tokens are not owners. */
const isConsoleOwner = (actor: string): boolean => actor.startsWith('os:');
