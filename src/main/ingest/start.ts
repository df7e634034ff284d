// The ingest step of the composition root: a TickIngestor on context.bus writing into the market store, its
// health probe and stop step. Without a bus (TICKER_URL set, REDIS_URL not) there is nothing to ingest: the
// probe says 'disabled' and why.
import type { ComponentHealth } from '../../shared/api';
import type { AppContext } from '../app/app';
import { appCalendar } from '../calendar';
import { scopedLogger } from '../log';
import { TickIngestor } from './ingestor';
import type { SourceGreeks } from './units';

/** What ingest needs from the instrument registry (issue 4); absent until it lands. */
interface IndexTokenSource {
  underlyingToken(symbol: string): number | null;
}

/**
 * What the tick source publishes for theta and vega: the embedded devticker says itself (its production profile
 * scales them as the real service does, its plain one does not); a real ticker service follows the setting
 * STRIKEDESK_SOURCE_GREEKS. Live ingest and backfill use the same answer, so no bar mixes scales.
 */
export function effectiveSourceGreeks(context: Pick<AppContext, 'config' | 'devticker'>): SourceGreeks {
  if (context.devticker) return context.devticker.sim.faults().quirkGreeksScaled ? 'scaled' : 'true';
  return context.config.sourceGreeks;
}

export function startIngest(context: AppContext): TickIngestor | undefined {
  const { bus, feedMonitor, health } = context;
  if (!bus) {
    health.register('ingest', () => ({ status: 'disabled', detail: 'no tick source (set REDIS_URL to read the ticker service\'s ticks)' }));
    return undefined;
  }
  const monitor = feedMonitor;
  // The app's one calendar (shipped holidays with the operator's file merged over them, loaded once).
  const calendar = appCalendar(context.config.home);
  const ingestor = new TickIngestor({
    bus,
    db: context.market,
    clock: context.clock,
    signals: context.signals,
    telemetry: context.telemetry,
    logger: scopedLogger('ingest'),
    monitor,
    push: context.push,
    acceptMockTicks: context.config.acceptMockTicks,
    // Mock ticks are recognised by the exchange calendar, not by their is_mock flag (always false in production).
    inSession: (ms) => calendar.isInSession(ms),
    sourceGreeks: effectiveSourceGreeks(context),
    // Bars only for instants ticks are expected at: NSE sessions, or any time with the always-open devticker.
    acceptTickAt: monitor ? (ms) => monitor.expectsStreamingAt(ms) : undefined,
    indexToken: (symbol) => (context as unknown as { registry?: IndexTokenSource }).registry?.underlyingToken(symbol) ?? null,
  });
  ingestor.start();
  context.onStop('ingest', async () => {
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
    const failing = s.lastWriteError !== null && (s.lastWriteAt === null || context.clock.now() - s.lastWriteAt > 30_000) && s.queueDepth > 0;
    const recentDrops = s.lastDropAt !== null && context.clock.now() - s.lastDropAt < 15 * 60_000;
    return { status: recentDrops || backlog || failing ? 'degraded' : 'ok', detail, lastEventAt: s.lastWriteAt === null ? null : new Date(s.lastWriteAt).toISOString() };
  });
  return ingestor;
}
