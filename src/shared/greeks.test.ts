import { describe, expect, it } from 'vitest';
import { bsGreeks, bsPrice, expiryInstant, impliedVol, normCdf, yearsToExpiry } from './greeks';

// Reference values computed independently with Python's math.erfc (N(x) = erfc(-x/sqrt 2)/2), the textbook formulas,
// r = 0.10, theta / 365, vega / 100. The first row is Hull's example (S=42, K=40, T=0.5, vol 20%: call 4.76, put 0.81).
const REFERENCE: Array<{
  s: number;
  k: number;
  t: number;
  v: number;
  call: number;
  put: number;
  dc: number;
  dp: number;
  gamma: number;
  vega: number;
  tc: number;
  tp: number;
}> = [
  {
    s: 42,
    k: 40,
    t: 0.5,
    v: 0.2,
    call: 4.759422392871535,
    put: 0.8085993729000958,
    dc: 0.779131290942669,
    dp: -0.22086870905733103,
    gamma: 0.04996267040591185,
    vega: 0.08813415059602853,
    tc: -0.012490663546829112,
    tp: -0.0020662314975062207,
  },
  {
    s: 26000,
    k: 26000,
    t: 7 / 365,
    v: 0.12,
    call: 198.2581384255318,
    put: 148.44290802437718,
    dc: 0.5492288298182276,
    dp: -0.4507711701817724,
    gamma: 0.0009162826301169441,
    vega: 14.254847361249466,
    tc: -16.076438249287747,
    tp: -8.966798586383955,
  },
  {
    s: 59000,
    k: 57000,
    t: 30 / 365,
    v: 0.15,
    call: 2676.2137562994903,
    put: 209.6406559196039,
    dc: 0.8448433842730545,
    dp: -0.1551566157269455,
    gamma: 9.397964398765924e-5,
    vega: 40.33271597930652,
    tc: -23.00634225943231,
    tp: -7.517732149947346,
  },
  {
    s: 13500,
    k: 15000,
    t: 60 / 365,
    v: 0.22,
    call: 105.4378346120966,
    put: 1360.8780793705955,
    dc: 0.17046829039481534,
    dp: -0.8295317096051846,
    gamma: 0.00021051943924797428,
    vega: 13.875249725995939,
    tc: -3.1454078613781347,
    tp: 0.8971785070488516,
  },
  {
    s: 26000,
    k: 24000,
    t: 1 / 365,
    v: 0.3,
    call: 2006.574453074074,
    put: 1.1257910290756595e-5,
    dc: 0.9999998493868255,
    dp: -1.506131744877237e-7,
    gamma: 1.9571346947231164e-9,
    vega: 1.0874162084653372e-5,
    tc: -6.5737032853034325,
    tp: -0.0001620364859419513,
  },
];

