// The tick consumer: reads ticker:nifty:options and ticker:nifty:underlying from the feed bus, aggregates into
// 1-minute bars (aggregate.ts) and hands them to the decoupled writer (writer.ts). The bus handler does only
// parse + aggregate (synchronous, no I/O); a timer loop flushes due buckets by the wall clock, stores partial
// bars of new tokens at once (first-data evidence for the subscription manager) and of the current minute every
// few seconds, and reports counters. A message that cannot be parsed is counted and skipped, with a sample logged.
import type { Clock } from '../../shared/clock';
import { CHANNEL_OPTIONS, CHANNEL_UNDERLYING, type FeedBus } from '../../shared/feed';
import type { PushTopic } from '../../shared/api';
import type { FeedMonitor } from '../feed/monitor';
import type { Logger } from '../log';
import type { DataSignals } from '../market/data-signals';
import type { Queryable } from '../market/db';
import type { Telemetry } from '../metrics/telemetry';
import { BarAggregator, type Emission } from './aggregate';
import { KNOWN_INDEX_TOKENS, parseOptionMessage, parseUnderlyingMessage, type UnderlyingTick } from './parse';
import type { SourceGreeks } from './units';
import { BarWriter, type WrittenBatch } from './writer';

export interface TickIngestorOptions {
  bus: FeedBus;
  db: Queryable;
  clock: Clock;
  signals: DataSignals;
  telemetry: Telemetry;
  logger: Logger;
  monitor?: FeedMonitor;
  push?: { publish(topic: PushTopic, key?: string): void };
  /**
   * Store mock ticks (config acceptMockTicks). A tick is mock when it falls outside a session by the exchange
   * calendar (`inSession`), whatever its is_mock flag says (the real service always says false), or when flagged.
   */
  acceptMockTicks: boolean;
  /** The exchange session calendar: whether an instant is inside a session (recognises mock ticks). */
  inSession?: (tsMs: number) => boolean;
  /** What the source publishes for theta and vega (config sourceGreeks; default 'scaled', as the real service). */
  sourceGreeks?: SourceGreeks;
  /**
   * Whether a tick at this instant belongs in a bar (default: always). The app passes the session calendar with
   * a real-clock ticker, so post-close ticks do not make a 15:30 bar; the always-open devticker accepts all.
   */
  acceptTickAt?: (tsMs: number) => boolean;
  /** Index token of an underlying symbol (registry), for shape-B underlying ticks that carry none. */
  indexToken?: (symbol: string) => number | null;
  lagMs?: number;
  lateGraceMs?: number;
  /** Partial bars of the current minute every this many ms (default 10 s; 0 = only at first data). */
  partialEveryMs?: number;
  /** Loop period (default 250 ms). */
  loopEveryMs?: number;
  queueCapacity?: number;
  batchSize?: number;
  rollups?: boolean;
  /** Observer of every successful write (after signals and pushes). */
  onWritten?: (batch: WrittenBatch) => void;
}

export interface IngestStats {
  ticks: number;
  optionTicks: number;
  underlyingTicks: number;
  parseErrors: number;
  /** Index rows (type EQ, segment INDICES) on the options channel: recognised and skipped, not errors. */
  indexRowsSkipped: number;
  mockSkipped: number;
  outsideSession: number;
  tsAdjusted: number;
  lateMerged: number;
  lateDropped: number;
  droppedBars: number;
  /** When bars were last refused by the full queue (epoch ms), or null. */
  lastDropAt: number | null;
  barsWritten: number;
  queueDepth: number;
  queueCapacity: number;
  writeFailures: number;
  lastWriteError: string | null;
  lastWriteAt: number | null;
  instruments: number;
  /** Tick-to-stored latency of the last complete flush: now minus the newest bucket's end, ms. */
  lastFlushLatencyMs: number | null;
}

const SAMPLE_EVERY_MS = 10_000;

export class TickIngestor {
  readonly aggregator: BarAggregator;
  readonly writer: BarWriter;
  private readonly unsubscribers: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly learnedIndexTokens = new Map<string, number>();
  /** Tokens that ticked but have no stored data yet: their partial bars are written at the next loop step. */
  private readonly firstData = new Set<number>();
  /** First-data writes queued and not yet confirmed, with when they were queued (re-armed after 10 s). */
  private readonly firstPending = new Map<number, number>();
  private lastPartialAt: number;
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  private sampledErrors = 0;
  private c = {
    ticks: 0,
    optionTicks: 0,
    underlyingTicks: 0,
    parseErrors: 0,
    indexRowsSkipped: 0,
    mockSkipped: 0,
    outsideSession: 0,
    tsAdjusted: 0,
    droppedBars: 0,
    barsWritten: 0,
  };
  /** Counts not yet reported to telemetry. */
  private unreported = { ticks: 0, parseErrors: 0, mockSkipped: 0, droppedBars: 0 };
  private lastFlushLatencyMs: number | null = null;
  private lastDropAt: number | null = null;
  private stopped = false;

