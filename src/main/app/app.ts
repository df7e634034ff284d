// The composition root: builds every service from the Config, starts them in dependency order and stops them in
// reverse. No module-level singletons: everything a service needs is passed to it here.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import pkg from '../../../package.json';
import type { Clock } from '../../shared/clock';
import { systemClock } from '../../shared/clock';
import type { FeedBus } from '../../shared/feed';
import { ConsoleApi } from '../api/console-api';
import { flagHandlers } from '../api/flags';
import { PushHub } from '../api/push';
import { isLoopbackHost } from '../config/load';
import type { Config } from '../config/settings';
import { FlagService } from '../flags/flags';
import { registerConsoleRoutes } from '../http/console-routes';
import { HttpServer, type HttpListener } from '../http/server';
import { redactUrl, scopedLogger, type Logger } from '../log';
import { openMarketDb, type MarketDb } from '../market/db';
import { enableTimescale, migrateMarket } from '../market/migrate';
import { prepareHome } from '../state/home';
import { StateStore } from '../state/store';
import { DataSignals } from '../market/data-signals';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import type { MetricsService } from '../metrics/service';
import { startQuotes } from '../quotes/start';
import { startMetrics } from '../metrics/start';
import { HealthRegistry } from './health';
import type { DevTicker } from '../../devticker';
import type { FeedMonitor } from '../feed/monitor';
import { startFeed } from '../feed/start';
import { startEvents } from '../events/start';
import type { TickIngestor } from '../ingest/ingestor';
import { startIngest } from '../ingest/start';
import type { HttpTickerClient } from '../ticker/client';
import type { InstrumentRegistry } from '../registry/registry';
import { startTicker } from '../ticker/start';
import type { SubscriptionManager } from '../subscriptions/manager';
import { startSubscriptions } from '../subscriptions/start';
import type { BackfillService } from '../backfill/service';
import { startBackfill } from '../backfill/start';

export const VERSION: string = pkg.version;

export interface AppOptions {
  /** The renderer build served to the headless console. */
  staticDir?: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Who acts in Electron (the OS user); over HTTP the actor is the API client. */
  localActor?: string;
}

/** What the services of the later issues receive: built so far, in start order. */
export interface AppContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  state: StateStore;
  flags: FlagService;
  market: MarketDb;
  push: PushHub;
  health: HealthRegistry;
  api: ConsoleApi;
  http: HttpServer;
  /** The feed transport (in-process bus of the embedded devticker, or Redis). Set by the feed step. */
  bus?: FeedBus;
  /** Base URL of the ticker service (the embedded devticker's when TICKER_URL is unset). */
  tickerUrl?: string;
  /** Feed staleness: last tick per token and per feed (issue 7). */
  feedMonitor?: FeedMonitor;
  /** The embedded devticker, when TICKER_URL is unset. */
  devticker?: DevTicker;
  /** Live tick ingestion into bars (issue 7); undefined without a tick source. */
  ingestor?: TickIngestor;
  /** The metrics service (issue 9): history, alerts, Prometheus registry; also context.telemetry. */ metrics?: MetricsService;
  /** The one ticker client: every caller shares its rate budgets (issue 4). */ ticker?: HttpTickerClient;
  /** Instrument registry in the market store (issue 4). */ registry?: InstrumentRegistry;
  /** Smart on-demand subscription (issue 4). */ subscriptions?: SubscriptionManager;
  /** Backfill planner, durable job queue and scheduler (issue 5); the events service calls enqueueImmediate. */ backfill?: BackfillService;
  telemetry: Telemetry;
  /** First-data evidence from the writers (ingest, backfill). */
  signals: DataSignals;
  /** Registers a stop step, run in reverse order at shutdown. */
  onStop(name: string, stop: () => Promise<void> | void): void;
}

export interface RunningApp {
  url: string;
  apiToken: string;
  /** The URL a user opens: carries the API token for the headless UI. */
  consoleUrl: string;
  context: AppContext;
  stop(): Promise<void>;
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<RunningApp> {
  const logger = scopedLogger('app');
  const stops: { name: string; stop: () => Promise<void> | void }[] = [];
  const onStop = (name: string, stop: () => Promise<void> | void) => stops.push({ name, stop });
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    for (const step of stops.reverse()) {
      try {
        await step.stop();
        logger.debug({ service: step.name }, 'stopped');
      } catch (err) {
        logger.error({ err, service: step.name }, 'stop failed');
      }
    }
  };