describe('Black-Scholes against independent reference values', () => {
  for (const r of REFERENCE) {
    it(`S=${r.s} K=${r.k} T=${r.t.toFixed(4)} vol=${r.v}`, () => {
      const c = bsGreeks('CE', r.s, r.k, r.t, r.v);
      const p = bsGreeks('PE', r.s, r.k, r.t, r.v);
      expect(Math.abs(c.price - r.call)).toBeLessThan(1e-6);
      expect(Math.abs(p.price - r.put)).toBeLessThan(1e-6);
      expect(Math.abs(c.delta - r.dc)).toBeLessThan(1e-6);
      expect(Math.abs(p.delta - r.dp)).toBeLessThan(1e-6);
      expect(Math.abs(c.gamma - r.gamma)).toBeLessThan(1e-6);
      expect(Math.abs(p.gamma - r.gamma)).toBeLessThan(1e-6);
      expect(Math.abs(c.vega - r.vega)).toBeLessThan(1e-6);
      expect(Math.abs(c.theta - r.tc)).toBeLessThan(1e-6);
      expect(Math.abs(p.theta - r.tp)).toBeLessThan(1e-6);
      expect(Math.abs(bsPrice('CE', r.s, r.k, r.t, r.v) - r.call)).toBeLessThan(1e-6);
    });
  }

  it('satisfies put-call parity C - P = S - K e^(-rT)', () => {
    for (const s of [12000, 26000, 59000]) {
      for (const m of [0.8, 0.95, 1, 1.07, 1.3]) {
        for (const t of [0.5 / 365, 3 / 365, 30 / 365, 1]) {
          for (const v of [0.08, 0.15, 0.6]) {
            const k = s * m;
            const lhs = bsPrice('CE', s, k, t, v) - bsPrice('PE', s, k, t, v);
            const rhs = s - k * Math.exp(-0.1 * t);
            expect(Math.abs(lhs - rhs)).toBeLessThan(1e-6 * Math.max(1, s / 1000));
          }
        }
      }
    }
  });

  it('normCdf matches known values', () => {
    expect(normCdf(0)).toBe(0.5);
    expect(Math.abs(normCdf(1.96) - 0.9750021048517795)).toBeLessThan(1e-13);
    expect(Math.abs(normCdf(-3) - 0.0013498980316301035)).toBeLessThan(1e-13);
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(40)).toBe(1);
  });

  it('theta is per calendar day and vega per vol point (finite differences)', () => {
    const s = 26000,
      k = 26200,
      t = 20 / 365,
      v = 0.14;
    const g = bsGreeks('CE', s, k, t, v);
    const dayLater = bsPrice('CE', s, k, t - 1 / 365, v) - bsPrice('CE', s, k, t, v);
    expect(Math.abs(g.theta - dayLater)).toBeLessThan(Math.abs(g.theta) * 0.05);
    const volUp = bsPrice('CE', s, k, t, v + 0.005) - bsPrice('CE', s, k, t, v - 0.005);
    expect(Math.abs(g.vega - volUp)).toBeLessThan(1e-3);
  });

  it('falls back to intrinsic value at or after expiry', () => {
    expect(bsPrice('CE', 26100, 26000, 0, 0.2)).toBe(100);
    expect(bsPrice('PE', 26100, 26000, 0, 0.2)).toBe(0);
    const g = bsGreeks('PE', 25900, 26000, 0, 0.2);
    expect(g).toEqual({ price: 100, delta: -1, gamma: 0, theta: 0, vega: 0 });
  });
});

describe('implied volatility', () => {
  it('recovers the volatility that produced a price', () => {
    for (const right of ['CE', 'PE'] as const) {
      for (const k of [22000, 25000, 26000, 27000, 30000]) {
        for (const v of [0.09, 0.18, 0.45]) {
          const t = 14 / 365;
          const price = bsPrice(right, 26000, k, t, v);
          const kdf = k * Math.exp(-0.1 * t);
          const intrinsic = right === 'CE' ? Math.max(26000 - kdf, 0) : Math.max(kdf - 26000, 0);
          if (price - intrinsic < 0.01) continue; // no time value left: the volatility is not identifiable
          const iv = impliedVol(right, price, 26000, k, t);
          expect(iv).not.toBeNull();
          expect(Math.abs((iv as number) - v)).toBeLessThan(1e-6);
        }
      }
    }
  });

  it('returns null outside the no-arbitrage bounds', () => {
    expect(impliedVol('CE', 50, 26000, 25000, 7 / 365)).toBeNull(); // below intrinsic
    expect(impliedVol('CE', 30000, 26000, 25000, 7 / 365)).toBeNull(); // above spot
    expect(impliedVol('CE', 100, 26000, 26000, 0)).toBeNull();
    expect(impliedVol('PE', Number.NaN, 26000, 26000, 0.1)).toBeNull();
  });
});

describe('time to expiry', () => {
  it('counts years of 365 days to 15:30 IST on the expiry date', () => {
    expect(new Date(expiryInstant('2025-11-25')).toISOString()).toBe('2025-11-25T10:00:00.000Z');
    const now = Date.parse('2025-11-24T10:00:00Z'); // exactly one day before 15:30 IST
    expect(yearsToExpiry(now, '2025-11-25')).toBeCloseTo(1 / 365, 12);
    expect(yearsToExpiry(Date.parse('2025-11-25T10:00:00Z'), '2025-11-25')).toBe(0);
    expect(yearsToExpiry(Date.parse('2025-11-26T00:00:00Z'), '2025-11-25')).toBe(0);
  });
});
