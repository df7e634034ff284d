// The [backfill] step of the composition root. The ticker client, registry and subscription manager are looked up
// at use (any may be absent), so backfill runs and says what it could not do meanwhile.
import type { ComponentHealth } from '../../shared/api';
import type { AppContext } from '../app/app';
import { backfillHandlers } from '../api/backfill';
import { appCalendar } from '../calendar';
import { effectiveSourceGreeks } from '../ingest/start';
import { scopedLogger } from '../log';
import { BackfillService } from './service';

export function startBackfill(context: AppContext): BackfillService {
  const logger = scopedLogger('backfill');
  const service = new BackfillService({
    market: context.market,
    state: context.state,
    flags: { get: (key) => context.flags.get(key) as boolean },
    clock: context.clock,
    calendar: appCalendar(context.config.home),
    // The same greek units as live ingest (the embedded devticker's profile, else STRIKEDESK_SOURCE_GREEKS).
    config: { ...context.config, sourceGreeks: effectiveSourceGreeks(context) },
    ticker: () => context.ticker,
    registry: () => context.registry,
    subscriptions: () => context.subscriptions,
    signals: context.signals,
    telemetry: () => context.telemetry,
    push: context.push,
    logger,
  });
  context.api.register(backfillHandlers(service));
  context.health.register('backfill', (): ComponentHealth => {
    const h = service.health();
    const last = h.last ? `; last cycle: ${h.last.led ? `${h.last.considered} considered, ${h.last.plannedRequests} requests${h.last.fellBack ? ' (fallback: snapshot unavailable)' : ''}` : 'led by another console'}` : '';
    const detail = `${h.queued} job(s) queued or running${h.running ? `, running #${h.running}` : ''}${last}`;
    return { status: h.tickerReady ? 'ok' : 'degraded', detail: h.tickerReady ? detail : `no ticker client: jobs wait; ${detail}` };
  });
  service.start();
  context.onStop('backfill', () => service.stop());
  return service;
}
