// Test rig for backfill: a real devticker over HTTP, the real TickerClient and instrument registry, a market store
// (PGlite or PostgreSQL), a SQLite state file, and the service with its timers off. Time is a session instant that
// runs forward in real time (the devticker's 3/s history limit counts real seconds).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevTicker, type DevTicker } from '../../../devticker';
import type { Clock } from '../../../shared/clock';
import type { FlagKey } from '../../../shared/flags';
import { HolidayCalendar } from '../../calendar';
import { scopedLogger } from '../../log';
import { DataSignals } from '../../market/data-signals';
import type { MarketDb } from '../../market/db';
import { createTestMarketDb, type TestMarketDb } from '../../market/testing/db';
import type { BackfillCycleStats, Telemetry } from '../../metrics/telemetry';
import { noopTelemetry } from '../../metrics/telemetry';
import { InstrumentRegistry } from '../../registry/registry';
import { StateStore } from '../../state/store';
import { HttpTickerClient } from '../../ticker/client';
import { realScheduler } from '../../../shared/clock';
import type { HistoryCall } from '../../../devticker';
import { BackfillService, type BackfillConfig, type BackfillServiceDeps } from '../service';
import type { RetryPolicy } from '../fetcher';
import type { SnapshotSource } from '../types';

/** A clock that starts at `startMs` and runs at real speed. */
export function runningClock(startMs: number): Clock {
  const offset = startMs - Date.now();
  return { now: () => Date.now() + offset };
}

export class RecordingTelemetry implements Telemetry {
  cycles: BackfillCycleStats[] = [];
  jobs: { state: string; durationMs: number; rows: number }[] = [];
  gauges: { name: string; value: number }[] = [];
  autoSubscribeAttempt = noopTelemetry.autoSubscribeAttempt;
  timeToData = noopTelemetry.timeToData;
  tickerRequest = noopTelemetry.tickerRequest;
  intakeEvent = noopTelemetry.intakeEvent;
  ingest = noopTelemetry.ingest;
  feedState = noopTelemetry.feedState;
  backfillCycle(stats: BackfillCycleStats): void {
    this.cycles.push(stats);
  }
  backfillJob(state: 'done' | 'failed' | 'cancelled', durationMs: number, rows: number): void {
    this.jobs.push({ state, durationMs, rows });
  }
  gauge(name: string, value: number): void {
    this.gauges.push({ name, value });
  }
}

/** The active subscriptions as the ticker lists them (what the subscription manager's snapshot is built from). */
export class TickerSnapshot implements SnapshotSource {
  failWith: string | null = null;
  constructor(
    private readonly ticker: HttpTickerClient,
    private readonly clock: Clock,
  ) {}
  async activeSnapshot(): Promise<{ tokens: Set<number>; takenAt: number }> {
    if (this.failWith) throw new Error(this.failWith);
    const rows = await this.ticker.listAllSubscriptions('active');
    return { tokens: new Set(rows.map((r) => r.instrument_token)), takenAt: this.clock.now() };
  }
}

export interface RigOptions {
  backend?: 'pglite' | 'postgres';
  /** Session instant the clock starts at. */
  startMs: number;
  config?: Partial<BackfillConfig>;
  concurrency?: number;
  retry?: RetryPolicy;
  /** Client-side retries of the ticker client (default 0: failures reach the backfill's own retry). */
  clientRetries?: number;
  flags?: Partial<Record<FlagKey, boolean>>;
  /** Reuse a market store (two consoles on one database). */
  market?: MarketDb;
  /** Reuse a devticker (two consoles on one ticker). */
  devticker?: DevTicker;
  consoleId?: string;
}

export interface Rig {
  clock: Clock;
  dt: DevTicker;
  market: MarketDb;
  registry: InstrumentRegistry;
  ticker: HttpTickerClient;
  state: StateStore;
  snapshot: TickerSnapshot;
  flags: Record<string, boolean>;
  telemetry: RecordingTelemetry;
  signals: DataSignals;
  service: BackfillService;
  calendar: HolidayCalendar;
  /** Another service over the same stores and ticker (not started). */
  build(overrides?: Partial<BackfillServiceDeps>): BackfillService;
  /** History calls the devticker saw since `sinceMs` (its clock). */
  historyCalls(sinceMs?: number): HistoryCall[];
  close(): Promise<void>;
}

export async function startRig(opts: RigOptions): Promise<Rig> {
  const clock = runningClock(opts.startMs);
  const dt = opts.devticker ?? (await startDevTicker({ port: 0, clock, autoTick: false, instrumentsRoute: true }));
  let testDb: TestMarketDb | null = null;
  const market = opts.market ?? (testDb = await createTestMarketDb(opts.backend ?? 'pglite')).db;
  const registry = new InstrumentRegistry({ db: market, clock, source: { kind: 'dump', location: `${dt.url}/instruments` } });
  await registry.refresh();
  const ticker = new HttpTickerClient({ baseUrl: dt.url, scheduler: realScheduler(clock), retries: opts.clientRetries ?? 0, retryBaseMs: 20 });
  const state = new StateStore(join(mkdtempSync(join(tmpdir(), 'sd-backfill-')), 'state.db'));
  state.migrate();
  const snapshot = new TickerSnapshot(ticker, clock);
  const flags: Record<string, boolean> = { backfill_subscription_aware: true, backfill_immediate_on_subscribe: true, ...opts.flags };
  const telemetry = new RecordingTelemetry();
  const signals = new DataSignals();
  const calendar = HolidayCalendar.load();
  const build = (overrides: Partial<BackfillServiceDeps> = {}) =>
    new BackfillService({
      market,
      state,
      flags: { get: (key) => flags[key] },
      clock,
      calendar,
      config: { backfillIntervalMinutes: 5, backfillLookbackMinutes: 30, underlyings: ['NIFTY'], strikesEachSide: 2, ...opts.config },
      ticker: () => ticker,
      registry: () => registry,
      subscriptions: () => snapshot,
      signals,
      telemetry: () => telemetry,
      logger: scopedLogger('backfill-test'),
      concurrency: opts.concurrency ?? 4,
      retry: opts.retry ?? { attempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
      schedule: false,
      consoleId: opts.consoleId,
      ...overrides,
    });
  const service = build();
  service.start();
  return {
    clock,
    dt,
    market,
    registry,
    ticker,
    state,
    snapshot,
    flags,
    telemetry,
    signals,
    service,
    calendar,
    build,
    historyCalls: (sinceMs = 0) => dt.sim.counters().historyCalls.filter((c) => c.at >= sinceMs),
    close: async () => {
      await service.stop();
      await ticker.close();
      state.close();
      if (testDb) await testDb.close();
      if (!opts.devticker) await dt.close();
    },
  };
}

/** The largest number of calls in any 1-second window (calls sorted by time). */
export function maxPerSecond(calls: readonly { at: number }[]): number {
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
