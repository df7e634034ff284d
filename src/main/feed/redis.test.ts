// End to end over a real redis-server: the devticker PUBLISHes on Redis (and on its in-process bus), the Redis
// FeedBus feeds the ingestor, and the stored bars equal those aggregated from the in-process copy of the same
// ticks. Then the Redis connection is cut and restored: the bus reconnects with backoff and resubscribes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { CHANNEL_OPTIONS, CHANNEL_UNDERLYING } from '../../shared/feed';
import { startDevTicker, type DevTicker } from '../../devticker';
import { fromIstWallClock } from '../calendar';
import { BarAggregator } from '../ingest/aggregate';
import { TickIngestor } from '../ingest/ingestor';
import { parseOptionMessage, parseUnderlyingMessage } from '../ingest/parse';
import { silentLogger } from '../log';
import { DataSignals } from '../market/data-signals';
import { createTestMarketDb, type TestMarketDb } from '../market/testing/db';
import { noopTelemetry } from '../metrics/telemetry';
import { reconnectDelay, RedisFeedBus } from './redis-bus';
import { redisSkipReason, startTestRedis, type TestRedis } from './testing/redis';

const skip = redisSkipReason();
if (skip) process.stdout.write(`redis.test.ts (feed) skipped: ${skip}\n`);

describe('reconnect backoff', () => {
  it('doubles from the base, is capped, and jitters within +-20%', () => {
    expect(reconnectDelay(1, 200, 10_000, () => 0.5)).toBe(200);
    expect(reconnectDelay(4, 200, 10_000, () => 0.5)).toBe(1600);
    expect(reconnectDelay(50, 200, 10_000, () => 0.5)).toBe(10_000);
    expect(reconnectDelay(3, 200, 10_000, () => 0)).toBe(640);
    expect(reconnectDelay(3, 200, 10_000, () => 0.999999)).toBeLessThanOrEqual(960);
  });
});

