// A synthetic but realistic option chain for the UI benchmark: OI concentrated near ATM and round strikes, a
// skewed IV smile, Black-Scholes-like premiums, and values that move every second. Deterministic per tick.
import type { ExpirySeries, StrikeDistribution, StrikeLeg, UnderlyingInfo } from '../../src/shared/api';

const DAY = 86_400_000;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 1_000_000) / 1_000_000;
  };
}

export function expiriesFrom(now: number, count: number): { expiry: string; days_to_expiry: number; kind: 'weekly' | 'monthly' }[] {
  return Array.from({ length: count }, (_v, i) => {
    const days = 2 + i * 7;
    return {
      expiry: new Date(now + days * DAY).toISOString().slice(0, 10),
      days_to_expiry: days,
      kind: i === count - 1 ? ('monthly' as const) : ('weekly' as const),
    };
  });
}

export function syntheticUnderlyings(now: number): UnderlyingInfo[] {
  return [
    { symbol: 'NIFTY', token: 256265, spot: 24512.35, spotTime: new Date(now).toISOString(), strikeStep: 50, expiries: expiriesFrom(now, 4) },
    { symbol: 'BANKNIFTY', token: 260105, spot: 52110.4, spotTime: new Date(now).toISOString(), strikeStep: 100, expiries: expiriesFrom(now, 3) },
  ];
}

function leg(strike: number, side: 'CE' | 'PE', spot: number, atm: number, step: number, dte: number, tick: number, seed: number): StrikeLeg {
  const r = rng(seed * 7919 + strike * 31 + (side === 'CE' ? 1 : 2) + tick * 104729);
  const distance = (strike - atm) / step;
  const n = Math.round(Math.abs(distance));
  const itm = side === 'CE' ? strike < atm : strike > atm;
  const round = strike % (step * 10) === 0 ? 1.8 : strike % (step * 2) === 0 ? 1.2 : 1;
  const oi = Math.round((4_00_000 + 60_00_000 * Math.exp(-(distance * distance) / 60)) * round * (itm ? 0.45 : 1) * (0.97 + r() * 0.06));
  const iv = 0.12 + 0.0009 * distance * distance + (side === 'PE' ? 0.0004 * Math.max(0, -distance) * 10 : 0) + 0.02 / Math.sqrt(dte + 1) + r() * 0.002;
  const intrinsic = Math.max(0, side === 'CE' ? spot - strike : strike - spot);
  const timeValue = spot * iv * Math.sqrt((dte + 0.5) / 365) * 0.4 * Math.exp(-(distance * distance) / 200);
  const delta = side === 'CE' ? 1 / (1 + Math.exp(distance / 4)) : -1 / (1 + Math.exp(-distance / 4));
  return {
    strike,
    token: 10_000_000 + strike * 10 + (side === 'CE' ? 1 : 2) + seed * 100_000_000,
    oi,
    oi_change: Math.round((r() - 0.4) * oi * 0.12),
    volume: Math.round(oi * (0.5 + r()) * 0.05),
    day_volume: Math.round(oi * (0.5 + r()) * 3),
    ltp: Math.round((intrinsic + timeValue + r()) * 20) / 20,
    ltp_change: Math.round((r() - 0.5) * 40) / 20,
    ltp_change_pct: Math.round((r() - 0.5) * 2000) / 100,
    last_trade_at: new Date(Date.now() - Math.round(r() * 5000)).toISOString(),
    iv,
    delta,
    gamma: 0.0008 * Math.exp(-(distance * distance) / 40),
    theta: -(timeValue / Math.max(1, dte)) * 0.6,
    vega: 12 * Math.exp(-(distance * distance) / 80),
    ticks: n > 40 ? 1 : 30 + Math.round(r() * 20),
    moneyness: n === 0 ? 'ATM' : `${itm ? 'ITM' : 'OTM'}${n}`,
    illiquid: n > 40,
    stale: false,
    state: 'live',
  };
}

function maxPain(call: StrikeLeg[], put: StrikeLeg[]): number | null {
  let best: number | null = null;
  let bestPain = Infinity;
  for (const s of call.map((l) => l.strike)) {
    let pain = 0;
    for (const c of call) pain += (c.oi ?? 0) * Math.max(s - c.strike, 0);
    for (const p of put) pain += (p.oi ?? 0) * Math.max(p.strike - s, 0);
    if (pain < bestPain) {
      bestPain = pain;
      best = s;
    }
  }
  return best;
}

export function syntheticDistribution(opts: {
  symbol: string;
  expiries: string[];
  strikeRange: number;
  tick: number;
  now: number;
  centerStrike?: number;
}): StrikeDistribution {
  const step = opts.symbol === 'BANKNIFTY' ? 100 : 50;
  const base = opts.symbol === 'BANKNIFTY' ? 52_110 : 24_512;
  const spot = base + Math.sin(opts.tick / 30) * step * 1.5 + ((opts.tick * 7919) % 13) / 10;
  const atm = Math.round(spot / step) * step;
  const centre = opts.centerStrike ?? atm;
  const series: ExpirySeries[] = opts.expiries.map((expiry, i) => {
    const dte = Math.max(0, Math.round((Date.parse(`${expiry}T10:00:00Z`) - opts.now) / DAY));
    const strikes = Array.from({ length: opts.strikeRange * 2 + 1 }, (_v, k) => centre + (k - opts.strikeRange) * step);
    const call = strikes.map((k) => leg(k, 'CE', spot, atm, step, dte, opts.tick, i + 1));
    const put = strikes.map((k) => leg(k, 'PE', spot, atm, step, dte, opts.tick, i + 1));
    const sum = (legs: StrikeLeg[], pick: (l: StrikeLeg) => number | null) => legs.reduce((a, l) => a + (pick(l) ?? 0), 0);
    return {
      expiry,
      days_to_expiry: dte,
      bucket_time: new Date(Math.floor(opts.now / 60_000) * 60_000).toISOString(),
      bucket_end: new Date(Math.floor(opts.now / 60_000) * 60_000 + 60_000).toISOString(),
      partial: false,
      is_stale: i === 2 && opts.tick % 20 < 3,
      atm_strike: atm,
      strike_step: step,
      pcr_oi: sum(put, (l) => l.oi) / sum(call, (l) => l.oi),
      pcr_volume: sum(put, (l) => l.day_volume) / sum(call, (l) => l.day_volume),
      max_pain_strike: maxPain(call, put),
      coverage: {
        strikes_listed: strikes.length,
        strikes_with_data: strikes.length,
        legs_listed: strikes.length * 2,
        legs_with_data: strikes.length * 2,
        legs_pending: 0,
        complete: true,
      },
      oi_change_basis: 'one_hour_earlier',
      call,
      put,
    };
  });
  return {
    status: 'ok',
    symbol: opts.symbol,
    timeframe: '1min',
    series,
    metadata: {
      expiries: opts.expiries,
      underlying_price: spot,
      underlying_time: new Date(opts.now).toISOString(),
      auto_subscribed: false,
      subscription: { state: 'complete', already: [], newly: [], failed: [], pending: [], retry_after_ms: null },
    },
  };
}