  try {
    const apiToken = config.apiToken ?? randomBytes(24).toString('base64url');
    const clock = options.clock ?? systemClock;
    const push = new PushHub();
    onStop('push', () => push.stop());
    const health = new HealthRegistry(VERSION);

    // Private files and one console per home, before any store opens.
    const home = prepareHome(config.home);
    onStop('home lock', () => home.lock.release());
    for (const warning of home.warnings) logger.warn({ home: config.home }, warning);

    const state = new StateStore(join(config.home, 'state.db'));
    state.migrate();
    onStop('state store', () => state.close());
    health.register('state_store', () => ({ status: 'ok', detail: state.path }));

    const flags = new FlagService(state, options.env ?? process.env);
    flags.onChange(() => push.publish('flags:changed'));

    logger.info({ backend: config.databaseUrl ? 'postgres' : 'pglite', url: redactUrl(config.databaseUrl) }, 'opening market store');
    const market = await openMarketDb({
      databaseUrl: config.databaseUrl,
      pgliteDir: config.databaseUrl ? undefined : join(config.home, 'market'),
      onIdleError: (err) => logger.warn({ err: err.message }, 'market store: an idle connection failed; the pool replaces it'),
    });
    onStop('market store', () => market.close());
    await migrateMarket(market);
    const timescale = await enableTimescale(market);
    health.register('market_store', () => ({ status: 'ok', detail: `${market.backend}${timescale ? ' + timescaledb' : ''}` }));

    const api = new ConsoleApi(scopedLogger('api'));
    api.register(flagHandlers(flags, push));
    api.register({ 'health:get': () => health.report() });

    const http = new HttpServer({
      host: config.host,
      port: config.port,
      apiToken,
      // Audit names a person: the console's own token is its OS user's, named tokens their operators'.
      apiTokenName: options.localActor ?? defaultLocalActor(),
      namedTokens: config.apiTokens,
      loopbackBind: isLoopbackHost(config.host),
      staticDir: options.staticDir,
      logger: scopedLogger('http'),
      version: VERSION,
    });
    registerConsoleRoutes(http, api, push, health, VERSION);

    const signals = new DataSignals();
    const context: AppContext = { config, logger, clock, state, flags, market, push, health, api, http, telemetry: noopTelemetry, signals, onStop };

    // ---- services of the later issues are composed here, in dependency order. Each block owns its lines. ----
    // [metrics] (issue 9): replaces context.telemetry with the real service, registers /metrics and metrics:*, alerts:*
    context.metrics = startMetrics(context);
    context.telemetry = context.metrics;
    // [feed] (issues 3, 7): embedded devticker when TICKER_URL is unset; bus = in-process or Redis; context.tickerUrl
    {
      const feed = await startFeed(context);
      context.tickerUrl = feed.tickerUrl;
      context.bus = feed.bus;
      context.devticker = feed.devticker;
      context.feedMonitor = feed.monitor;
    }
    // [ticker] (issue 4): TickerClient, instrument registry loader
    {
      const setup = await startTicker(context);
      context.ticker = setup.ticker;
      context.registry = setup.registry;
    }
    // [ingest] (issue 7): tick consumer -> bars, DataSignals.stored, staleness
    context.ingestor = startIngest(context);
    // [subscriptions] (issue 4): SubscriptionManager, /fo/strike-distribution, chain:*, subscriptions:*
    context.subscriptions = startSubscriptions(context).manager;
    // [quotes] (issue 15): latest tick per token on the bus, chain:quote (depth, nearest future)
    startQuotes(context);
    // [backfill] (issue 5): job queue, scheduler, backfill:*
    context.backfill = startBackfill(context);
    // [events] (issue 6): webhook, Redis events, poll reconciler, events:list, settings:get
    startEvents(context, options.env ?? process.env);

    const listener: HttpListener = await http.listen();
    onStop('http', () => listener.close());
    const consoleUrl = `${listener.url}/?token=${encodeURIComponent(apiToken)}`;
    logger.info({ url: listener.url }, 'console listening');
    return { url: listener.url, apiToken, consoleUrl, context, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export const defaultLocalActor = (): string => {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return 'os:unknown';
  }
};
