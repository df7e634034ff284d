// The [ticker] step of the composition root: the one TickerClient (its limiter holds the service's budgets for
// every caller in the process) and the instrument registry, with health probes and stop steps.
import type { ComponentHealth } from '../../shared/api';
import type { AppContext } from '../app/app';
import { ConfigError } from '../config/load';
import { redactUrl, scopedLogger } from '../log';
import { InstrumentRegistry } from '../registry/registry';
import { describeSource, resolveRegistrySource, SourceConfigError, type ResolvedSource } from '../registry/source';
import { HttpTickerClient } from './client';
import { PostgresBudget } from './shared-budget';
import { realScheduler } from './time';

export interface TickerSetup {
  ticker: HttpTickerClient;
  registry: InstrumentRegistry;
}

/** The shared store's name for the ticker service's budgets (see PostgresBudget's scope). */
export const SHARED_BUDGET_SCOPE = 'ticker';

/** Which registry source the settings choose (the embedded devticker's registry when TICKER_URL is unset). */
function registrySource(context: AppContext): ResolvedSource {
  const { config, devticker } = context;
  try {
    return resolveRegistrySource(
      { instrumentsSource: config.instrumentsSource, instrumentDatabaseUrl: config.instrumentDatabaseUrl, databaseUrl: config.databaseUrl, tickerUrl: config.tickerUrl },
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
export async function startTicker(context: AppContext): Promise<TickerSetup> {
  const { config, health, clock } = context;
  const tickerUrl = context.tickerUrl ?? config.tickerUrl ?? 'http://127.0.0.1:8080';
  const logger = scopedLogger('ticker');
  // Consoles on one PostgreSQL share the service's and Kite's budgets there; the embedded store (PGlite) serves one
  // console, which keeps them in memory. The budgets are keyed by the store, not by TICKER_URL: the consoles of one
  // market store work for one ticker service (and Kite account), and two spellings of its address (a hostname and
  // an IP, a proxy) must not split the budget in two.
  const sharedBudget = context.market.backend === 'postgres' ? { store: new PostgresBudget(context.market, SHARED_BUDGET_SCOPE), logger } : undefined;
  const ticker = new HttpTickerClient({ baseUrl: tickerUrl, scheduler: realScheduler(clock), telemetry: context.telemetry, logger, sharedBudget });
  context.onStop('ticker client', () => ticker.close());
  health.register('ticker_client', (): ComponentHealth => {
    const s = ticker.stats();
    const held = s.limiter.filter((b) => b.blockedUntil !== null).map((b) => b.bucket);
    const b = s.budget;
    const budget = b.mode === 'memory' ? 'budgets: this console' : b.mode === 'shared' ? `budgets: shared (${b.backend})` : `budgets: this console only, shared store failed (${b.error})`;
    const detail = `${redactUrl(tickerUrl)}; circuit ${s.breaker.state}; ${s.rateLimited} rate-limited answers${held.length ? `; held after 429: ${held.join(', ')}` : ''}; ${budget}`;
    return { status: s.breaker.state === 'closed' && held.length === 0 && b.mode !== 'fallback' ? 'ok' : 'degraded', detail };
  });

  const { source, setting } = registrySource(context);
  const registryLogger = scopedLogger('registry');
  const registry = new InstrumentRegistry({ db: context.market, clock, source, logger: registryLogger });
  try {
    await registry.probe();
  } catch (err) {
    const reason = (err as Error).message.replace(/\s+/g, " ");
    throw new ConfigError(`${setting}: cannot read instruments from ${describeSource(source)}: ${reason}`);
  }
  registryLogger.info({ source: describeSource(source), setting }, 'instrument registry source');
  registry.start();
  context.onStop('instrument registry', () => registry.stop());
  health.register('instrument_registry', (): ComponentHealth => {
    const s = registry.status();
    if (s.lastRefreshAt === null) return { status: 'degraded', detail: `not loaded from ${s.source}${s.lastError ? `: ${s.lastError}` : ''}` };
    const detail = `${s.rows ?? '?'} instruments from ${s.source}${s.lastError ? `; last refresh failed: ${s.lastError}` : ''}`;
    return { status: s.lastError ? 'degraded' : 'ok', detail, lastEventAt: new Date(s.lastRefreshAt).toISOString() };
  });
  return { ticker, registry };
}
