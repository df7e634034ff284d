// The feed step of the composition root: where ticks come from, and the feed monitor.
// - REDIS_URL set: ticks are read from Redis (the devticker, when embedded, publishes there too);
//   otherwise the embedded devticker's in-process bus carries them.
// - TICKER_URL set without REDIS_URL: there is no tick source; the feed says so in health as 'disabled'.
import type { ComponentHealth } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import type { FeedBus } from '../../shared/feed';
import type { HolidayCalendar } from '../calendar';
import type { Config } from '../config/settings';
import type { OnStop } from '../lifecycle';
import { redactUrl, scopedLogger } from '../log';
import type { HealthRegistry } from '../metrics/health';
import type { Telemetry } from '../metrics/telemetry';
import { FeedMonitor } from './monitor';
import { RedisFeedBus } from './redis-bus';

export interface FeedDeps {
  config: Pick<Config, 'redisUrl'>;
  clock: Clock;
  calendar: Pick<HolidayCalendar, 'isInSession'>;
  telemetry: Telemetry;
  push: { publish(topic: 'health:changed'): void };
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
  /** The embedded devticker's bus and clock, or null with an external ticker service. */
  embedded: { bus: FeedBus; clockMode: 'real' | 'always-open' } | null;
  /**
   * How many tokens the ticker service streams (the subscription manager's snapshot): the monitor asks it when ticks
   * stop. The manager starts after the feed it watches, so this answers null until it exists.
   */
  subscriptionCount: () => Promise<number | null>;
}

export interface FeedSetup {
  /** The tick source, or undefined when there is none (TICKER_URL set without REDIS_URL). */
  bus: FeedBus | undefined;
  redis: RedisFeedBus | undefined;
  monitor: FeedMonitor;
}

export function startFeed(deps: FeedDeps): FeedSetup {
  const { config, clock, calendar, health, push, telemetry, embedded, onStop } = deps;
  const logger = scopedLogger('feed');

  let bus: FeedBus | undefined;
  let redis: RedisFeedBus | undefined;
  let disabledReason: string | undefined;
  if (config.redisUrl) {
    const r = new RedisFeedBus({ url: config.redisUrl, logger });
    onStop('redis feed', () => r.close());
    redis = r;
    bus = r;
    logger.info({ url: redactUrl(config.redisUrl) }, 'reading ticks from redis');
  } else if (embedded) {
    bus = embedded.bus;
  } else {
    disabledReason = 'TICKER_URL is set but REDIS_URL is not: the ticker service publishes ticks only on Redis, so there is no tick source';
    logger.warn(disabledReason);
  }

  // Expected to stream: during sessions, or always while the embedded devticker runs always-open.
  const alwaysOpen = embedded?.clockMode === 'always-open';
  const monitor = new FeedMonitor({
    clock,
    telemetry,
    expectStreaming: (now) => alwaysOpen || calendar.isInSession(now),
    subscriptionCount: deps.subscriptionCount,
    onChange: (view, previous) => {
      const log = view.state === 'stale' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ state: view.state, previous, reason: view.reason }, 'feed state changed');
      push.publish('health:changed');
    },
  });
  if (bus) {
    monitor.start();
    onStop('feed monitor', () => monitor.stop());
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

  return { bus, redis, monitor };
}
