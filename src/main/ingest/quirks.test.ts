// Ingest rules for the real service's habits, through the TickIngestor into the market store: mock ticks recognised
// by the session calendar (not the is_mock flag) with STRIKEDESK_ACCEPT_MOCK_TICKS deciding, a quiet strike's first
// traded minute counted from 0 when the feed and the token were watched since before the open, and not otherwise.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { CHANNEL_OPTIONS, InProcessBus } from '../../shared/feed';
import { HolidayCalendar, istInstant } from '../calendar';
import { silentLogger } from '../log';
import { DataSignals } from '../market/data-signals';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import { noopTelemetry } from '../metrics/telemetry';
import { TickIngestor } from './ingestor';
import { effectiveSourceGreeks } from './start';
import { optionMessage, type TestOptionTick } from './testing/support';

const OPEN = istInstant('2025-11-04', 9, 15);
const EXPIRY = '2025-11-25';
const calendar = HolidayCalendar.weekendsOnly();

describe('greek units of the tick source', () => {
  it('the embedded devticker says which units it publishes; a real service follows STRIKEDESK_SOURCE_GREEKS', () => {
    type Ctx = Parameters<typeof effectiveSourceGreeks>[0];
    const devticker = (scaled: boolean) => ({ sim: { faults: () => ({ quirkGreeksScaled: scaled }) } }) as unknown as Ctx['devticker'];
    const config = (sourceGreeks: 'scaled' | 'true') => ({ sourceGreeks }) as Ctx['config'];
    expect(effectiveSourceGreeks({ config: config('scaled'), devticker: devticker(false) })).toBe('true');
    expect(effectiveSourceGreeks({ config: config('true'), devticker: devticker(true) })).toBe('scaled');
    expect(effectiveSourceGreeks({ config: config('true'), devticker: undefined })).toBe('true');
    expect(effectiveSourceGreeks({ config: config('scaled'), devticker: undefined })).toBe('scaled');
  });
});

describe.each(testBackends())('ingest quirks on %s', (backend) => {
  let t: TestMarketDb;
  beforeAll(async () => {
    t = await createTestMarketDb(backend);
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    await t.db.exec('DELETE FROM fo_strike_bars; DELETE FROM instrument_bars;');
  });

  const make = (clock: ManualClock, acceptMockTicks: boolean) => {
    const bus = new InProcessBus();
    const ingestor = new TickIngestor({
      bus,
      db: t.db,
      clock,
      signals: new DataSignals(),
      telemetry: noopTelemetry,
      logger: silentLogger,
      acceptMockTicks,
      inSession: (ms) => calendar.isInSession(ms),
      sourceGreeks: 'true',
      partialEveryMs: 0,
    });
    ingestor.start();
    return { ingestor, bus };
  };
  const tick = (over: Partial<TestOptionTick>): TestOptionTick => ({
    token: 501,
    symbol: 'NIFTY',
    expiry: EXPIRY,
    strike: 25_000,
    type: 'CE',
    price: 10,
    volume: 0,
    oi: 1000,
    iv: 0.2,
    delta: 0.5,
    gamma: 0.001,
    theta: -5,
    vega: 10,
    ts: OPEN / 1000,
    isMock: false,
    ...over,
  });

  it('off-session ticks flagged is_mock false are mock by the calendar: skipped, or stored when accepted', async () => {
    for (const accept of [false, true]) {
      await t.db.exec('DELETE FROM fo_strike_bars');
      const clock = new ManualClock(OPEN - 120_000);
      const { ingestor, bus } = make(clock, accept);
      bus.publish(CHANNEL_OPTIONS, optionMessage(tick({ ts: (OPEN - 110_000) / 1000 })));
      clock.set(OPEN + 1_000);
      bus.publish(CHANNEL_OPTIONS, optionMessage(tick({ ts: OPEN / 1000, price: 11 })));
      clock.set(OPEN + 65_000);
      ingestor.step();
      await ingestor.writer.drain();
      expect(ingestor.stats()).toMatchObject({ mockSkipped: accept ? 0 : 1, parseErrors: 0 });
      const rows = await t.db.query<{ bucket: Date; call_close: number }>('SELECT bucket, call_close FROM fo_strike_bars WHERE timeframe = 1 ORDER BY bucket');
      expect(rows.map((r) => r.call_close)).toEqual(accept ? [10, 11] : [11]);
      await ingestor.stop();
    }
  });

  it('a quiet strike watched since before the open: its first traded minute counts from 0; one first seen later stays unknown', async () => {
    const clock = new ManualClock(OPEN - 60_000);
    const { ingestor, bus } = make(clock, false);
    // Pre-open mock ticks (skipped) show the feed up and both tokens watched... only 501 is subscribed before the open.
    bus.publish(CHANNEL_OPTIONS, optionMessage(tick({ ts: (OPEN - 50_000) / 1000 })));
    // The feed stays up: another instrument ticks every minute.
    for (let m = 0; m <= 47; m++) {
      clock.set(OPEN + m * 60_000 + 500);
      bus.publish(CHANNEL_OPTIONS, optionMessage(tick({ token: 900, strike: 25_500, ts: (OPEN + m * 60_000) / 1000, volume: 75 * (m + 1) })));
      ingestor.step();
    }
    // 10:02: the quiet 501 trades for the first time (cumulative 750); 502, first seen at 10:01, trades too.
    clock.set(OPEN + 46 * 60_000 + 1_000);
    bus.publish(CHANNEL_OPTIONS, optionMessage(tick({ token: 502, strike: 25_050, ts: (OPEN + 46 * 60_000) / 1000, volume: 0 })));
    clock.set(OPEN + 47 * 60_000 + 1_000);
    bus.publish(CHANNEL_OPTIONS, optionMessage(tick({ ts: (OPEN + 47 * 60_000) / 1000, volume: 750 })));
    bus.publish(CHANNEL_OPTIONS, optionMessage(tick({ token: 502, strike: 25_050, ts: (OPEN + 47 * 60_000) / 1000, volume: 1500 })));
    clock.set(OPEN + 48 * 60_000 + 3_000);
    ingestor.step();
    await ingestor.writer.drain();
    const rows = await t.db.query<{ strike: number; call_volume: number | null; call_complete: boolean }>(
      'SELECT strike, call_volume, call_complete FROM fo_strike_bars WHERE timeframe = 1 AND bucket = $1 ORDER BY strike',
      [new Date(OPEN + 47 * 60_000).toISOString()],
    );
    expect(rows).toEqual([
      { strike: 25_000, call_volume: 750, call_complete: true },
      // 502's earlier minute reported no volume: no baseline, so its first traded minute is unknown (backfill fills it).
      { strike: 25_050, call_volume: null, call_complete: false },
      { strike: 25_500, call_volume: 75, call_complete: true },
    ]);
    await ingestor.stop();
  });
});
