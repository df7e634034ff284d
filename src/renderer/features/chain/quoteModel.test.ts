import { describe, expect, it } from 'vitest';
import { basisOf, depthRows, futureNote, spreadOf } from './quoteModel';

describe('futures basis', () => {
  it('is future minus spot, and its share of spot', () => {
    const b = basisOf(25_650.5, 25_600);
    expect(b?.points).toBeCloseTo(50.5, 9);
    expect(b?.pct).toBeCloseTo((50.5 / 25_600) * 100, 9);
    expect(basisOf(25_550, 25_600)?.points).toBeCloseTo(-50, 9);
  });
  it('is unknown without both prices', () => {
    expect(basisOf(null, 25_600)).toBeNull();
    expect(basisOf(25_600, null)).toBeNull();
    expect(basisOf(25_600, 0)).toBeNull();
  });
});

describe('depth table', () => {
  const depth = {
    buy: [
      { price: 100, quantity: 75, orders: 1 },
      { price: 99.95, quantity: 150, orders: 2 },
    ],
    sell: [{ price: 100.1, quantity: 75, orders: 3 }],
  };
  it('pairs bid and ask levels best first, five rows', () => {
    const rows = depthRows(depth);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({ bid: depth.buy[0], ask: depth.sell[0] });
    expect(rows[1]).toEqual({ bid: depth.buy[1], ask: null });
    expect(rows[4]).toEqual({ bid: null, ask: null });
    expect(depthRows(null).every((r) => r.bid === null && r.ask === null)).toBe(true);
  });
  it('spread is best ask minus best bid', () => {
    expect(spreadOf(depth)).toBe(0.1);
    expect(spreadOf({ buy: [], sell: depth.sell })).toBeNull();
  });
});

describe('futures note', () => {
  const base = {
    token: 1,
    tradingsymbol: 'NIFTY25DECFUT',
    at: null,
    depth: null,
    depthRescaled: false,
    totalBuyQuantity: null,
    totalSellQuantity: null,
    expiry: '2025-12-30',
  };
  it('says why there is no price', () => {
    expect(futureNote(null)).toBe('no future listed');
    expect(futureNote({ ...base, ltp: null, streaming: false })).toMatch(/not streaming/);
    expect(futureNote({ ...base, ltp: 25_600, streaming: true })).toBeNull();
  });
});
