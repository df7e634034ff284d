// The composition root: builds every service from the Config, starts them in dependency order and stops them in
// reverse. No module-level singletons and no context bag: each start step gets exactly what it needs as an argument
// and returns its service; the ConsoleApi channels and the HTTP routes are registered once, at the end, from the
// services built here.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pkg from '../../../package.json';
import type { DevTicker } from '../../devticker';
import type { Clock } from '../../shared/clock';
import { systemClock } from '../../shared/clock';
import type { FeedBus } from '../../shared/feed';
import { ConsoleApi } from '../api/console-api';
import { registerConsoleHandlers } from '../api/handlers';
import { PushHub } from '../api/push';
import type { BackfillService } from '../backfill/service';
import { startBackfill } from '../backfill/start';
import { loadAppCalendar, type HolidayCalendar } from '../calendar';
import { isLoopbackHost } from '../config/load';
import type { Config } from '../config/settings';
import type { EventIntake } from '../events/intake';
import { startEvents } from '../events/start';
import type { FeedMonitor } from '../feed/monitor';
import { startFeed } from '../feed/start';
import { FlagService } from '../flags/flags';
import { registerRoutes } from '../http/routes';
import { HttpServer, type HttpListener } from '../http/server';
import type { TickIngestor } from '../ingest/ingestor';
import { effectiveSourceGreeks, startIngest } from '../ingest/start';
import type { OnStop } from '../lifecycle';
import { redactUrl, scopedLogger, type Logger } from '../log';
import { DataSignals } from '../market/data-signals';
import { openMarketDb, type MarketDb } from '../market/db';
import { enableTimescale, migrateMarket } from '../market/migrate';
import { HealthRegistry } from '../metrics/health';
import type { MetricsService } from '../metrics/service';
import { startMetrics } from '../metrics/start';
import type { Telemetry } from '../metrics/telemetry';
import type { InstrumentRegistry } from '../registry/registry';
import { prepareHome } from '../state/home';
import { StateStore } from '../state/store';
import type { ChainService } from '../chain/service';
import type { SubscriptionManager } from '../subscriptions/manager';
import { startSubscriptions } from '../subscriptions/start';
import type { HttpTickerClient } from '../ticker/client';
import { startTicker } from '../ticker/start';
import { startEmbeddedDevTicker, type EmbeddedDevTicker } from './embedded-devticker';
import { quoteHandlers } from '../api/quotes';
import { QuoteService } from '../quotes/service';
import { localActor } from '../relay/actor';

export const VERSION: string = pkg.version;

export interface AppOptions {
  /** The renderer build served to the headless console. */
  staticDir?: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /**
   * A front process owns config.host:config.port and forwards here (headless relay, relay/front.ts): the HTTP
   * server listens on loopback port 0 and guards as the front's address (url: the front's URL).
   */
  front?: { port: number; url: string };
}

/**
 * The running services, for the process entries (IPC, notifications), tests and benchmarks. Every field is set once
 * start-up succeeded; the three `| undefined` ones are absent by configuration, not by start order.
 */
export interface AppServices {
  config: Config;
  logger: Logger;
  clock: Clock;
  calendar: HolidayCalendar;
  state: StateStore;
  flags: FlagService;
  market: MarketDb;
  push: PushHub;
  health: HealthRegistry;
  api: ConsoleApi;
  http: HttpServer;
  signals: DataSignals;
  metrics: MetricsService;
  /** The metrics service, as every other service sees it. */
  telemetry: Telemetry;
  /** Base URL of the ticker service (the embedded devticker's when TICKER_URL is unset). */
  tickerUrl: string;
  /** The embedded devticker; undefined when TICKER_URL names a ticker service. */
  devticker: DevTicker | undefined;
  /** The tick source (the embedded devticker's in-process bus, or Redis); undefined with TICKER_URL and no REDIS_URL. */
  bus: FeedBus | undefined;
  feedMonitor: FeedMonitor;
  /** The one ticker client: every caller shares its rate budgets. */
  ticker: HttpTickerClient;
  registry: InstrumentRegistry;
  /** Live tick ingestion into bars; undefined without a tick source. */
  ingestor: TickIngestor | undefined;
  subscriptions: SubscriptionManager;
  chains: ChainService;
  backfill: BackfillService;
  intake: EventIntake;
}

