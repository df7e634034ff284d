// The [subscriptions] step of the composition root: the SubscriptionManager over the shared ticker client and the
// ChainService, a health probe, a stop step (their ConsoleApi channels and GET /fo/strike-distribution are registered
// with the others, in api/handlers.ts and http/routes.ts). With a tick source, a StreamingWatch judges "accepted but
// not streaming" from the feed's stream ticks: health says it, the metrics alert streaming_stopped fires on it, and
// the manager holds its POSTs while it lasts.
import type { ComponentHealth, PushTopic } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import { CHANNEL_OPTIONS } from '../../shared/feed';
import type { Config } from '../config/settings';
import type { FeedMonitor } from '../feed/monitor';
import type { FlagService } from '../flags/flags';
import type { OnStop } from '../lifecycle';
import { scopedLogger } from '../log';
import type { DataSignals } from '../market/data-signals';
import type { MarketDb, Queryable } from '../market/db';
import type { HealthRegistry } from '../metrics/health';
import type { Telemetry } from '../metrics/telemetry';
import type { InstrumentRegistry } from '../registry/registry';
import type { StateStore } from '../state/store';
import type { HttpTickerClient } from '../ticker/client';
import { realScheduler } from '../../shared/clock';
import { ChainService } from '../chain/service';
import { SubscriptionManager } from './manager';
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

export interface SubscriptionsDeps {
  config: Pick<Config, 'subscriptionIdleMinutes' | 'underlyings'>;
  ticker: HttpTickerClient;
  registry: InstrumentRegistry;
  state: StateStore;
  market: MarketDb;
  flags: Pick<FlagService, 'get'>;
  clock: Clock;
  signals: DataSignals;
  telemetry: Telemetry;
  push: { publish(topic: PushTopic, key?: string): void };
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
  /** The feed monitor: when data is expected, and the stream's last tick. */
  monitor: FeedMonitor;
  /** Whether there is a tick source at all: without one, "not streaming" cannot be judged. */
  hasTickSource: boolean;
}

export interface SubscriptionsSetup {
  manager: SubscriptionManager;
  chains: ChainService;
}

export function startSubscriptions(deps: SubscriptionsDeps): SubscriptionsSetup {
  const { ticker, registry, config, flags, clock, health, monitor } = deps;
  const logger = scopedLogger('subscriptions');
  const scheduler = realScheduler(clock);

  const streaming = deps.hasTickSource
    ? new StreamingWatch({ lastStreamTickAt: () => monitor.lastChannelTickAt(CHANNEL_OPTIONS), sessionOpen: (ms) => monitor.expectsStreamingAt(ms) })
    : undefined;

  const manager = new SubscriptionManager({
    ticker,
    state: deps.state,
    flags,
    signals: deps.signals,
    scheduler,
    idleMs: () => config.subscriptionIdleMinutes * 60_000,
    telemetry: deps.telemetry,
    push: deps.push,
    logger,
    evidence: storedDataEvidence(deps.market, clock),
    streaming,
  });
  manager.start();
  deps.onStop('subscription manager', () => manager.stop());
  health.register('subscriptions', (): ComponentHealth => {
    const snap = manager.peekSnapshot();
    const error = manager.snapshotError();
    const enabled = flags.get('smart_subscription_enabled');
    const stream = manager.streamingView();
    const stopped = stream?.state === 'stopped';
    const detail =
      `${stopped ? `STREAMING STOPPED: ${stream.message}; ` : ''}${snap ? snap.tokens.size : '?'} active, ${manager.queuedCount()} queued` +
      `${enabled ? '' : '; smart subscription off (flag)'}${error ? `; subscription list unavailable: ${error}` : ''}` +
      `${stream && !stopped ? `; ${stream.message}` : ''}`;
    return { status: error || stopped ? 'degraded' : 'ok', detail };
  });

  const chains = new ChainService({
    db: deps.market,
    registry,
    manager: () => manager,
    flags,
    scheduler,
    expectingData: (ms) => monitor.expectsStreamingAt(ms),
    underlyings: config.underlyings,
    logger,
  });
  return { manager, chains };
}
