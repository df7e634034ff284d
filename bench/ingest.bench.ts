// Ingest throughput: ticks per second through parse + aggregate + write on one core, for 9000 instruments each
// ticking every second (the devticker's dense mode, full-mode messages with depth), crossing a minute boundary so
// the flush of 9000 complete bars (plus first-data and periodic partial snapshots) is inside the measurement.
// Target: >= 5x Kite's realistic peak of about 9000 ticks/s. Baseline measured in the same run: the legacy way,
// one row upsert per tick. Also reports the tick-to-stored latency at the flush.
// PGlite always (in process: the database shares the one core); PostgreSQL too when DATABASE_URL is set.
//   npm run bench:ingest            SECONDS=40 (simulated seconds in the measured run)
//   PROFILE=production npm run bench:ingest   the real service's quirks (volume 0, scaled greeks, receive-time ts)
import { fromIstWallClock } from '../src/main/calendar';
import { silentLogger } from '../src/main/log';
import { DataSignals } from '../src/main/market/data-signals';
import type { Queryable } from '../src/main/market/db';
import { createTestMarketDb, type TestMarketDb } from '../src/main/market/testing/db';
import { noopTelemetry } from '../src/main/metrics/telemetry';
import { TickIngestor } from '../src/main/ingest/ingestor';
import type { WrittenBatch } from '../src/main/ingest/writer';
import { ManualClock } from '../src/testing/clock';
import { CHANNEL_OPTIONS, CHANNEL_UNDERLYING, InProcessBus, type FeedChannel } from '../src/shared/feed';
import { startDevTicker } from '../src/devticker/index';

const SECONDS = Number(process.env.SECONDS ?? 40);
const INSTRUMENTS = 9000;
const KITE_PEAK = 9000;
const BASELINE_TICKS = Number(process.env.BASELINE_TICKS ?? 4000);

// ---- the ticks: made by the devticker one market second at a time, outside the measured time ----
// Each message goes through a Buffer, as it arrives from a socket: a flat string, not the devticker's rope.
const START = fromIstWallClock('2025-11-04T10:00:30');

interface Second {
  at: number;
  msgs: { channel: FeedChannel; message: string }[];
}

async function tickSource(): Promise<{ next(): Second; close(): Promise<void> }> {
  const clock = new ManualClock(START);
  const production = process.env.PROFILE === 'production';
  const dt = await startDevTicker({
    port: 0,
    clock,
    autoTick: false,
    strikesPerSide: 200,
    denseTicks: true,
    clockMode: 'always-open',
    faults: production ? { quirkVolumeZero: true, quirkTsReceiveTime: true, quirkGreeksScaled: true, quirkIsMockFalse: true } : undefined,
  });
  const tokens = dt.registry.live
    .filter((i) => i.kind === 'option')
    .slice(0, INSTRUMENTS)
    .map((i) => i.token);
  if (tokens.length < INSTRUMENTS) throw new Error(`devticker lists only ${tokens.length} options`);
  dt.sim.subscribe(tokens);
  let captured: Second['msgs'] = [];
  dt.bus.subscribe(CHANNEL_OPTIONS, (m) => captured.push({ channel: CHANNEL_OPTIONS, message: Buffer.from(m).toString() }));
  dt.bus.subscribe(CHANNEL_UNDERLYING, (m) => captured.push({ channel: CHANNEL_UNDERLYING, message: Buffer.from(m).toString() }));
  return {
    next() {
      captured = [];
      dt.sim.tick();
      const at = clock.now();
      clock.advance(1000);
      return { at, msgs: captured };
    },
    close: () => dt.close(),
  };
}
let totalTicks = 0;
let bytes = 0;

const yieldToWriter = () => new Promise<void>((r) => setImmediate(r));

async function runIngestor(db: Queryable): Promise<{ ticksPerSecond: number; wallMs: number; barsWritten: number; flushWriteMs: number; flushBars: number }> {
  const source = await tickSource();
  const clock = new ManualClock(START);
  const bus = new InProcessBus();
  // Flush latency: from the step that finds the minute due to the confirmed write of its complete bars.
  let dueAt = 0;
  let flushWriteMs = -1;
  let flushBars = 0;
  let genSinceDue = 0;
  const firstMinute = Math.floor(START / 60_000) * 60_000;
  const firstMinuteEnd = firstMinute + 60_000;
  const onWritten = (b: WrittenBatch) => {
    // After the due step, only the flush itself writes bars of the first minute (its first-observed minute, so
    // they are complete=false by the volume rule; the write is the same).
    if (dueAt > 0 && b.batch.oldestBucket === firstMinute) {
      flushBars += b.bars;
      // Tick generation between the due step and now is not the ingestor's time.
      flushWriteMs = performance.now() - dueAt - genSinceDue;
    }
  };
  const ingestor = new TickIngestor({
    bus,
    db,
    clock,
    signals: new DataSignals(),
    telemetry: noopTelemetry,
    logger: silentLogger,
    acceptMockTicks: true,
    onWritten,
  });
  ingestor.start();
  const origStep = ingestor.step.bind(ingestor);
  let generationMs = 0;
  totalTicks = 0;
  bytes = 0;
  // The baseline replays the first ticks of this run.
  baselineSample.length = 0;
  const t0 = performance.now();
  for (let i = 0; i < SECONDS; i++) {
    const g0 = performance.now();
    const sec = source.next();
    totalTicks += sec.msgs.length;
    for (const m of sec.msgs) {
      bytes += m.message.length;
      if (baselineSample.length < BASELINE_TICKS && m.channel === CHANNEL_OPTIONS) baselineSample.push(m.message);
    }
    generationMs += performance.now() - g0;
    if (dueAt > 0 && flushWriteMs < 0) genSinceDue += performance.now() - g0;
    clock.set(sec.at);
    for (const { channel, message } of sec.msgs) bus.publish(channel, message);
    clock.set(sec.at + 250);
    if (dueAt === 0 && clock.now() >= firstMinuteEnd + ingestor.aggregator.lagMs) dueAt = performance.now();
    origStep();
    await yieldToWriter();
  }
  if (!(await ingestor.writer.drain(120_000))) throw new Error('writer did not drain');
  const wallMs = performance.now() - t0 - generationMs;
  const stats = ingestor.stats();
  await ingestor.stop();
  await source.close();
  if (stats.parseErrors || stats.droppedBars) throw new Error(`parse errors ${stats.parseErrors}, dropped ${stats.droppedBars}`);
  return { ticksPerSecond: (totalTicks / wallMs) * 1000, wallMs, barsWritten: stats.barsWritten, flushWriteMs, flushBars };
}