export interface RunningApp {
  url: string;
  apiToken: string;
  /** The URL a user opens: carries the API token for the headless UI. */
  consoleUrl: string;
  /** Where the HTTP server itself listens (differs from url behind a front). */
  listenUrl: string;
  /** The HTTP server's routes (method and path pattern): a front forwards these. */
  routes: { method: string; path: string }[];
  /** The contract's one implementation and its pushed events (the relay serves them to the window's process). */
  api: ConsoleApi;
  push: PushHub;
  context: AppServices;
  stop(): Promise<void>;
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<RunningApp> {
  const logger = scopedLogger('app');
  const env = options.env ?? process.env;
  const stops: { name: string; stop: () => Promise<void> | void }[] = [];
  const onStop: OnStop = (name, stop) => void stops.push({ name, stop });
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

    // The one holiday calendar (shipped file + the operator's <home>/holidays.json): a bad file stops start-up here.
    const calendar = loadAppCalendar(config.home);

    const state = new StateStore(join(config.home, 'state.db'));
    state.migrate();
    onStop('state store', () => state.close());
    health.register('state_store', () => ({ status: 'ok', detail: state.path }));

    const flags = new FlagService(state, env);
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

    const signals = new DataSignals();

    // Metrics starts first so every later service reports to it; it reads back from two of them (the feed monitor and
    // the subscription manager's streaming verdict), which exist only later: these two are bound when they start.
    const startedLater: { feedMonitor: FeedMonitor | null; subscriptions: SubscriptionManager | null } = { feedMonitor: null, subscriptions: null };
    const metrics = startMetrics({
      state,
      clock,
      push,
      signals,
      health,
      onStop,
      feed: () => startedLater.feedMonitor?.feedState(),
      streaming: () => startedLater.subscriptions?.streamingView(),
    });
    const telemetry: Telemetry = metrics;

    // The ticker service: TICKER_URL, or the devticker in process.
    let embedded: EmbeddedDevTicker | null = null;
    let tickerUrl: string;
    if (config.tickerUrl) tickerUrl = config.tickerUrl;
    else {
      embedded = await startEmbeddedDevTicker({ config, clock, calendar, health, onStop });
      tickerUrl = embedded.devticker.url;
    }
    const devticker = embedded?.devticker;

    const feed = startFeed({
      config,
      clock,
      calendar,
      telemetry,
      push,
      health,
      onStop,
      embedded: embedded && { bus: embedded.devticker.bus, clockMode: embedded.clockMode },
      subscriptionCount: async () => {
        const manager = startedLater.subscriptions;
        return manager ? (await manager.activeSnapshot()).tokens.size : null;
      },
    });
    startedLater.feedMonitor = feed.monitor;

    const { ticker, registry } = await startTicker({ config, tickerUrl, market, clock, telemetry, health, onStop, devticker });

    // Live ingest and backfill write bars in the same greek units.
    const sourceGreeks = effectiveSourceGreeks({ config, devticker });
    const ingestor = startIngest({
      bus: feed.bus,
      monitor: feed.monitor,
      market,
      clock,
      calendar,
      signals,
      telemetry,
      push,
      health,
      onStop,
      registry,
      acceptMockTicks: config.acceptMockTicks,
      sourceGreeks,
    });

    const subscribing = startSubscriptions({
      config,
      ticker,
      registry,
      state,
      market,
      flags,
      clock,
      signals,
      telemetry,
      push,
      health,
      onStop,
      monitor: feed.monitor,
      hasTickSource: feed.bus !== undefined,
    });
    startedLater.subscriptions = subscribing.manager;

    const backfill = startBackfill({
      config,
      sourceGreeks,
      market,
      state,
      flags,
      clock,
      calendar,
      ticker,
      registry,
      subscriptions: subscribing.manager,
      signals,
      telemetry,
      push,
      health,
      onStop,
    });

    const intake = startEvents({
      config,
      state,
      clock,
      flags,
      telemetry,
      push,
      health,
      onStop,
      subscriptions: subscribing.manager,
      backfill,
      ticker,
      registry,
      env,
    });

    // The edges, each registered in one place: the ConsoleApi channels (IPC and HTTP), then the HTTP routes.
    const api = new ConsoleApi(scopedLogger('api'));
    const http = new HttpServer({
      host: options.front ? '127.0.0.1' : config.host,
      port: options.front ? 0 : config.port,
      publicAddress: options.front ? { host: config.host, ...options.front } : undefined,
      apiToken,
      // Audit names a person: the console's own token is its OS user's, named tokens their operators'.
      apiTokenName: localActor(),
      namedTokens: config.apiTokens,
      loopbackBind: isLoopbackHost(config.host),
      staticDir: options.staticDir,
      logger: scopedLogger('http'),
      version: VERSION,
    });
    registerConsoleHandlers(api, {
      clock,
      flags,
      push,
      health,
      metrics,
      registry,
      subscriptions: subscribing.manager,
      chains: subscribing.chains,
      backfill,
      feedMonitor: feed.monitor,
      settings: {
        intake,
        webhookBaseUrl: () => http.url,
        config,
        market: { backend: market.backend, timescale },
        ticker: { url: tickerUrl, embedded: devticker !== undefined },
      },
    });
    // chain:quote (issue 15): the latest tick per token on the bus, for depth and the nearest future.
    if (feed.bus) api.register(quoteHandlers(new QuoteService({ bus: feed.bus, registry, clock, onStop })));
    registerRoutes(http, { api, push, health, metrics, chains: subscribing.chains, intake, strikesEachSide: config.strikesEachSide, version: VERSION });

    const listener: HttpListener = await http.listen();
    onStop('http', () => listener.close());
    const consoleUrl = `${listener.url}/?token=${encodeURIComponent(apiToken)}`;
    logger.info({ url: listener.url }, 'console listening');
    const context: AppServices = {
      config,
      logger,
      clock,
      calendar,
      state,
      flags,
      market,
      push,
      health,
      api,
      http,
      signals,
      metrics,
      telemetry,
      tickerUrl,
      devticker,
      bus: feed.bus,
      feedMonitor: feed.monitor,
      ticker,
      registry,
      ingestor,
      subscriptions: subscribing.manager,
      chains: subscribing.chains,
      backfill,
      intake,
    };
    const routes = http.listRoutes().map((route) => ({ method: route.method, path: route.path }));
    return { url: listener.url, listenUrl: listener.listenUrl, routes, apiToken, consoleUrl, api, push, context, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
