// The ingest step of the composition root: a TickIngestor on the feed's bus writing into the market store, its
// health probe and stop step. Without a bus (TICKER_URL set, REDIS_URL not) there is nothing to ingest: the probe
// says 'disabled' and why, and there is no ingestor.
import type { ComponentHealth, PushTopic } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import type { FeedBus } from '../../shared/feed';
import type { HolidayCalendar } from '../calendar';
import type { Config } from '../config/settings';
import type { FeedMonitor } from '../feed/monitor';
import type { OnStop } from '../lifecycle';
import { scopedLogger } from '../log';
import type { DataSignals } from '../market/data-signals';
import type { MarketDb } from '../market/db';
import type { HealthRegistry } from '../metrics/health';
import type { Telemetry } from '../metrics/telemetry';
import type { InstrumentRegistry } from '../registry/registry';
import { TickIngestor } from './ingestor';
import type { SourceGreeks } from './units';

/**
 * What the tick source publishes for theta and vega: the embedded devticker says itself (its production profile
 * scales them as the real service does, its plain one does not); a real ticker service follows the setting
 * STRIKEDESK_SOURCE_GREEKS. The composition root asks once and gives live ingest and backfill the same answer, so no
 * bar mixes scales.
 */
export function effectiveSourceGreeks(source: {
  config: Pick<Config, 'sourceGreeks'>;
  devticker: { sim: { faults(): { quirkGreeksScaled: boolean } } } | undefined;
}): SourceGreeks {
  if (source.devticker) return source.devticker.sim.faults().quirkGreeksScaled ? 'scaled' : 'true';
  return source.config.sourceGreeks;
}

export interface IngestDeps {
  /** The tick source; undefined when there is none. */
  bus: FeedBus | undefined;
  monitor: FeedMonitor;
  market: MarketDb;
  clock: Clock;
  calendar: Pick<HolidayCalendar, 'isInSession'>;
  signals: DataSignals;
  telemetry: Telemetry;
  push: { publish(topic: PushTopic, key?: string): void };
  health: Pick<HealthRegistry, 'register'>;
  onStop: OnStop;
  registry: Pick<InstrumentRegistry, 'underlyingToken'>;
  acceptMockTicks: boolean;
  sourceGreeks: SourceGreeks;
}

export function startIngest(deps: IngestDeps): TickIngestor | undefined {
  const { bus, monitor, health, calendar, clock, registry } = deps;
  if (!bus) {
    health.register('ingest', () => ({ status: 'disabled', detail: "no tick source (set REDIS_URL to read the ticker service's ticks)" }));
    return undefined;
  }
  const ingestor = new TickIngestor({
    bus,
    db: deps.market,
    clock,
    signals: deps.signals,
    telemetry: deps.telemetry,
    logger: scopedLogger('ingest'),
    monitor,
    push: deps.push,
    acceptMockTicks: deps.acceptMockTicks,
    // Mock ticks are recognised by the exchange calendar, not by their is_mock flag (always false in production).
    inSession: (ms) => calendar.isInSession(ms),
    sourceGreeks: deps.sourceGreeks,
    // Bars only for instants ticks are expected at: NSE sessions, or any time with the always-open devticker.
    acceptTickAt: (ms) => monitor.expectsStreamingAt(ms),
    indexToken: (symbol) => registry.underlyingToken(symbol),
  });
  ingestor.start();
  deps.onStop('ingest', async () => {
    await ingestor.stop();
  });
  health.register('ingest', (): ComponentHealth => {
    const s = ingestor.stats();
    const detail =
      `${s.ticks} ticks, ${s.barsWritten} bars written, queue ${s.queueDepth}/${s.queueCapacity}, ${s.droppedBars} bars dropped, ` +
      `${s.parseErrors} unparseable, ${s.indexRowsSkipped} index rows on the options channel skipped, ${s.mockSkipped} mock ticks skipped, ${s.lateDropped} late ticks dropped` +
      (s.lastFlushLatencyMs === null ? '' : `, last flush ${(s.lastFlushLatencyMs / 1000).toFixed(1)} s after the minute`) +
      (s.lastWriteError ? `; last write error: ${s.lastWriteError}` : '');
    const backlog = s.queueDepth > s.queueCapacity / 2;
    const failing = s.lastWriteError !== null && (s.lastWriteAt === null || clock.now() - s.lastWriteAt > 30_000) && s.queueDepth > 0;
    const recentDrops = s.lastDropAt !== null && clock.now() - s.lastDropAt < 15 * 60_000;
    return {
      status: recentDrops || backlog || failing ? 'degraded' : 'ok',
      detail,
      lastEventAt: s.lastWriteAt === null ? null : new Date(s.lastWriteAt).toISOString(),
    };
  });
  return ingestor;
}
