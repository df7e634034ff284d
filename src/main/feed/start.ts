// The feed step of the composition root: where ticks come from and where the ticker service is.
// - TICKER_URL unset: the devticker runs in process and its URL is the ticker URL.
// - REDIS_URL set: ticks are read from Redis (the devticker, when embedded, publishes there too);
//   otherwise the embedded devticker's in-process bus carries them.
// - TICKER_URL set without REDIS_URL: there is no tick source; the feed says so in health as 'disabled'.
import type { ComponentHealth } from '../../shared/api';
import type { FeedBus } from '../../shared/feed';
import { startDevTicker, type DevTicker } from '../../devticker';
import { appCalendar } from '../calendar';
import type { AppContext } from '../app/app';
import { scopedLogger, redactUrl } from '../log';
import { FeedMonitor } from './monitor';
import { RedisFeedBus } from './redis-bus';

export interface FeedSetup {
  bus?: FeedBus;
  tickerUrl: string;
  devticker?: DevTicker;
  redis?: RedisFeedBus;
  monitor: FeedMonitor;
  /** Set when there is no tick source. */
  disabledReason?: string;
  /** The devticker clock actually used ('real' or 'always-open'), or null with an external ticker. */
  devtickerClock: 'real' | 'always-open' | null;
}

/** The shape the monitor needs from the subscription manager (issue 4); absent until it lands. */
interface SnapshotSource {
  activeSnapshot(): Promise<{ tokens: Set<number> }>;
}

export async function startFeed(context: AppContext): Promise<FeedSetup> {
  const { config, clock, health, push, telemetry } = context;
  const logger = scopedLogger('feed');
  // The app's one calendar (shipped holidays + the operator's <home>/holidays.json); a bad file stops start-up.
  const calendar = appCalendar(config.home);

  let devticker: DevTicker | undefined;
  let devtickerClock: FeedSetup['devtickerClock'] = null;
  let tickerUrl: string;
  if (!config.tickerUrl) {
    devtickerClock = config.devtickerClock === 'auto' ? (calendar.isInSession(clock.now()) ? 'real' : 'always-open') : config.devtickerClock;
    try {
      devticker = await startDevTicker({
        host: '127.0.0.1',
        port: config.devtickerPort,
        seed: config.devtickerSeed,
        clockMode: devtickerClock,
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
    const dt = devticker;
    context.onStop('devticker', () => dt.close());
    health.register('devticker', () => ({ status: 'ok', detail: `${dt.url} (clock ${devtickerClock}, seed ${config.devtickerSeed})` }));
    tickerUrl = dt.url;
    logger.info({ url: dt.url, clock: devtickerClock }, 'embedded devticker started');
  } else {
    tickerUrl = config.tickerUrl;
  }

  let bus: FeedBus | undefined;
  let redis: RedisFeedBus | undefined;
  let disabledReason: string | undefined;
  if (config.redisUrl) {
    redis = new RedisFeedBus({ url: config.redisUrl, logger });
    const r = redis;
    context.onStop('redis feed', () => r.close());
    bus = redis;
    logger.info({ url: redactUrl(config.redisUrl) }, 'reading ticks from redis');
  } else if (devticker) {
    bus = devticker.bus;
  } else {
    disabledReason = 'TICKER_URL is set but REDIS_URL is not: the ticker service publishes ticks only on Redis, so there is no tick source';
    logger.warn(disabledReason);
  }

  // Expected to stream: during sessions, or always while the embedded devticker runs always-open.
  const alwaysOpen = devtickerClock === 'always-open';
  const monitor = new FeedMonitor({
    clock,
    telemetry,
    expectStreaming: (now) => alwaysOpen || calendar.isInSession(now),
    subscriptionCount: async () => {
      const subs = (context as unknown as { subscriptions?: SnapshotSource }).subscriptions;
      if (!subs) return null;
      return (await subs.activeSnapshot()).tokens.size;
    },
    onChange: (view, previous) => {
      const log = view.state === 'stale' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ state: view.state, previous, reason: view.reason }, 'feed state changed');
      push.publish('health:changed');
    },
  });
  if (bus) {
    monitor.start();
    context.onStop('feed monitor', () => monitor.stop());
  }

  health.register('feed', (): ComponentHealth => {
    if (disabledReason) return { status: 'disabled', detail: disabledReason, lastEventAt: null };
    const view = monitor.detail();
    const lastEventAt = view.lastTickAt === null ? null : new Date(view.lastTickAt).toISOString();
    const source = redis ? 'redis' : 'in-process bus';
    if (redis) {
      const s = redis.status();
      if (s.state !== 'ready') {
        return { status: 'degraded', detail: `redis ${s.state}${s.lastError ? `: ${s.lastError}` : ''} (reconnect attempts ${s.reconnects})`, lastEventAt };
      }
    }
    const status = view.state === 'stale' ? 'degraded' : 'ok';
    return { status, detail: `${view.state}: ${view.reason} (${source})`, lastEventAt };
  });

  return { bus, tickerUrl, devticker, redis, monitor, disabledReason, devtickerClock };
}
