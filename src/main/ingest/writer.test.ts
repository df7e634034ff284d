// The decoupled writer against a real database that stalls or fails: the reader keeps reading, nothing is lost
// once the database is back, a full queue refuses the newest bars (counted, reported) and keeps the oldest, and a
// failed write is retried until it lands.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { CHANNEL_OPTIONS, InProcessBus } from '../../shared/feed';
import { istInstant } from '../calendar';
import { silentLogger } from '../log';
import { DataSignals } from '../market/data-signals';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import { TickIngestor } from './ingestor';
import { expectedOptionBars, optionMessage, type TestOptionTick } from './testing/support';

const T0 = istInstant('2025-11-03', 9, 15);
const EXPIRY = '2025-11-25';

/** `tokens` call options ticking every other second for `minutes` minutes from 09:15. */
function ticks(tokens: number, minutes: number, firstToken = 3000): TestOptionTick[] {
  const out: TestOptionTick[] = [];
  for (let s = 0; s < minutes * 60; s++) {
    for (let k = 0; k < tokens; k++) {
      if ((s + k) % 2) continue;
      out.push({
        token: firstToken + k,
        symbol: 'NIFTY',
        expiry: EXPIRY,
        strike: 24000 + 50 * k,
        type: 'CE',
        price: 100 + k + (s % 7),
        volume: 75 * (s + 1) * (k + 1),
        oi: 1000 + s,
        iv: 0.1 + k / 1000,
        delta: 0.5,
        gamma: 0.001,
        theta: -5,
        vega: 10,
        ts: T0 / 1000 + s,
      });
    }
  }
  return out;
}

describe.each(testBackends())('bar writer on %s', (backend) => {
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb(backend);
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    await t.db.exec('DELETE FROM fo_strike_bars; DELETE FROM instrument_bars;');
  });

  function setup(opts: { queueCapacity?: number; telemetry?: Telemetry } = {}) {
    const clock = new ManualClock(T0);
    const bus = new InProcessBus();
    const ingestor = new TickIngestor({
      bus,
      db: t.db,
      clock,
      signals: new DataSignals(),
      telemetry: opts.telemetry ?? noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: true,
      partialEveryMs: 0,
      queueCapacity: opts.queueCapacity,
    });
    ingestor.start();
    /** Publishes the ticks of each second at that second and runs the loop as the wall clock passes. */
    const play = (list: TestOptionTick[]) => {
      for (const tick of list) {
        if (tick.ts * 1000 > clock.now()) {
          clock.set(tick.ts * 1000 + 100);
          ingestor.step();
        }
        bus.publish(CHANNEL_OPTIONS, optionMessage(tick));
      }
    };
    return { clock, ingestor, play };
  }

  it('keeps reading while the database is stalled (a table lock) and loses no bar once it is back', async () => {
    const { clock, ingestor, play } = setup();
    const all = ticks(40, 6);
    const firstMinute = all.filter((x) => x.ts < T0 / 1000 + 60);
    play(firstMinute);
    clock.set(T0 + 62_500);
    ingestor.step();
    expect(await ingestor.writer.drain()).toBe(true);

    // Stall: another session holds an exclusive lock on the bar tables until released.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockHeld = new Promise<void>((r) => (locked = r));
    const holder = t.db.transaction(async (tx) => {
      await tx.query('LOCK TABLE fo_strike_bars, instrument_bars IN ACCESS EXCLUSIVE MODE');
      locked();
      await released;
    });
    await lockHeld;
    const ticksBefore = ingestor.stats().ticks;
    const rest = all.filter((x) => x.ts >= T0 / 1000 + 60);
    play(rest);
    clock.set(T0 + 6 * 60_000 + 2_500);
    ingestor.step();
    // The reader took every tick while the writer waited on the lock; bars are waiting, none dropped.
    expect(ingestor.stats().ticks - ticksBefore).toBe(rest.length);
    expect(ingestor.writer.depth).toBe(40 * 5);
    expect(await ingestor.writer.drain(300)).toBe(false);
    expect(ingestor.stats().droppedBars).toBe(0);

    release();
    await holder;
    expect(await ingestor.writer.drain(15_000)).toBe(true);
    const expected = expectedOptionBars(all, []);
    const rows = await t.db.query<{
      call_token: number;
      bucket: Date;
      call_volume: number | null;
      call_oi: number;
      call_close: number;
      call_complete: boolean;
    }>('SELECT call_token, bucket, call_volume, call_oi, call_close, call_complete FROM fo_strike_bars WHERE timeframe = 1');
    expect(rows.length).toBe(expected.size);
    for (const r of rows) {
      const e = expected.get(`${r.call_token}|${r.bucket.getTime()}`);
      expect({ volume: r.call_volume, oi: r.call_oi, close: r.call_close, complete: r.call_complete }).toEqual({
        volume: e?.volume,
        oi: e?.oi,
        close: e?.close,
        complete: e?.complete,
      });
    }
    await ingestor.stop();
  });

  it('when the queue is full, refuses the newest bars, counts and reports them, and keeps the oldest', async () => {
    const reported: number[] = [];
    const telemetry: Telemetry = { ...noopTelemetry, ingest: (c) => c.droppedBars && reported.push(c.droppedBars) };
    const { clock, ingestor, play } = setup({ queueCapacity: 30, telemetry });
    ingestor.writer.pause();
    play(ticks(20, 3, 4000));
    clock.set(T0 + 3 * 60_000 + 2_500);
    ingestor.step();
    expect(ingestor.writer.depth).toBe(30);
    expect(ingestor.stats().droppedBars).toBe(30);
    expect(reported.reduce((a, b) => a + b, 0)).toBe(30);
    ingestor.writer.resume();
    expect(await ingestor.writer.drain(15_000)).toBe(true);
    const perMinute = await t.db.query<{ bucket: Date; n: number }>(
      'SELECT bucket, count(*)::int AS n FROM fo_strike_bars WHERE timeframe = 1 GROUP BY bucket ORDER BY bucket',
    );
    expect(perMinute.map((r) => [r.bucket.getTime() - T0, r.n])).toEqual([
      [0, 20],
      [60_000, 10],
    ]);
    await ingestor.stop();
  });

  it('retries a failed write (the table is briefly gone) until it lands', async () => {
    const { clock, ingestor, play } = setup();
    play(ticks(5, 1, 5000));
    await t.db.exec('ALTER TABLE fo_strike_bars RENAME TO fo_strike_bars_away');
    clock.set(T0 + 62_500);
    ingestor.step();
    await expect.poll(() => ingestor.stats().writeFailures, { message: 'two failed writes', timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(ingestor.stats().lastWriteError).toMatch(/fo_strike_bars/);
    await t.db.exec('ALTER TABLE fo_strike_bars_away RENAME TO fo_strike_bars');
    expect(await ingestor.writer.drain(15_000)).toBe(true);
    const rows = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM fo_strike_bars WHERE timeframe = 1');
    expect(rows[0].n).toBe(5);
    await ingestor.stop();
  });
});
