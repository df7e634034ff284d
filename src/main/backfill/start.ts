// The [backfill] step of the composition root: the backfill service over the ticker client, the registry and the
// subscription manager it plans from, a health probe, a stop step. Its ConsoleApi channels are registered with the
// others (api/handlers.ts).
import type { ComponentHealth } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import type { HolidayCalendar } from '../calendar';
import type { FlagService } from '../flags/flags';
import type { SourceGreeks } from '../ingest/units';
import type { OnStop } from '../lifecycle';
import { scopedLogger } from '../log';
import type { MarketDb } from '../market/db';
import type { HealthRegistry } from '../metrics/health';
import type { Telemetry } from '../metrics/telemetry';
import type { StateStore } from '../state/store';
import type { TickerClient } from '../ticker/types';
import { BackfillService, type BackfillConfig, type BackfillServiceDeps } from './service';
import type { RegistryView, SnapshotSource } from './types';

export interface BackfillDeps {
  config: Omit<BackfillConfig, 'sourceGreeks'>;
  /** The greek units of the tick source, as live ingest uses them (so no bar mixes scales). */
  sourceGreeks: SourceGreeks;
  market: MarketDb;
  state: StateStore;
  flags: Pick<FlagService, 'get'>;
  clock: Clock;
  calendar: HolidayCalendar;
  ticker: TickerClient;
  registry: RegistryView;
  subscriptions: SnapshotSource;
  signals: BackfillServiceDeps['signals'];
  telemetry: Telemetry;
  push: NonNullable<BackfillServiceDeps['push']>;
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
}

export function startBackfill(deps: BackfillDeps): BackfillService {
  const { ticker, registry, subscriptions, telemetry, flags } = deps;
  const service = new BackfillService({
    market: deps.market,
    state: deps.state,
    flags: { get: (key) => flags.get(key) },
    clock: deps.clock,
    calendar: deps.calendar,
    config: { ...deps.config, sourceGreeks: deps.sourceGreeks },
    // The service takes its collaborators as lookups (its own tests run it without some); here all are running.
    ticker: () => ticker,
    registry: () => registry,
    subscriptions: () => subscriptions,
    telemetry: () => telemetry,
    signals: deps.signals,
    push: deps.push,
    logger: scopedLogger('backfill'),
  });
  deps.health.register('backfill', (): ComponentHealth => {
    const h = service.health();
    const last = h.last
      ? `; last cycle: ${h.last.led ? `${h.last.considered} considered, ${h.last.plannedRequests} requests${h.last.fellBack ? ' (fallback: snapshot unavailable)' : ''}` : 'led by another console'}`
      : '';
    const detail = `${h.queued} job(s) queued or running${h.running ? `, running #${h.running}` : ''}${last}`;
    return { status: h.tickerReady ? 'ok' : 'degraded', detail: h.tickerReady ? detail : `no ticker client: jobs wait; ${detail}` };
  });
  service.start();
  deps.onStop('backfill', () => service.stop());
  return service;
}
