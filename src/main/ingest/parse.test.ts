// Parsing the feed's messages: the contract's examples, both underlying shapes, Python's bare NaN, invalid greeks,
// futures' zero greeks, and the tick-time guards.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeSymbol, parseOptionMessage, parseUnderlyingMessage, tickTime, validGreeks } from './parse';
import { greeksInTrueUnits } from './units';

/** The real service's Redis messages (fixtures/ticker-service), one per line. */
const FIXTURE_OPTIONS = readFileSync(join(process.cwd(), 'fixtures', 'ticker-service', 'redis-options.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');

const NOW = 1_762_239_160_000;

// The example of the ticker contract (docs/ticker-contract.md, live ticks), verbatim apart from the elided depth.
const CONTRACT_OPTION = `{"symbol": "NIFTY", "token": 13660418, "tradingsymbol": "NIFTY25NOV24500CE", "segment": "NFO-OPT", "exchange": "NFO",
 "strike": 24500.0, "expiry": "2025-11-25", "type": "CE", "lot_size": 75, "tick_size": 0.05,
 "price": 589.4, "volume": 1843200, "oi": 23025, "iv": 0.1432, "delta": 0.61, "gamma": 0.0004, "theta": -0.0002,
 "vega": 0.0002, "ts": 1762239154, "is_mock": false,
 "depth": {"buy": [{"quantity": 75, "price": 589.35, "orders": 3}], "sell": []},
 "total_buy_quantity": 123450, "total_sell_quantity": 98700}`;

describe('option ticks', () => {
  it('reads the contract example (a source publishing true units)', () => {
    const r = parseOptionMessage(CONTRACT_OPTION, NOW, { sourceGreeks: 'true' });
    expect(r).toEqual({
      ok: true,
      tick: {
        token: 13660418,
        symbol: 'NIFTY',
        expiry: '2025-11-25',
        strike: 24500,
        type: 'CE',
        price: 589.4,
        cumVolume: 1843200,
        oi: 23025,
        iv: 0.1432,
        delta: 0.61,
        gamma: 0.0004,
        theta: -0.0002,
        vega: 0.0002,
        tsMs: 1762239154000,
        tsAdjusted: false,
        isMock: false,
      },
    });
  });

  it('reads bare NaN / Infinity (Python json.dumps) as missing values, not as a broken message', () => {
    const text = CONTRACT_OPTION.replace('"iv": 0.1432', '"iv": NaN')
      .replace('"delta": 0.61', '"delta": -Infinity')
      .replace('"vega": 0.0002', '"vega":Infinity');
    const r = parseOptionMessage(text, NOW, { sourceGreeks: 'true' });
    expect(r.ok && r.tick).toMatchObject({ iv: null, delta: null, vega: null, gamma: 0.0004, theta: -0.0002, price: 589.4 });
  });

  it('makes invalid or wrongly typed fields missing, keeping the tick', () => {
    const text = CONTRACT_OPTION.replace('"iv": 0.1432', '"iv": "0.14"')
      .replace('"delta": 0.61', '"delta": 1.7')
      .replace('"oi": 23025', '"oi": -5')
      .replace('"price": 589.4', '"price": 0');
    const r = parseOptionMessage(text, NOW);
    expect(r.ok && r.tick).toMatchObject({ iv: null, delta: null, oi: null, price: null, cumVolume: 1843200 });
  });

  it('drops all five greeks when they are all exactly zero (futures, failed IV solves)', () => {
    expect(validGreeks({ iv: 0, delta: 0, gamma: 0, theta: 0, vega: 0 })).toEqual({ iv: null, delta: null, gamma: null, theta: null, vega: null });
    expect(validGreeks({ iv: 0, delta: 0.5, gamma: 0.001, theta: -3, vega: 0 })).toEqual({ iv: null, delta: 0.5, gamma: 0.001, theta: -3, vega: 0 });
    const fut = parseOptionMessage(
      JSON.stringify({
        symbol: 'NIFTY',
        token: 9,
        strike: 0,
        expiry: '2025-11-25',
        type: 'FUT',
        price: 24600,
        volume: 10,
        oi: 5,
        iv: 0.0,
        delta: 0.0,
        gamma: 0.0,
        theta: 0.0,
        vega: 0.0,
        ts: 1762239154,
      }),
      NOW,
    );
    expect(fut.ok && fut.tick).toMatchObject({ type: 'FUT', strike: 0, iv: null, delta: null, gamma: null, theta: null, vega: null });
  });

  it('rejects what cannot be placed: no token, unknown type, an option without strike or expiry, not JSON', () => {
    for (const bad of [
      'nope',
      '[]',
      'null',
      '{"symbol":"NIFTY","type":"CE","price":1}',
      '{"symbol":"NIFTY","token":1,"type":"XX","price":1}',
      '{"symbol":"NIFTY","token":1,"type":"PE","strike":0,"expiry":"2025-11-25"}',
      '{"symbol":"NIFTY","token":1,"type":"PE","strike":100}',
    ]) {
      expect(parseOptionMessage(bad, NOW).ok, bad).toBe(false);
    }
  });
});

describe("production quirks (the real service's messages)", () => {
  it('rescales theta x365 and vega x100 from a scaled source (the default), not from a true one', () => {
    const scaled = parseOptionMessage(CONTRACT_OPTION, NOW);
    expect(scaled.ok && scaled.tick.theta).toBeCloseTo(-0.0002 * 365, 12);
    expect(scaled.ok && scaled.tick.vega).toBeCloseTo(0.0002 * 100, 12);
    expect(scaled.ok && [scaled.tick.iv, scaled.tick.delta, scaled.tick.gamma]).toEqual([0.1432, 0.61, 0.0004]);
    const asIs = parseOptionMessage(CONTRACT_OPTION, NOW, { sourceGreeks: 'true' });
    expect(asIs.ok && [asIs.tick.theta, asIs.tick.vega]).toEqual([-0.0002, 0.0002]);
    expect(greeksInTrueUnits({ iv: 0, delta: 0, gamma: 0, theta: 0, vega: 0 }, 'scaled')).toEqual({
      iv: null,
      delta: null,
      gamma: null,
      theta: null,
      vega: null,
    });
  });

  it('reads every fixture message: volume 0 unknown, zero greeks and NaN missing, extra fields ignored, index rows set aside', () => {
    const [ce, pe, fut, eq] = FIXTURE_OPTIONS.map((m) => parseOptionMessage(m, 1_762_268_500_000));
    expect(ce).toEqual({
      ok: true,
      tick: {
        token: 13660418,
        symbol: 'NIFTY',
        expiry: '2025-11-25',
        strike: 24500,
        type: 'CE',
        price: 589.4,
        cumVolume: null,
        oi: 23025,
        iv: 0.1432,
        delta: 0.61,
        gamma: 0.0004,
        theta: -0.0328767 * 365,
        vega: 0.1425 * 100,
        tsMs: 1762239154000,
        tsAdjusted: false,
        isMock: false,
      },
    });
    // iv NaN with the other four at 0: the no-index-token marker; last_trade_time (not in the contract) ignored.
    expect(pe.ok && pe.tick).toMatchObject({
      type: 'PE',
      cumVolume: null,
      oi: 41250,
      iv: null,
      delta: null,
      gamma: null,
      theta: null,
      vega: null,
      price: 12.35,
    });
    expect(fut.ok && fut.tick).toMatchObject({ type: 'FUT', strike: 0, cumVolume: null, oi: 14230125, iv: null });
    // Not an option, not an error; its price is the index level ("NIFTY 50" is NIFTY's index, token 256265).
    expect(eq).toEqual({
      ok: false,
      error: 'index row on the options channel',
      ignored: 'index_row',
      index: { symbol: 'NIFTY', token: 256265, price: 25536.85, tsMs: 1762268400000, tsAdjusted: false, shape: 'B' },
    });
  });

  it('does not take a partly zero greek set for the marker', () => {
    expect(validGreeks({ iv: null, delta: 0, gamma: 0, theta: 0, vega: 0 })).toEqual({ iv: null, delta: null, gamma: null, theta: null, vega: null });
    expect(validGreeks({ iv: 0.2, delta: 0, gamma: 0, theta: 0, vega: 0 })).toEqual({ iv: 0.2, delta: 0, gamma: 0, theta: 0, vega: 0 });
  });
});

describe('underlying ticks', () => {
  it('reads shape A (last_price, instrument_token, timestamp)', () => {
    const r = parseUnderlyingMessage(
      '{"symbol": "NIFTY", "instrument_token": 256265, "last_price": 25536.85, "volume": 0, "timestamp": 1762239154, "ohlc": {"open": 1, "high": 2, "low": 0.5, "close": 1.5}}',
      NOW,
    );
    expect(r).toEqual({ ok: true, tick: { symbol: 'NIFTY', token: 256265, price: 25536.85, tsMs: 1762239154000, tsAdjusted: false, shape: 'A' } });
  });

  it('reads shape B (open/high/low/close, ts): the price is close', () => {
    const r = parseUnderlyingMessage(
      '{"symbol": "NIFTY BANK", "open": 59000, "high": 59100, "low": 58900, "close": 59050.5, "volume": 0, "ts": 1762239154.25}',
      NOW,
    );
    expect(r).toEqual({ ok: true, tick: { symbol: 'BANKNIFTY', token: null, price: 59050.5, tsMs: 1762239154250, tsAdjusted: false, shape: 'B' } });
  });

  it('rejects neither shape', () => {
    expect(parseUnderlyingMessage('{"symbol":"NIFTY","price":1}', NOW).ok).toBe(false);
    expect(parseUnderlyingMessage('{"symbol":"NIFTY","last_price":-1}', NOW).ok).toBe(false);
    expect(parseUnderlyingMessage('{"symbol":"NIFTY","last_price":"abc"}', NOW).ok).toBe(false);
  });

  it("normalizes index names to the derivatives' underlying", () => {
    expect(['NIFTY 50', 'nifty', 'NIFTY FIN SERVICE', 'NIFTY MID SELECT'].map(normalizeSymbol)).toEqual(['NIFTY', 'NIFTY', 'FINNIFTY', 'MIDCPNIFTY']);
  });
});

describe('tick time', () => {
  it('takes epoch seconds (fractional receive times too), milliseconds and ISO strings', () => {
    expect(tickTime(1762239154, NOW)).toEqual({ ms: 1762239154000, adjusted: false });
    expect(tickTime(1762239154.789, NOW)).toEqual({ ms: 1762239154789, adjusted: false });
    expect(tickTime(1762239154789, NOW)).toEqual({ ms: 1762239154789, adjusted: false });
    expect(tickTime('1762239154', NOW)).toEqual({ ms: 1762239154000, adjusted: false });
    expect(tickTime('2025-11-04T06:52:34.000Z', NOW)).toEqual({ ms: Date.parse('2025-11-04T06:52:34.000Z'), adjusted: false });
  });

  it('uses the receive time for a missing, unreadable or future time', () => {
    for (const bad of [undefined, null, 'soon', 0, -5, Number.NaN]) expect(tickTime(bad, NOW)).toEqual({ ms: NOW, adjusted: true });
    expect(tickTime(NOW / 1000 + 4, NOW)).toEqual({ ms: NOW + 4000, adjusted: false });
    expect(tickTime(NOW / 1000 + 60, NOW)).toEqual({ ms: NOW, adjusted: true });
  });
});
