// Black-Scholes prices and greeks for index options (European, no dividends), and an implied-vol solver.
// Conventions (market-data.md): r = 0.10, q = 0, expiry at 15:30 IST, time in years of 365 calendar days
// (ACT/365); theta is per calendar day; vega is per 1 volatility point (0.01). Pure TypeScript.

export const RISK_FREE_RATE = 0.1;
export const DAYS_PER_YEAR = 365;
const MS_PER_YEAR = DAYS_PER_YEAR * 86_400_000;
const IST_OFFSET_MS = 330 * 60_000;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

export type OptionRight = 'CE' | 'PE';

export interface Greeks {
  price: number;
  /** dPrice/dSpot */
  delta: number;
  /** d2Price/dSpot2 */
  gamma: number;
  /** price change per calendar day (annual theta / 365), usually negative */
  theta: number;
  /** price change per 1 volatility point (0.01) */
  vega: number;
}

/** Standard normal density. */
export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/** Standard normal cumulative distribution (Hart 1968, double precision; absolute error below 1e-14). */
export function normCdf(x: number): number {
  const a = Math.abs(x);
  let c: number;
  if (a > 37) {
    c = 0;
  } else {
    const e = Math.exp(-0.5 * a * a);
    if (a < 7.07106781186547) {
      let n = 3.52624965998911e-2 * a + 0.700383064443688;
      n = n * a + 6.37396220353165;
      n = n * a + 33.912866078383;
      n = n * a + 112.079291497871;
      n = n * a + 221.213596169931;
      n = n * a + 220.206867912376;
      let d = 8.83883476483184e-2 * a + 1.75566716318264;
      d = d * a + 16.064177579207;
      d = d * a + 86.7807322029461;
      d = d * a + 296.564248779674;
      d = d * a + 637.333633378831;
      d = d * a + 793.826512519948;
      d = d * a + 440.413735824752;
      c = (e * n) / d;
    } else {
      let b = a + 0.65;
      b = a + 4 / b;
      b = a + 3 / b;
      b = a + 2 / b;
      b = a + 1 / b;
      c = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

/**
 * Years (of 365 days) from `nowMs` to the expiry instant, 15:30 IST on the expiry date 'YYYY-MM-DD'.
 * Never negative: 0 at and after expiry.
 */
export function yearsToExpiry(nowMs: number, expiry: string): number {
  const expiryMs = expiryInstant(expiry);
  return expiryMs > nowMs ? (expiryMs - nowMs) / MS_PER_YEAR : 0;
}

/** The expiry instant (UTC epoch ms) of an expiry date: 15:30 IST. */
export function expiryInstant(expiry: string): number {
  return Date.UTC(+expiry.slice(0, 4), +expiry.slice(5, 7) - 1, +expiry.slice(8, 10), 15, 30) - IST_OFFSET_MS;
}

/** Black-Scholes price. At T <= 0 or vol <= 0 the (discounted-forward) intrinsic value. */
export function bsPrice(right: OptionRight, spot: number, strike: number, t: number, vol: number, rate = RISK_FREE_RATE): number {
  if (!(t > 0) || !(vol > 0)) {
    const df = t > 0 ? Math.exp(-rate * t) : 1;
    return right === 'CE' ? Math.max(spot - strike * df, 0) : Math.max(strike * df - spot, 0);
  }
  const sqrtT = Math.sqrt(t);
  const d1 = (Math.log(spot / strike) + (rate + 0.5 * vol * vol) * t) / (vol * sqrtT);
  const d2 = d1 - vol * sqrtT;
  const kdf = strike * Math.exp(-rate * t);
  return right === 'CE' ? spot * normCdf(d1) - kdf * normCdf(d2) : kdf * normCdf(-d2) - spot * normCdf(-d1);
}

/** Writes price and greeks into `out` (no allocation: used on the devticker's hot path) and returns it. */
export function bsGreeksInto(out: Greeks, right: OptionRight, spot: number, strike: number, t: number, vol: number, rate = RISK_FREE_RATE): Greeks {
  if (!(t > 0) || !(vol > 0)) {
    out.price = bsPrice(right, spot, strike, t, vol, rate);
    const itm = right === 'CE' ? spot > strike : spot < strike;
    out.delta = itm ? (right === 'CE' ? 1 : -1) : 0;
    out.gamma = 0;
    out.theta = 0;
    out.vega = 0;
    return out;
  }
  const sqrtT = Math.sqrt(t);
  const volSqrtT = vol * sqrtT;
  const d1 = (Math.log(spot / strike) + (rate + 0.5 * vol * vol) * t) / volSqrtT;
  const d2 = d1 - volSqrtT;
  const kdf = strike * Math.exp(-rate * t);
  const pdf1 = normPdf(d1);
  const decay = (-spot * pdf1 * vol) / (2 * sqrtT);
  if (right === 'CE') {
    const n1 = normCdf(d1);
    const n2 = normCdf(d2);
    out.price = spot * n1 - kdf * n2;
    out.delta = n1;
    out.theta = (decay - rate * kdf * n2) / DAYS_PER_YEAR;
  } else {
    const n1 = normCdf(-d1);
    const n2 = normCdf(-d2);
    out.price = kdf * n2 - spot * n1;
    out.delta = -n1;
    out.theta = (decay + rate * kdf * n2) / DAYS_PER_YEAR;
  }
  out.gamma = pdf1 / (spot * volSqrtT);
  out.vega = (spot * pdf1 * sqrtT) / 100;
  return out;
}

/** Price and greeks (theta per calendar day, vega per vol point). */
export function bsGreeks(right: OptionRight, spot: number, strike: number, t: number, vol: number, rate = RISK_FREE_RATE): Greeks {
  return bsGreeksInto({ price: 0, delta: 0, gamma: 0, theta: 0, vega: 0 }, right, spot, strike, t, vol, rate);
}

/**
 * The volatility (decimal, 0.20 = 20%) at which Black-Scholes gives `price`, or null when no volatility in
 * (0.0001, 5] does (price outside the no-arbitrage bounds, T <= 0, non-finite input). Newton steps, bisection fallback.
 */
export function impliedVol(right: OptionRight, price: number, spot: number, strike: number, t: number, rate = RISK_FREE_RATE): number | null {
  if (!(t > 0) || !(price > 0) || !(spot > 0) || !(strike > 0) || !Number.isFinite(price)) return null;
  const kdf = strike * Math.exp(-rate * t);
  const lower = right === 'CE' ? Math.max(spot - kdf, 0) : Math.max(kdf - spot, 0);
  const upper = right === 'CE' ? spot : kdf;
  if (price <= lower || price >= upper) return null;
  let lo = 1e-4;
  let hi = 5;
  if (price < bsPrice(right, spot, strike, t, lo, rate) || price > bsPrice(right, spot, strike, t, hi, rate)) return null;
  // Brenner-Subrahmanyam start, kept inside the bracket.
  let vol = Math.min(Math.max(Math.sqrt((2 * Math.PI) / t) * (price / spot), 0.05), 2);
  const g: Greeks = { price: 0, delta: 0, gamma: 0, theta: 0, vega: 0 };
  for (let i = 0; i < 100; i++) {
    bsGreeksInto(g, right, spot, strike, t, vol, rate);
    const diff = g.price - price;
    if (Math.abs(diff) < 1e-10 * Math.max(1, price)) return vol;
    if (diff > 0) hi = vol;
    else lo = vol;
    const vegaPerUnit = g.vega * 100;
    let next = vegaPerUnit > 1e-12 ? vol - diff / vegaPerUnit : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - vol) < 1e-13) return next;
    vol = next;
  }
  return vol;
}
