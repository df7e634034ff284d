// The devticker: a faithful simulator of the ticker service (docs/ticker-contract.md), standalone
// (`npm run devticker`) or embedded (the console's default when TICKER_URL is unset).
// Profile 'production' (the default) is the real service as it behaves today, quirks and all; 'ideal' is the kind
// simulator of earlier releases (every quirk off, /instruments served, the first 9000 rows of an account stream).
//
//   const dt = await startDevTicker({ port: 0, clock: new ManualClock(t0), autoTick: false });
//   dt.sim.subscribe([token]);           // bypasses HTTP rate limits and the reload gap
//   clock.advance(1000); dt.sim.tick();  // publish the ticks due now, deterministically
//   await dt.close();
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HolidayCalendar, type Weekday } from '../shared/calendar';
import { loadHolidayCalendar } from './holidays';
import { type Clock, systemClock } from '../shared/clock';
import { type FeedBus, InProcessBus } from '../shared/feed';
import { DevTickerCore, type Logger, type ReloadMode } from './core';
import { RegistryExporter } from './export';
import { DevTickerHttp, simState } from './http';
import type { Registry } from './registry';
import { type Profile, type SimCounters, type SimFaults, emptyCounters, faultsPatchSchema, profileFaults } from './sim';
import type { UnderlyingShape } from './stream';
import type { SubscriptionRow } from './subscriptions';

export type { Instrument, Registry, UnderlyingSpec } from './registry';
export { KITE_CSV_HEADER, UNDERLYINGS } from './registry';
export type { SimCounters, SimFaults, HistoryCall } from './sim';
export { DEFAULT_FAULTS, IDEAL_FAULTS, PRODUCTION_FAULTS, profileFaults } from './sim';
export type { Profile } from './sim';
export type { ReloadMode } from './core';
export { REBALANCER_ACCOUNT } from './core';
export { createTableSql, writeInstrumentTable, writeKiteCsv } from './export';
export { pyFloat, inServiceWindow } from './stream';
export type { SubscriptionRow } from './subscriptions';
export { signWebhook, INSTRUMENTS_PER_CONNECTION, CONNECTIONS_PER_ACCOUNT } from './core';
export type { Logger } from './core';

export interface DevTickerOptions {
  /** 'production' (default): the real service's behaviour, see docs/ticker-contract.md; 'ideal': no quirks */
  profile?: Profile;
  /** default 127.0.0.1 */
  host?: string;
  /** default 8080; 0 = ephemeral (tests) */
  port?: number;
  /** default 42 */
  seed?: number;
  /** default the system clock */
  clock?: Clock;
  /**
   * 'real': ticks only during NSE sessions; 'always-open': ticks at any time (is_mock=true outside sessions);
   * 'fast': market time runs `speed` times faster from the current (or next) session and skips closed hours.
   */
  clockMode?: 'real' | 'always-open' | 'fast';
  /** fast-forward factor for 'fast' mode (default 60) */
  speed?: number;
  /** in-process bus to publish ticks on (created if absent) */
  bus?: FeedBus;
  /** if set ALSO publish on Redis channels */
  redisUrl?: string;
  /** loop period, default 1000 ms (each instrument still ticks at most once per second) */
  tickIntervalMs?: number;
  /**
   * default 'full' (1 s debounce, >= 5 s between reloads, a gap for every stream); 'incremental' (no gap);
   * 'broken' (the current service revision: the first reload stops all streaming for good, a service started with
   * no rows never streams; only a restart streams again).
   */
  reload?: ReloadMode;
  /** older name of `reload` */
  reloadMode?: ReloadMode;
  /** gap of a full reload, default 2500 ms */
  reloadGapMs?: number;
  /** POST the plan's webhook body for subscription events, signed with webhookSecret */
  webhookUrl?: string;
  webhookSecret?: string;
  /** publish subscription events on ticker:nifty:events (off by default, as in the real service) */
  publishRedisEvents?: boolean;
  /** default ['primary'] */
  accounts?: string[];
  /** /health `environment` (default 'dev'); 'production' or 'staging' answer 301 to https except /health and /metrics */
  environment?: string;
  /** serve GET /instruments (the devticker's extension); default: true in 'ideal', false in 'production' */
  instrumentsRoute?: boolean;
  /** write the registry as a Kite-format CSV file (rewritten on each new IST date) */
  instrumentsCsvPath?: string;
  /** postgres:// URL: write the registry into the table instrument_registry (created if missing) */
  instrumentDbUrl?: string;
  /** type of `expiry` if the table is created: 'text' (the real service) or 'date' */
  instrumentDbExpiryType?: 'text' | 'date';
  /** keep subscription rows in this JSON file across restarts (a restart streams every active row) */
  stateFile?: string;
  /** the service's strike rebalancer: rows of account primary at ATM+-10, three expiries, NIFTY/BANKNIFTY/FINNIFTY */
  rebalancer?: boolean;
  /** extra Host header values (host:port) accepted besides the bound address, localhost, 127.0.0.1 and [::1] */
  allowedHosts?: string[];
  /**
   * /_sim/ control endpoint: 'token' (default; every request needs header X-Sim-Token: <simToken>) or 'off' (404).
   */
  simEndpoint?: 'token' | 'off';
  /** the /_sim/ token (default: $DEVTICKER_SIM_TOKEN, else random per run) */
  simToken?: string;
  /** holiday list (YYYY-MM-DD) overriding resources/calendar/nse-holidays.json */
  holidays?: string[];
  /** explicit path of the holiday file */
  holidaysFile?: string;
  /** which underlying shape to publish: 'A' (last_price...), 'B' (open/high/low/close), default 'alternate' by second */
  underlyingShape?: UnderlyingShape;
  /** expiry weekday (0 = Sunday .. 6 = Saturday), default 2 (Tuesday) */
  expiryWeekday?: Weekday;
  /** strikes each side of the centre strike per live expiry (default 60; 200 gives > 9000 options for capacity tests) */
  strikesPerSide?: number;
  /** NIFTY weekly expiries listed (default 4) */
  weeklyExpiries?: number;
  /** monthly expiries listed per underlying (default 3) */
  monthlyExpiries?: number;
  /** every instrument trades every second, far strikes too (load tests); default false */
  denseTicks?: boolean;
  /** initial fault switches */
  faults?: Partial<SimFaults>;
  /** run the tick loop on timers (default true); tests with a ManualClock set false and call sim.tick() */
  autoTick?: boolean;
  logger?: Logger;
}