/** The legacy consumer's shape: parse, then one upsert statement per tick (no aggregation in memory). */
const baselineSample: string[] = [];

async function runBaseline(db: Queryable): Promise<number> {
  const flat = baselineSample.map((message) => ({ message }));
  const sql = `INSERT INTO fo_strike_bars AS b (timeframe, symbol, expiry, strike, bucket, call_token, call_oi, call_volume, call_close, call_iv, call_ticks, call_source, call_complete)
    VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, 1, 'live', false)
    ON CONFLICT (timeframe, symbol, expiry, strike, bucket) DO UPDATE SET
      call_oi = COALESCE(b.call_oi, 0) + EXCLUDED.call_oi, call_volume = COALESCE(b.call_volume, 0) + EXCLUDED.call_volume,
      call_close = COALESCE(b.call_close, EXCLUDED.call_close), call_iv = EXCLUDED.call_iv, call_ticks = COALESCE(b.call_ticks, 0) + 1`;
  await db.exec('DELETE FROM fo_strike_bars');
  const t0 = performance.now();
  for (const { message } of flat) {
    const m = JSON.parse(message) as {
      symbol: string;
      expiry: string;
      strike: number;
      token: number;
      oi: number;
      volume: number;
      price: number;
      iv: number;
      ts: number;
      type: string;
    };
    // The legacy table kept both sides in one row too; the side does not change the cost.
    await db.query(sql, [
      m.symbol,
      m.expiry,
      m.strike + (m.type === 'PE' ? 0.5 : 0),
      new Date(Math.floor(m.ts / 60) * 60_000).toISOString(),
      m.token,
      m.oi,
      m.volume,
      m.price,
      m.iv,
    ]);
  }
  return (flat.length / (performance.now() - t0)) * 1000;
}

const backends: ('pglite' | 'postgres')[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
console.log(`ingest benchmark: ${INSTRUMENTS} instruments ticking every second, ${SECONDS} market seconds across a minute boundary, one Node thread`);
for (const backend of backends) {
  let t: TestMarketDb | null = null;
  try {
    t = await createTestMarketDb(backend);
    const ours = await runIngestor(t.db);
    const baseline = await runBaseline(t.db);
    const ratio = ours.ticksPerSecond / baseline;
    console.log(
      `\n[${backend}]${backend === 'postgres' ? ' (server in its own processes)' : ' (database in the same thread)'}: ${totalTicks} ticks, ${(bytes / totalTicks).toFixed(0)} bytes/tick avg`,
    );
    console.log(
      `  strikedesk ingest: ${Math.round(ours.ticksPerSecond).toLocaleString('en')} ticks/s (${totalTicks} ticks in ${(ours.wallMs / 1000).toFixed(2)} s, ${ours.barsWritten} bars written incl. partial snapshots)`,
    );
    console.log(`  baseline (legacy, one upsert per tick, first ${BASELINE_TICKS} ticks): ${Math.round(baseline).toLocaleString('en')} ticks/s`);
    console.log(`  ratio vs baseline: ${ratio.toFixed(1)}x`);
    console.log(
      `  vs Kite peak ${KITE_PEAK} ticks/s: ${(ours.ticksPerSecond / KITE_PEAK).toFixed(1)}x (target >= 5x: ${ours.ticksPerSecond >= 5 * KITE_PEAK ? 'met' : 'NOT met'})`,
    );
    console.log(
      `  flush: the minute's bars all stored ${ours.flushWriteMs.toFixed(0)} ms after the minute was due (batches of ${ours.flushBars} bars incl. snapshots queued ahead), while ticks kept arriving;`,
    );
    console.log(
      `  tick-to-stored-bar latency at the flush = 2 s lag + <= 0.25 s loop + ${ours.flushWriteMs.toFixed(0)} ms write = ${((2000 + 250 + ours.flushWriteMs) / 1000).toFixed(2)} s worst case`,
    );
  } finally {
    await t?.close();
  }
}