  constructor(private readonly opts: TickIngestorOptions) {
    this.aggregator = new BarAggregator({ lagMs: opts.lagMs, lateGraceMs: opts.lateGraceMs });
    this.writer = new BarWriter({
      db: opts.db,
      clock: opts.clock,
      logger: opts.logger,
      capacity: opts.queueCapacity,
      batchSize: opts.batchSize,
      rollups: opts.rollups,
      onWritten: (b) => this.written(b),
      onDropped: (n) => {
        this.lastDropAt = opts.clock.now();
        if (this.c.droppedBars === 0)
          opts.logger.error({ capacity: this.writer.capacity }, 'bar queue full: new bars are being dropped (database too slow or down)');
        this.c.droppedBars += n;
        this.unreported.droppedBars += n;
      },
    });
    this.lastPartialAt = opts.clock.now();
  }

  /** Subscribes to the feed channels and starts the loop. */
  start(): void {
    const { bus } = this.opts;
    this.unsubscribers.push(bus.subscribe(CHANNEL_OPTIONS, (m) => this.onOptionMessage(m)));
    this.unsubscribers.push(bus.subscribe(CHANNEL_UNDERLYING, (m) => this.onUnderlyingMessage(m)));
    const every = this.opts.loopEveryMs ?? 250;
    this.timer = setInterval(() => this.step(), every);
    this.timer.unref?.();
  }

  private parseError(channel: string, error: string, message: string): void {
    this.c.parseErrors++;
    this.unreported.parseErrors++;
    this.sampledErrors++;
    const now = this.opts.clock.now();
    if (now - this.lastSampleAt >= SAMPLE_EVERY_MS) {
      this.opts.logger.warn({ channel, error, sample: message.slice(0, 300), skippedSinceLastSample: this.sampledErrors }, 'unparseable feed message skipped');
      this.lastSampleAt = now;
      this.sampledErrors = 0;
    }
  }

  onOptionMessage(message: string): void {
    const now = this.opts.clock.now();
    const r = parseOptionMessage(message, now, { sourceGreeks: this.opts.sourceGreeks });
    if (!r.ok) {
      if (r.ignored === 'index_row') {
        // Not an option: counted apart from parse errors, and its price taken as the index level (the only live
        // level of most indices outside the session at the real service).
        this.c.indexRowsSkipped++;
        if (r.index) this.addIndexLevel(r.index, now);
        else this.aggregator.noteSeen(null, now);
        return;
      }
      this.parseError(CHANNEL_OPTIONS, r.error, message);
      return;
    }
    const t = r.tick;
    this.c.ticks++;
    this.c.optionTicks++;
    this.unreported.ticks++;
    if (t.tsAdjusted) this.c.tsAdjusted++;
    this.opts.monitor?.noteTick(CHANNEL_OPTIONS, t.token, now);
    this.aggregator.noteSeen(t.token, Math.min(now, t.tsMs));
    const mock = t.isMock || (this.opts.inSession !== undefined && !this.opts.inSession(t.tsMs));
    if (mock && !this.opts.acceptMockTicks) {
      this.c.mockSkipped++;
      this.unreported.mockSkipped++;
      return;
    }
    if (this.opts.acceptTickAt && !this.opts.acceptTickAt(t.tsMs)) {
      this.c.outsideSession++;
      return;
    }
    if (this.aggregator.addOptionTick(t, now)) this.noteFirstData(t.token, now);
  }

  onUnderlyingMessage(message: string): void {
    const now = this.opts.clock.now();
    const r = parseUnderlyingMessage(message, now);
    if (!r.ok) {
      this.parseError(CHANNEL_UNDERLYING, r.error, message);
      return;
    }
    this.opts.monitor?.noteTick(CHANNEL_UNDERLYING, this.indexTokenOf(r.tick), now);
    this.addIndexLevel(r.tick, now);
  }

  private indexTokenOf(t: UnderlyingTick): number | null {
    if (t.token !== null) this.learnedIndexTokens.set(t.symbol, t.token);
    return t.token ?? this.learnedIndexTokens.get(t.symbol) ?? this.opts.indexToken?.(t.symbol) ?? KNOWN_INDEX_TOKENS[t.symbol] ?? null;
  }