export interface SimState {
  now: string;
  clock_mode: string;
  in_session: boolean;
  registry_date: string;
  live_instruments: number;
  faults: SimFaults;
  counters: SimCounters;
  streaming: number;
  streaming_per_account: Record<string, number>;
  profile: Profile;
  reload_mode: ReloadMode;
  /** broken reload: streaming has stopped until a restart */
  stream_dead: boolean;
  reload_pending: boolean;
  reload_in_progress: boolean;
  underlying_prices: Record<string, number>;
}

/** The same controls as the /_sim/ endpoint, in process. */
export interface SimControls {
  faults(): SimFaults;
  /** Merges a partial set of fault switches (validated); returns the result. */
  setFaults(patch: Partial<SimFaults>): SimFaults;
  /** Faults back to defaults, counters and rate-limit windows cleared. */
  reset(): void;
  /** Live counters (requests per 'METHOD /route' and status, history calls with timestamps, reloads, ticks). */
  counters(): SimCounters;
  resetCounters(): void;
  /**
   * Subscribes directly, bypassing HTTP rate limits; takes effect immediately (no reload gap) unless
   * `viaReload` is true. Unknown or expired tokens throw.
   */
  subscribe(tokens: number | number[], opts?: { accountId?: string | null; mode?: string; viaReload?: boolean }): SubscriptionRow[];
  unsubscribe(tokens: number | number[], opts?: { viaReload?: boolean }): void;
  /** Runs one loop step at the clock's current time (reload machine, then due ticks); returns ticks published. */
  tick(): number;
  /** Current index level of an underlying (NIFTY, BANKNIFTY, FINNIFTY, MIDCPNIFTY). */
  underlyingPrice(symbol: string): number;
  /** Tokens currently streaming (indices first). */
  streamingTokens(): number[];
  /** Applies subscriptions to the streams now, skipping a pending reload's debounce and gap (not after a broken reload). */
  applyNow(): void;
  /** A restart of the service: accounts assigned to rows without one, every active row streams again. */
  restart(): void;
  /** The strike rebalancer's pass now (whether or not it runs on its own); returns the rows it changed. */
  rebalance(): number;
  /** The market clock (virtual in 'fast' mode). */
  clock: Clock;
  state(): SimState;
}

