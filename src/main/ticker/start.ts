// The [ticker] step of the composition root: the one TickerClient (its limiter holds the service's budgets for
// every caller in the process) and the instrument registry, with health probes and stop steps.
import type { ComponentHealth } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import { ConfigError } from '../config/load';
import type { Config } from '../config/settings';
import type { OnStop } from '../lifecycle';
import { redactUrl, scopedLogger } from '../log';
import type { MarketDb } from '../market/db';
import type { HealthRegistry } from '../metrics/health';
import type { Telemetry } from '../metrics/telemetry';
import { InstrumentRegistry } from '../registry/registry';
import { describeSource, resolveRegistrySource, SourceConfigError, type ResolvedSource } from '../registry/source';
import { HttpTickerClient } from './client';
import { PostgresBudget } from './shared-budget';
import { realScheduler } from '../../shared/clock';

export interface TickerDeps {
  config: Pick<Config, 'instrumentsSource' | 'instrumentDatabaseUrl' | 'databaseUrl' | 'tickerUrl'>;
  /** The ticker service: TICKER_URL, or the embedded devticker's URL. */
  tickerUrl: string;
  market: MarketDb;
  clock: Clock;
  telemetry: Telemetry;
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
  /** The embedded devticker (TICKER_URL unset): its registry is the default instrument source. */
  devticker: { url: string; registry: { toCsv(): string } } | undefined;
}

export interface TickerSetup {
  ticker: HttpTickerClient;
  registry: InstrumentRegistry;
}

/** The shared store's name for the ticker service's budgets (see PostgresBudget's scope). */
export const SHARED_BUDGET_SCOPE = 'ticker';

/** Which registry source the settings choose (the embedded devticker's registry when TICKER_URL is unset). */
function registrySource({ config, devticker }: Pick<TickerDeps, 'config' | 'devticker'>): ResolvedSource {
  try {
    return resolveRegistrySource(
      {
        instrumentsSource: config.instrumentsSource,
        instrumentDatabaseUrl: config.instrumentDatabaseUrl,
        databaseUrl: config.databaseUrl,
        tickerUrl: config.tickerUrl,
      },
      // The embedded devticker's registry, serialised in process as the Kite CSV its /instruments would send and
      // read through the same streaming parser as a real dump.
      devticker ? { label: 'embedded devticker registry', csv: () => devticker.registry.toCsv(), url: devticker.url } : undefined,
    );
  } catch (err) {
    if (err instanceof SourceConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

/**
 * Probes the instrument source (one batch read) and fails start-up with one line naming the setting when it cannot
 * be read; the full first load then runs in the background (queries wait for it).
 */
export async function startTicker(deps: TickerDeps): Promise<TickerSetup> {
  const { health, clock, market, tickerUrl, onStop } = deps;
  const logger = scopedLogger('ticker');
  // Consoles on one PostgreSQL share the service's and Kite's budgets there; the embedded store (PGlite) serves one
  // console, which keeps them in memory. The budgets are keyed by the store, not by TICKER_URL: the consoles of one
  // market store work for one ticker service (and Kite account), and two spellings of its address (a hostname and
  // an IP, a proxy) must not split the budget in two.
  const sharedBudget = market.backend === 'postgres' ? { store: new PostgresBudget(market, SHARED_BUDGET_SCOPE), logger } : undefined;
  const ticker = new HttpTickerClient({ baseUrl: tickerUrl, scheduler: realScheduler(clock), telemetry: deps.telemetry, logger, sharedBudget });
  onStop('ticker client', () => ticker.close());
  health.register('ticker_client', (): ComponentHealth => {
    const s = ticker.stats();
    const held = s.limiter.filter((b) => b.blockedUntil !== null).map((b) => b.bucket);
    const b = s.budget;
    const budget =
      b.mode === 'memory'
        ? 'budgets: this console'
        : b.mode === 'shared'
          ? `budgets: shared (${b.backend})`
          : `budgets: this console only, shared store failed (${b.error})`;
    const detail = `${redactUrl(tickerUrl)}; circuit ${s.breaker.state}; ${s.rateLimited} rate-limited answers${held.length ? `; held after 429: ${held.join(', ')}` : ''}; ${budget}`;
    return { status: s.breaker.state === 'closed' && held.length === 0 && b.mode !== 'fallback' ? 'ok' : 'degraded', detail };
  });

  const { source, setting } = registrySource(deps);
  const registryLogger = scopedLogger('registry');
  const registry = new InstrumentRegistry({ db: market, clock, source, logger: registryLogger });
  try {
    await registry.probe();
  } catch (err) {
    const reason = (err as Error).message.replace(/\s+/g, ' ');
    throw new ConfigError(`${setting}: cannot read instruments from ${describeSource(source)}: ${reason}`);
  }
  registryLogger.info({ source: describeSource(source), setting }, 'instrument registry source');
  registry.start();
  onStop('instrument registry', () => registry.stop());
  health.register('instrument_registry', (): ComponentHealth => {
    const s = registry.status();
    if (s.lastRefreshAt === null) return { status: 'degraded', detail: `not loaded from ${s.source}${s.lastError ? `: ${s.lastError}` : ''}` };
    const detail = `${s.rows ?? '?'} instruments from ${s.source}${s.lastError ? `; last refresh failed: ${s.lastError}` : ''}`;
    return { status: s.lastError ? 'degraded' : 'ok', detail, lastEventAt: new Date(s.lastRefreshAt).toISOString() };
  });
  return { ticker, registry };
}
