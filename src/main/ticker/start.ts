// The [ticker] step of the composition root: the one TickerClient (its limiter holds the service's budgets for
// every caller in the process) and the instrument registry, with health probes and stop steps.
import type { ComponentHealth } from '../../shared/api';
import type { AppContext } from '../app/app';
import { scopedLogger } from '../log';
import { InstrumentRegistry } from '../registry/registry';
import { HttpTickerClient } from './client';
import { realScheduler } from './time';

export interface TickerSetup {
  ticker: HttpTickerClient;
  registry: InstrumentRegistry;
}

/** Returns at once: the registry's first load runs in the background (its queries wait for it). */
export async function startTicker(context: AppContext): Promise<TickerSetup> {
  const { config, health, clock } = context;
  const tickerUrl = context.tickerUrl ?? config.tickerUrl ?? 'http://127.0.0.1:8080';
  const ticker = new HttpTickerClient({ baseUrl: tickerUrl, scheduler: realScheduler(clock), telemetry: context.telemetry, logger: scopedLogger('ticker') });
  context.onStop('ticker client', () => ticker.close());
  health.register('ticker_client', (): ComponentHealth => {
    const s = ticker.stats();
    const held = s.limiter.filter((b) => b.blockedUntil !== null).map((b) => b.bucket);
    const detail = `${tickerUrl}; circuit ${s.breaker.state}; ${s.rateLimited} rate-limited answers${held.length ? `; held after 429: ${held.join(', ')}` : ''}`;
    return { status: s.breaker.state === 'closed' && held.length === 0 ? 'ok' : 'degraded', detail };
  });

  const registry = new InstrumentRegistry({
    db: context.market,
    clock,
    source: InstrumentRegistry.sourceFrom(config.instrumentsSource, tickerUrl),
    logger: scopedLogger('registry'),
  });
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