export interface DevTicker {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  bus: FeedBus;
  sim: SimControls;
  /** The generated instruments of the current IST date (regenerated when the date changes). */
  readonly registry: Registry;
  /** The profile in force. */
  profile: Profile;
  /** Token for /_sim/ (header X-Sim-Token), or null when /_sim/ is off. */
  simToken: string | null;
  /** Resolves when every registry export started so far (CSV file, instrument_registry) has finished. */
  registryExported(): Promise<void>;
  /** Resolves when the Redis publisher is connected (immediately without Redis). */
  redisReady(): Promise<void>;
  /** Stops timers, the HTTP server and Redis; leaves nothing listening. */
  close(): Promise<void>;
}

const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

/** Market time running `speed` times faster, starting in a session and jumping over closed hours. */
export class FastClock implements Clock {
  private start: number;
  private base0: number;

  constructor(
    private readonly base: Clock,
    private readonly speed: number,
    private readonly calendar: HolidayCalendar,
  ) {
    const now = base.now();
    this.base0 = now;
    this.start = calendar.isInSession(now) ? now : calendar.nextSessionOpen(now);
  }

  now(): number {
    const b = this.base.now();
    const v = this.start + (b - this.base0) * this.speed;
    if (this.calendar.isInSession(v)) return Math.floor(v);
    this.start = this.calendar.nextSessionOpen(v);
    this.base0 = b;
    return this.start;
  }
}