  private addIndexLevel(t: UnderlyingTick, now: number): void {
    this.c.ticks++;
    this.c.underlyingTicks++;
    this.unreported.ticks++;
    if (t.tsAdjusted) this.c.tsAdjusted++;
    const token = this.indexTokenOf(t);
    this.aggregator.noteSeen(token, Math.min(now, t.tsMs));
    if (this.opts.acceptTickAt && !this.opts.acceptTickAt(t.tsMs)) {
      this.c.outsideSession++;
      return;
    }
    if (this.aggregator.addUnderlyingTick(t, token, now) && token !== null) this.noteFirstData(token, now);
  }

  /** A token without stored data (new, or forgotten after an unsubscribe) gets its partial bar written at once. */
  private noteFirstData(token: number, now: number): void {
    if (this.opts.signals.firstDataAt(token) !== undefined) return;
    const queuedAt = this.firstPending.get(token);
    if (queuedAt !== undefined && now - queuedAt < 10_000) return;
    this.firstData.add(token);
  }

  private enqueue(e: Emission, optional = false): void {
    if (e.strike.length || e.instruments.length) this.writer.enqueue(e.strike, e.instruments, { optional });
  }

  /** One loop step at the clock's now: due flush, partial bars, telemetry. Public so tests can drive it. */
  step(): void {
    const now = this.opts.clock.now();
    const due = this.aggregator.collectDue(now);
    this.enqueue(due);
    if (this.firstData.size) {
      const tokens = new Set(this.firstData);
      this.firstData.clear();
      for (const t of tokens) this.firstPending.set(t, now);
      this.enqueue(this.aggregator.collectPartial(tokens), true);
    }
    const partialEvery = this.opts.partialEveryMs ?? 10_000;
    if (partialEvery > 0 && now - this.lastPartialAt >= partialEvery) {
      this.lastPartialAt = now;
      this.enqueue(this.aggregator.collectPartial(), true);
    }
    this.report();
  }

  private report(): void {
    const u = this.unreported;
    if (u.ticks || u.parseErrors || u.mockSkipped || u.droppedBars) {
      this.opts.telemetry.ingest({ ticks: u.ticks, parseErrors: u.parseErrors, mockSkipped: u.mockSkipped, droppedBars: u.droppedBars });
      this.unreported = { ticks: 0, parseErrors: 0, mockSkipped: 0, droppedBars: 0 };
    }
    this.opts.telemetry.gauge('ingest_queue_depth', this.writer.depth);
  }

  private written(b: WrittenBatch): void {
    this.c.barsWritten += b.bars;
    this.opts.telemetry.ingest({ barsWritten: b.bars });
    // Tick-to-stored latency at the flush: from the end of the newest complete bucket (its last tick) to the
    // end of the write. A backlog (a stalled database) shows up here as a large number, which is the point.
    if (b.batch.newestCompleteBucket !== null) this.lastFlushLatencyMs = Math.max(0, b.at - (b.batch.newestCompleteBucket + 60_000));
    this.opts.signals.stored(b.tokens, b.at);
    for (const token of b.tokens) this.firstPending.delete(token);
    for (const symbol of b.symbols) this.opts.push?.publish('chain:changed', symbol);
    this.opts.onWritten?.(b);
  }

  stats(): IngestStats {
    const a = this.aggregator.stats();
    const w = this.writer.stats();
    return {
      ...this.c,
      lastDropAt: this.lastDropAt,
      lateMerged: a.lateMerged,
      lateDropped: a.lateDropped,
      instruments: a.instruments,
      queueDepth: w.depth,
      queueCapacity: w.capacity,
      writeFailures: w.failures,
      lastWriteError: w.lastError,
      lastWriteAt: w.lastWriteAt,
      lastFlushLatencyMs: this.lastFlushLatencyMs,
    };
  }

  /**
   * Stops intake, flushes every bucket (due ones complete, the current one partial, complete=false) and waits up
   * to `timeoutMs` for the writer. Returns false when bars were left unwritten.
   */
  async stop(timeoutMs = 5_000): Promise<boolean> {
    if (this.stopped) return true;
    this.stopped = true;
    for (const u of this.unsubscribers.splice(0)) u();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.enqueue(this.aggregator.collectDue(this.opts.clock.now(), true));
    this.report();
    const ok = await this.writer.close(timeoutMs);
    if (!ok) this.opts.logger.warn({ depth: this.writer.depth }, 'ingest stopped with bars unwritten (database too slow)');
    return ok;
  }
}
