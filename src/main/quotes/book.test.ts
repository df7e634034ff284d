// The latest-tick book against the real service's messages (fixtures/ticker-service/redis-options.txt): live-tick
// depth 100 times too small is rescaled, mock-mode depth (right already) is not, NaN fields do not lose the tick,
// ticks without depth answer no depth, and the nearest future is the first listed on or after today.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_TOKENS, nearestFuture, readDepth, TickBook } from './book';

const FIXTURE = readFileSync(resolve(__dirname, '../../../fixtures/ticker-service/redis-options.txt'), 'utf8').split('\n').filter(Boolean);

describe('the latest-tick book on the real service’s messages', () => {
  const book = new TickBook(() => Date.UTC(2025, 10, 4, 6, 52, 40));
  for (const line of FIXTURE) book.hold(line);

  it('rescales live-tick depth (price / 100) to the premium', () => {
    const q = book.quote(13660418);
    expect(q).toMatchObject({
      tradingsymbol: 'NIFTY25NOV24500CE',
      ltp: 589.4,
      at: new Date(1762239154 * 1000).toISOString(),
      depthRescaled: true,
      totalBuyQuantity: 123450,
      totalSellQuantity: 98700,
    });
    expect(q.depth).toEqual({ buy: [{ price: 589.35, quantity: 75, orders: 3 }], sell: [{ price: 589.45, quantity: 150, orders: 2 }] });
  });

  it('keeps a tick with NaN greeks; empty depth is no depth', () => {
    const q = book.quote(13660674);
    expect(q).toMatchObject({ ltp: 12.35, depth: null, depthRescaled: false, totalBuyQuantity: 0 });
  });

  it('a future without depth (not FULL mode) has its price and no depth', () => {
    expect(book.quote(13238786)).toMatchObject({ tradingsymbol: 'NIFTY25NOVFUT', ltp: 25601.2, depth: null });
  });

  it('a tick time ahead of the console clock, zero or missing is the receive time (the ingest rule)', () => {
    const receivedAt = Date.UTC(2025, 10, 4, 6, 52, 40);
    const own = new TickBook(() => receivedAt);
    const tick = (token: number, ts: string) => `{"token": ${token}, "price": 100.5${ts}}`;
    own.hold(tick(1, ', "ts": 1762239170')); // 10 s ahead
    own.hold(tick(2, ', "ts": 0'));
    own.hold(tick(3, ''));
    own.hold(tick(4, ', "ts": 1762239163')); // 3 s ahead: within the skew the ingest accepts
    own.hold(tick(5, ', "ts": 1762239154000')); // milliseconds
    expect([1, 2, 3].map((t) => own.quote(t).at)).toEqual(Array(3).fill(new Date(receivedAt).toISOString()));
    expect(own.quote(4).at).toBe(new Date(1762239163 * 1000).toISOString());
    expect(own.quote(5).at).toBe(new Date(1762239154000).toISOString());
  });

  it('an instrument never seen has nothing', () => {
    expect(book.quote(1)).toMatchObject({ token: 1, ltp: null, at: null, depth: null });
  });

  it('the nearest future on or after today; streaming only when a tick came', () => {
    const futures = [
      { token: 13238786, tradingsymbol: 'NIFTY25NOVFUT', expiry: '2025-11-25' },
      { token: 99, tradingsymbol: 'NIFTY25DECFUT', expiry: '2025-12-30' },
      { token: 98, tradingsymbol: 'NIFTY25OCTFUT', expiry: '2025-10-28' },
    ];
    expect(nearestFuture(book, futures, '2025-11-04')).toMatchObject({ token: 13238786, expiry: '2025-11-25', ltp: 25601.2, streaming: true });
    expect(nearestFuture(book, futures, '2025-11-26')).toMatchObject({ token: 99, tradingsymbol: 'NIFTY25DECFUT', ltp: null, streaming: false });
    expect(nearestFuture(book, [], '2025-11-26')).toBeNull();
  });
});

describe('readDepth', () => {
  it('leaves mock-mode depth (already near the price) as sent, best five a side, bad levels dropped', () => {
    const levels = (base: number, step: number) => Array.from({ length: 7 }, (_, i) => ({ price: base + i * step, quantity: 75 * (i + 1), orders: i + 1 }));
    const { depth, rescaled } = readDepth({ buy: [{ price: Number.NaN, quantity: 1, orders: 1 }, ...levels(100, -0.05)], sell: levels(100.05, 0.05) }, 100.02);
    expect(rescaled).toBe(false);
    expect(depth?.buy).toHaveLength(5);
    expect(depth?.sell).toHaveLength(5);
    expect(depth?.buy[0]).toEqual({ price: 100, quantity: 75, orders: 1 });
  });
  it('without a price it cannot judge the scale and leaves it', () => {
    expect(readDepth({ buy: [{ price: 5.9, quantity: 75, orders: 1 }], sell: [] }, null).rescaled).toBe(false);
  });
});

describe('bounds', () => {
  it('holds at most MAX_TOKENS instruments, the newest tick of each', () => {
    const book = new TickBook(() => 0);
    for (let t = 1; t <= MAX_TOKENS + 5; t++) book.hold(`{"token": ${t}, "price": 1.0}`);
    expect(book.size).toBe(MAX_TOKENS);
    book.hold('{"token": 1, "price": 2.0}');
    expect(book.quote(1).ltp).toBe(2);
    book.hold('{"no token": 1}');
    expect(book.size).toBe(MAX_TOKENS);
  });
});