export async function startDevTicker(opts: DevTickerOptions = {}): Promise<DevTicker> {
  const logger = opts.logger ?? silentLogger;
  const profile: Profile = opts.profile ?? 'production';
  if (profile !== 'production' && profile !== 'ideal') throw new Error(`devticker: profile must be 'production' or 'ideal' (got ${String(profile)})`);
  const baseClock = opts.clock ?? systemClock;
  const calendar = opts.holidays ? new HolidayCalendar(opts.holidays) : loadCalendar(opts.holidaysFile, logger);
  const clockMode = opts.clockMode ?? 'real';
  const speed = opts.speed ?? 60;
  if (!(speed > 0)) throw new Error(`devticker: speed must be > 0 (got ${speed})`);
  const marketClock = clockMode === 'fast' ? new FastClock(baseClock, speed, calendar) : baseClock;
  const accounts = opts.accounts?.length ? opts.accounts : ['primary'];
  const bus = opts.bus ?? new InProcessBus();
  const tickIntervalMs = opts.tickIntervalMs ?? 1000;
  const faults = faultsPatchSchema.parse(opts.faults ?? {});
  const reloadMode = opts.reload ?? opts.reloadMode ?? 'full';
  const exporter = new RegistryExporter({
    csvPath: opts.instrumentsCsvPath,
    dbUrl: opts.instrumentDbUrl,
    dbExpiryType: opts.instrumentDbExpiryType,
    logger,
  });
  const exports: Array<Promise<void>> = [];

  const core = new DevTickerCore({
    seed: opts.seed ?? 42,
    profile,
    marketClock,
    baseClock,
    clockMode,
    calendar,
    bus,
    redisUrl: opts.redisUrl,
    reloadMode,
    reloadDebounceMs: 1000,
    reloadMinIntervalMs: 5000,
    reloadGapMs: opts.reloadGapMs ?? 2500,
    webhookUrl: opts.webhookUrl,
    webhookSecret: opts.webhookSecret,
    publishRedisEvents: opts.publishRedisEvents ?? false,
    accounts,
    underlyingShape: opts.underlyingShape ?? 'alternate',
    registry: {
      expiryWeekday: opts.expiryWeekday,
      strikesPerSide: opts.strikesPerSide,
      weeklyExpiries: opts.weeklyExpiries,
      monthlyExpiries: opts.monthlyExpiries,
    },
    faults,
    denseTicks: opts.denseTicks ?? false,
    environment: opts.environment ?? 'dev',
    stateFile: opts.stateFile,
    rebalancer: opts.rebalancer ?? false,
    onRegistry: exporter.enabled ? (r) => exports.push(exporter.export(r)) : undefined,
    logger,
  });
  try {
    await Promise.all(exports); // a registry that cannot be exported at start is a start-up error
  } catch (err) {
    await core.close();
    throw err;
  }
  const simToken = opts.simEndpoint === 'off' ? null : (opts.simToken ?? process.env.DEVTICKER_SIM_TOKEN ?? randomBytes(18).toString('base64url'));
  const allowedHosts = new Set<string>();
  const http = new DevTickerHttp(core, { allowedHosts, simToken, instrumentsRoute: opts.instrumentsRoute ?? profile === 'ideal' });
  const server: Server = createServer(http.handle);
  server.keepAliveTimeout = 5000;
  const host = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 8080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await core.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const bracket = (h: string): string => (h.includes(':') ? `[${h}]` : h);
  for (const h of [host, 'localhost', '127.0.0.1', '::1']) allowedHosts.add(`${bracket(h).toLowerCase()}:${port}`);
  for (const h of opts.allowedHosts ?? []) allowedHosts.add(h.toLowerCase());

  // The loop: wake just after each second boundary of market time (or faster in fast mode).
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const loop = (): void => {
    if (stopped) return;
    try {
      core.step(marketClock.now());
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'devticker tick failed');
    }
    let delay: number;
    if (clockMode === 'fast') delay = Math.max(10, tickIntervalMs / speed);
    else if (tickIntervalMs === 1000) delay = 1000 - (baseClock.now() % 1000) + 5;
    else delay = tickIntervalMs;
    timer = setTimeout(loop, delay);
    timer.unref?.();
  };
  if (opts.autoTick ?? true) loop();

  const toArray = (t: number | number[]): number[] => (Array.isArray(t) ? t : [t]);
  const sim: SimControls = {
    clock: marketClock,
    faults: () => ({ ...core.faults }),
    setFaults: (patch) => {
      core.faults = { ...core.faults, ...faultsPatchSchema.parse(patch) };
      return { ...core.faults };
    },
    reset: () => {
      core.faults = profileFaults(profile);
      Object.assign(core.counters, emptyCounters());
      http.resetRateLimits();
    },
    counters: () => core.counters,
    resetCounters: () => {
      Object.assign(core.counters, emptyCounters());
    },
    subscribe: (tokens, o = {}) => {
      // as a POST without account_id: null in production, the first account in the ideal profile
      const account = o.accountId !== undefined ? o.accountId : profile === 'production' ? null : accounts[0];
      if (account && !accounts.includes(account)) throw new Error(`Account '${account}' is not configured`);
      core.ensureRegistry(marketClock.now());
      const list = toArray(tokens);
      const insts = list.map((t) => {
        const inst = core.registry.liveByToken(t);
        if (!inst) throw new Error(`Instrument token not found or inactive in registry: ${t}`);
        return inst;
      });
      const rows = insts.map((inst) => core.subscribe(inst, (o.mode ?? 'FULL').toUpperCase(), account, o.viaReload ? 'reload' : 'none'));
      if (!o.viaReload) core.applyNow();
      return rows;
    },
    unsubscribe: (tokens, o = {}) => {
      for (const t of toArray(tokens)) core.unsubscribe(t, o.viaReload ? 'reload' : 'none');
      if (!o.viaReload) core.applyNow();
    },
    tick: () => core.step(marketClock.now()),
    underlyingPrice: (symbol) => {
      const inst = core.registry.index(symbol);
      if (!inst) throw new Error(`unknown underlying ${symbol}`);
      return core.model.spot(inst.underlying, Math.floor(marketClock.now() / 1000));
    },
    streamingTokens: () => core.streamer.streamingTokens(),
    applyNow: () => core.applyNow(),
    restart: () => {
      core.restart();
      http.resetRateLimits();
    },
    rebalance: () => core.rebalance(marketClock.now(), 'reload'),
    state: () => simState(core) as SimState,
  };

  const url = `http://${bracket(host)}:${port}`;
  logger.info({ url, profile, reload: reloadMode, clockMode, seed: opts.seed ?? 42, instruments: core.registry.live.length }, 'devticker listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    bus,
    sim,
    profile,
    simToken,
    registryExported: () => exporter.settled(),
    get registry() {
      return core.ensureRegistry(marketClock.now());
    },
    redisReady: () => core.redisReady(),
    close: () => {
      closing ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await exporter.settled();
        await core.close();
      })();
      return closing;
    },
  };
}

function loadCalendar(file: string | undefined, logger: Logger): HolidayCalendar {
  try {
    return loadHolidayCalendar(file);
  } catch (err) {
    if (file) throw err;
    logger.warn({ err: (err as Error).message }, 'devticker: holiday file not found, weekends only');
    return HolidayCalendar.weekendsOnly();
  }
}
