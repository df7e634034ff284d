// The embedded ticker service: with TICKER_URL unset the console runs the devticker in process and uses it as the
// ticker service (its URL, its registry, its in-process tick bus). Only the composition root embeds it; the services
// see a ticker URL, a bus and an instrument source like any other.
import { startDevTicker, type DevTicker } from '../../devticker';
import type { Clock } from '../../shared/clock';
import type { HolidayCalendar } from '../calendar';
import type { Config } from '../config/settings';
import type { OnStop } from '../lifecycle';
import { scopedLogger } from '../log';
import type { HealthRegistry } from '../metrics/health';

export interface EmbeddedDevTicker {
  devticker: DevTicker;
  /** The devticker clock actually used: 'auto' resolves to real in a session, always-open outside one. */
  clockMode: 'real' | 'always-open';
}

export interface EmbeddedDevTickerDeps {
  config: Pick<Config, 'devtickerClock' | 'devtickerPort' | 'devtickerSeed' | 'redisUrl'>;
  clock: Clock;
  calendar: Pick<HolidayCalendar, 'isInSession'>;
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
}

export async function startEmbeddedDevTicker({ config, clock, calendar, health, onStop }: EmbeddedDevTickerDeps): Promise<EmbeddedDevTicker> {
  const logger = scopedLogger('feed');
  const clockMode = config.devtickerClock === 'auto' ? (calendar.isInSession(clock.now()) ? 'real' : 'always-open') : config.devtickerClock;
  let devticker: DevTicker;
  try {
    devticker = await startDevTicker({
      host: '127.0.0.1',
      port: config.devtickerPort,
      seed: config.devtickerSeed,
      clockMode,
      clock,
      redisUrl: config.redisUrl,
      logger: scopedLogger('devticker'),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new Error(
        `the embedded devticker cannot listen on 127.0.0.1:${config.devtickerPort} (${code === 'EADDRINUSE' ? 'port in use' : 'permission denied'}): ` +
          'set STRIKEDESK_DEVTICKER_PORT to a free port (0 = any free port), or TICKER_URL to use a running ticker service',
        { cause: err },
      );
    }
    throw err;
  }
  onStop('devticker', () => devticker.close());
  health.register('devticker', () => ({ status: 'ok', detail: `${devticker.url} (clock ${clockMode}, seed ${config.devtickerSeed})` }));
  logger.info({ url: devticker.url, clock: clockMode }, 'embedded devticker started');
  return { devticker, clockMode };
}
