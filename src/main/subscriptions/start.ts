// The [subscriptions] step of the composition root: the SubscriptionManager over the shared ticker client, the
// ChainService, the chain:* and subscriptions:* channels, GET /fo/strike-distribution, a health probe, a stop step.
// With a tick source, a StreamingWatch judges "accepted but not streaming" from the feed's stream ticks: health says
// it, the metrics alert streaming_stopped fires on it, and the manager holds its POSTs while it lasts.
import type { ComponentHealth } from '../../shared/api';
import { CHANNEL_OPTIONS } from '../../shared/feed';
import { chainHandlers } from '../api/chain';
import { subscriptionHandlers } from '../api/subscriptions';
import type { AppContext } from '../app/app';
import { appCalendar } from '../calendar';
import { scopedLogger } from '../log';
import type { Queryable } from '../market/db';
import { realScheduler } from '../ticker/time';
import { ChainService } from '../chain/service';
import { SubscriptionManager } from './manager';
import { registerStrikeDistributionRoute } from './route';
import { StreamingWatch } from './streaming-watch';

/** Tokens with a stored bar in the last day: evidence of data the in-memory signals have not seen (a restart). */
export function storedDataEvidence(db: Queryable, clock: { now(): number }): (tokens: number[]) => Promise<Set<number>> {
  return async (tokens) => {
    const since = new Date(clock.now() - 86_400_000).toISOString();
    const rows = await db.query<{ token: number }>(
      `SELECT call_token AS token FROM fo_strike_bars WHERE timeframe = 1 AND call_token = ANY($1::int8[]) AND bucket >= $2::timestamptz
       UNION SELECT put_token FROM fo_strike_bars WHERE timeframe = 1 AND put_token = ANY($1::int8[]) AND bucket >= $2::timestamptz
       UNION SELECT token FROM instrument_bars WHERE timeframe = 1 AND token = ANY($1::int8[]) AND bucket >= $2::timestamptz`,
      [tokens, since],
    );
    return new Set(rows.map((r) => Number(r.token)));
  };
}

export function startSubscriptions(context: AppContext): { manager?: SubscriptionManager; chains?: ChainService } {
  const { ticker, registry, config, flags, clock, health } = context;
  const logger = scopedLogger('subscriptions');
  if (!registry) {
    health.register('subscriptions', () => ({ status: 'disabled', detail: 'no instrument registry' }));
    return {};
  }
  const scheduler = realScheduler(clock);
  const calendar = appCalendar(context.config.home);
  const expectingData = (ms: number) => context.feedMonitor?.expectsStreamingAt(ms) ?? calendar.isInSession(ms);

  const monitor = context.bus ? context.feedMonitor : undefined;
  const streaming = monitor
    ? new StreamingWatch({ lastStreamTickAt: () => monitor.lastChannelTickAt(CHANNEL_OPTIONS), sessionOpen: (ms) => monitor.expectsStreamingAt(ms) })
    : undefined;

  let manager: SubscriptionManager | undefined;
  if (ticker) {
    manager = new SubscriptionManager({
      ticker,
      state: context.state,
      flags,
      signals: context.signals,
      scheduler,
      idleMs: () => config.subscriptionIdleMinutes * 60_000,
      telemetry: context.telemetry,
      push: context.push,
      logger,
      evidence: storedDataEvidence(context.market, clock),
      streaming,
    });
    manager.start();
    const m = manager;
    context.onStop('subscription manager', () => m.stop());
    context.api.register(
      subscriptionHandlers({
        manager: m,
        registry,
        clock,
        lastTickAt: () => (context.feedMonitor ? (token: number) => context.feedMonitor?.lastTickAt(token) ?? null : undefined),
        unsubscribeWaitMs: () => flags.get('smart_subscription_wait_timeout') * 1000,
      }),
    );
    health.register('subscriptions', (): ComponentHealth => {
      const snap = m.peekSnapshot();
      const error = m.snapshotError();
      const enabled = flags.get('smart_subscription_enabled');
      const stream = m.streamingView();
      const stopped = stream?.state === 'stopped';
      const detail =
        `${stopped ? `STREAMING STOPPED: ${stream.message}; ` : ''}${snap ? snap.tokens.size : '?'} active, ${m.queuedCount()} queued` +
        `${enabled ? '' : '; smart subscription off (flag)'}${error ? `; subscription list unavailable: ${error}` : ''}` +
        `${stream && !stopped ? `; ${stream.message}` : ''}`;
      return { status: error || stopped ? 'degraded' : 'ok', detail };
    });
  } else {
    health.register('subscriptions', () => ({ status: 'disabled', detail: 'no ticker client' }));
  }

  const chains = new ChainService({
    db: context.market,
    registry,
    manager: () => manager,
    flags,
    scheduler,
    expectingData,
    underlyings: config.underlyings,
    logger,
  });
  context.api.register(chainHandlers(chains));
  registerStrikeDistributionRoute(context.http, chains, config.strikesEachSide);
  return { manager, chains };
}