describe.skipIf(skip !== null)('feed over Redis', () => {
  let redis: TestRedis;
  let t: TestMarketDb;
  let dt: DevTicker;
  const clock = new ManualClock(fromIstWallClock('2025-11-04T10:00:00'));

  beforeAll(async () => {
    redis = (await startTestRedis()) as TestRedis;
    t = await createTestMarketDb('pglite');
    dt = await startDevTicker({ port: 0, clock, autoTick: false, clockMode: 'real', redisUrl: redis.url });
    await dt.redisReady();
  });
  afterAll(async () => {
    await dt?.close();
    await t?.close();
    await redis?.stop();
  });

  it('stores from Redis exactly the bars the same ticks make in process', async () => {
    const bus = new RedisFeedBus({ url: redis.url, logger: silentLogger });
    const signals = new DataSignals();
    const ingestor = new TickIngestor({
      bus,
      db: t.db,
      clock,
      signals,
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks: true,
      partialEveryMs: 0,
    });
    ingestor.start();
    await bus.ready();

    // The reference: the in-process copy of the same publications, aggregated directly.
    const ref = new BarAggregator();
    let refTicks = 0;
    dt.bus.subscribe(CHANNEL_OPTIONS, (m) => {
      const r = parseOptionMessage(m, clock.now());
      if (r.ok && ref.addOptionTick(r.tick, clock.now())) refTicks++;
    });
    dt.bus.subscribe(CHANNEL_UNDERLYING, (m) => {
      const r = parseUnderlyingMessage(m, clock.now());
      if (r.ok && ref.addUnderlyingTick(r.tick, 256265, clock.now())) refTicks++;
    });

    const spot = dt.sim.underlyingPrice('NIFTY');
    const expiry = dt.registry.expiries('NIFTY')[0];
    const chain = dt.registry.chain('NIFTY', expiry).filter((i) => Math.abs(i.strike - spot) <= 300);
    const fut = dt.registry.live.find((i) => i.name === 'NIFTY' && i.instrumentType === 'FUT');
    expect(chain.length).toBeGreaterThan(10);
    dt.sim.subscribe([...chain.map((i) => i.token), ...(fut ? [fut.token] : [])]);

    for (let s = 0; s < 150; s++) {
      dt.sim.tick();
      await expect.poll(() => ingestor.stats().ticks, { message: `tick ${s} over Redis` }).toBe(refTicks);
      clock.advance(1000);
      ingestor.step();
    }
    clock.advance(65_000);
    ingestor.step();
    expect(await ingestor.writer.drain(15_000)).toBe(true);
    expect(ingestor.stats()).toMatchObject({ parseErrors: 0, droppedBars: 0 });

    const expected = ref.collectDue(clock.now(), true);
    expect(expected.strike.length).toBeGreaterThan(chain.length * 2);
    const rows = await t.db.query<Record<string, unknown> & { strike: number; bucket: Date; underlying_close: number | null }>(
      'SELECT * FROM fo_strike_bars WHERE timeframe = 1',
    );
    const stored = new Map<string, Record<string, unknown>>();
    for (const row of rows) {
      for (const p of ['call', 'put'] as const) {
        if (row[`${p}_token`] === null) continue;
        stored.set(`${row[`${p}_token`]}|${row.bucket.getTime()}`, {
          oi: row[`${p}_oi`],
          volume: row[`${p}_volume`],
          close: row[`${p}_close`],
          open: row[`${p}_open`],
          ticks: row[`${p}_ticks`],
          iv: row[`${p}_iv`],
          delta: row[`${p}_delta`],
          complete: row[`${p}_complete`],
          underlyingClose: row.underlying_close,
        });
      }
    }
    expect(stored.size).toBe(expected.strike.length);
    for (const e of expected.strike) {
      expect(stored.get(`${e.token}|${e.bucket}`), `${e.token} ${new Date(e.bucket).toISOString()}`).toEqual({
        oi: e.oi,
        volume: e.volume,
        close: e.close,
        open: e.open,
        ticks: e.ticks,
        iv: e.iv,
        delta: e.delta,
        complete: e.complete,
        underlyingClose: e.underlyingClose,
      });
    }
    const instruments = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM instrument_bars WHERE timeframe = 1');
    expect(instruments[0].n).toBe(expected.instruments.length);
    for (const i of chain) expect(signals.firstDataAt(i.token)).toBeTypeOf('number');
    dt.sim.unsubscribe(dt.sim.streamingTokens());
    await ingestor.stop();
    await bus.close();
  });

  it('reconnects after Redis goes away and resubscribes its channels', async () => {
    const bus = new RedisFeedBus({ url: redis.url, logger: silentLogger, baseBackoffMs: 20, maxBackoffMs: 200 });
    const got: string[] = [];
    bus.subscribe(CHANNEL_UNDERLYING, (m) => got.push(m));
    await bus.ready();
    bus.publish(CHANNEL_UNDERLYING, 'before');
    await expect.poll(() => got.includes('before'), { message: 'delivery before the outage' }).toBeTruthy();

    await redis.stop();
    await expect.poll(() => bus.status().state, { message: 'the bus to notice the outage' }).toBe('reconnecting');
    await redis.restart();
    await expect.poll(() => bus.status().state, { message: 'reconnection', timeout: 10_000 }).toBe('ready');
    expect(bus.status().reconnects).toBeGreaterThan(0);
    expect(bus.status().lastError).toBeNull();
    // Publish until delivered: the resubscription races the first publish after reconnect.
    await expect
      .poll(
        () => {
          bus.publish(CHANNEL_UNDERLYING, 'after');
          return got.includes('after');
        },
        { message: 'delivery after the reconnect', timeout: 5000, interval: 50 },
      )
      .toBe(true);
    await bus.close();
    expect(bus.status().state).toBe('closed');
    await dt.redisReady();
  });
});
