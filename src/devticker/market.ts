// The market model. Everything is a pure function of (seed, instrument, time in whole seconds):
// - a "model day" starts at 09:15 IST and lasts 24 h (seconds k = 0..86399); the session is k < 22500. Outside
//   sessions only the always-open mode looks at it.
// - each index follows a seeded random walk per second from a day open that itself drifts smoothly from day to day;
//   per-day paths are computed once and cached, so any past minute is cheap to recompute.
// - options are Black-Scholes (r = 0.10, q = 0) on a smile with skew and term structure; futures are the forward.
// - trading is decided per minute (active or not, lots traded) and per second (which seconds carry a trade), by
//   hashes: cumulative day volume is the sum of earlier minutes' lots, so it needs one hash per minute to recompute.
//   An option's liquidity in a minute depends on its distance from the index level at that minute's start (not the
//   day's open): after a drift, the strikes next to the live spot are the ones that trade.
// A /history candle and the ticks streamed in its minute therefore agree exactly.
import { bsGreeksInto, type Greeks, RISK_FREE_RATE, expiryInstant } from '../shared/greeks';
import { istDayNumber } from '../shared/calendar';
import { expStepTable, gauss4, gaussIndex4, hash4, mix32, popcount32, smoothNoise, unit } from './hash';
import type { Instrument, UnderlyingSpec } from './registry';

export const SESSION_SECONDS = 22_500;
export const DAY_SECONDS = 86_400;
/** 09:15 IST is 03:45 UTC: seconds after UTC midnight. */
export const OPEN_OFFSET_SECONDS = 13_500;
const SECONDS_PER_YEAR = 365 * DAY_SECONDS;
const MIN_T_SECONDS = 60;
const FULL_MASK_HI = 0x0fffffff; // bits 32..59

export const round05 = (x: number): number => Math.round(x * 20) / 20;

/** The model day (IST date day number whose 09:15 starts it) and second within it. */
export function modelDayOf(tSec: number): number {
  return Math.floor((tSec - OPEN_OFFSET_SECONDS) / DAY_SECONDS);
}
export function modelDayStart(dayNum: number): number {
  return dayNum * DAY_SECONDS + OPEN_OFFSET_SECONDS;
}

/** One index's per-second path over one model day (grown lazily: session first, then the rest of the day). */
const STEP_TABLES = new Map<number, Float64Array>();
/** exp(sd * z) lookup per underlying: a walk step is one hash, one table read and one multiplication. */
function stepTable(u: UnderlyingSpec): Float64Array {
  let t = STEP_TABLES.get(u.ordinal);
  if (!t) {
    t = expStepTable(u.realisedVol / Math.sqrt(252) / Math.sqrt(SESSION_SECONDS));
    STEP_TABLES.set(u.ordinal, t);
  }
  return t;
}

class IndexPath {
  prices: Float64Array;
  filled = 0;
  /** unrounded level of the last filled second */
  private level: number;
  private readonly steps: Float64Array;

  constructor(
    private readonly seed: number,
    private readonly u: UnderlyingSpec,
    private readonly dayNum: number,
  ) {
    this.prices = new Float64Array(SESSION_SECONDS);
    const slow = 0.03 * smoothNoise(seed, 900 + u.ordinal, dayNum / 12);
    const daily = 0.004 * Math.max(-3, Math.min(3, gauss4(seed, 950 + u.ordinal, dayNum)));
    this.level = Math.exp(Math.log(u.baseSpot) + slow + daily);
    this.steps = stepTable(u);
  }

  at(k: number): number {
    if (k >= this.filled) this.fill(k);
    return this.prices[k];
  }

  private fill(k: number): void {
    if (k >= this.prices.length) {
      const grown = new Float64Array(DAY_SECONDS);
      grown.set(this.prices.subarray(0, this.filled));
      this.prices = grown;
    }
    const key = 1000 + this.u.ordinal;
    const steps = this.steps;
    const prices = this.prices;
    let level = this.level;
    for (let i = this.filled; i <= k; i++) {
      if (i > 0) level *= steps[gaussIndex4(this.seed, key, this.dayNum, i)];
      prices[i] = Math.round(level * 20) / 20;
    }
    this.level = level;
    this.filled = k + 1;
  }
}

/** Per-instrument, per-model-day trading parameters. */
export interface DerivDay {
  dayNum: number;
  startSec: number;
  /** probability that a minute has trades; -1 = by the live spot each minute (options, see minuteLiquidity) */
  pMinute: number;
  /** probability that a second of an active minute carries a trade (1 = every second); -1 = per minute */
  pSecond: number;
  lotsScale: number;
  /** liquidity factor of the days to expiry */
  dteFactor: number;
  oiBaseLots: number;
  expirySec: number;
}

export interface MinuteLiquidity {
  pMinute: number;
  pSecond: number;
  lotsScale: number;
}

/** One minute of one instrument: which seconds trade, lots traded, OI. */
export interface MinuteState {
  minute: number;
  lots: number;
  maskLo: number;
  maskHi: number;
  count: number;
  oi: number;
}

export function emptyMinute(): MinuteState {
  return { minute: -1, lots: 0, maskLo: 0, maskHi: 0, count: 0, oi: 0 };
}

/** Seconds j <= `j` of the minute that trade. */
export function countUpTo(ms: MinuteState, j: number): number {
  if (j >= 59) return ms.count;
  if (j < 31) return popcount32(ms.maskLo & ((2 ** (j + 1) - 1) >>> 0));
  return popcount32(ms.maskLo) + popcount32(ms.maskHi & ((2 ** (j - 31) - 1) >>> 0));
}

/** The last trading second <= j of the minute, or -1. */
export function lastTickUpTo(ms: MinuteState, j: number): number {
  if (j > 59) j = 59;
  if (j >= 32) {
    const hi = ms.maskHi & ((2 ** (j - 31) - 1) >>> 0);
    if (hi) return 32 + 31 - Math.clz32(hi);
    j = 31;
  }
  const lo = (ms.maskLo & ((2 ** (j + 1) - 1) >>> 0)) >>> 0;
  return lo ? 31 - Math.clz32(lo) : -1;
}

function isTick(ms: MinuteState, j: number): boolean {
  return j < 32 ? ((ms.maskLo >>> j) & 1) === 1 : ((ms.maskHi >>> (j - 32)) & 1) === 1;
}

/** Intraday activity: busier at the open and the close. */
function activityShape(minute: number): number {
  if (minute >= 375) return 0.4;
  const x = (minute / 374 - 0.5) * 2;
  return 0.7 + 0.9 * x * x;
}

export interface OptionQuote {
  price: number;
  spot: number;
  iv: number;
  greeks: Greeks;
}

export interface Candle {
  /** bucket start, epoch seconds */
  t: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  oi: number;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  underlying: number | null;
}

export class MarketModel {
  private readonly paths = new Map<string, IndexPath>();
  private readonly derivDays = new Map<string, DerivDay>();

  /** `dense`: every instrument trades every second (load tests); otherwise liquidity falls off away from ATM. */
  constructor(
    readonly seed: number,
    private readonly dense = false,
  ) {}

  private path(u: UnderlyingSpec, dayNum: number): IndexPath {
    const key = `${u.ordinal}:${dayNum}`;
    let p = this.paths.get(key);
    if (p) {
      this.paths.delete(key);
      this.paths.set(key, p);
      return p;
    }
    p = new IndexPath(this.seed, u, dayNum);
    this.paths.set(key, p);
    if (this.paths.size > 40) this.paths.delete(this.paths.keys().next().value as string);
    return p;
  }

  /** Index level at a whole epoch second. */
  spot(u: UnderlyingSpec, tSec: number): number {
    const day = modelDayOf(tSec);
    return this.path(u, day).at(tSec - modelDayStart(day));
  }

  /** Index level at second k of a model day. */
  spotAt(u: UnderlyingSpec, dayNum: number, k: number): number {
    return this.path(u, dayNum).at(k);
  }

  /** The day's open (09:15 IST). */
  dayOpen(u: UnderlyingSpec, dayNum: number): number {
    return this.path(u, dayNum).at(0);
  }

  derivDay(inst: Instrument, dayNum: number): DerivDay {
    const key = `${inst.token}:${dayNum}`;
    let d = this.derivDays.get(key);
    if (d) return d;
    const u = inst.underlying;
    const expirySec = expiryInstant(inst.expiry as string) / 1000;
    const dte = istDayNumber(inst.expiry as string) - dayNum;
    const dteFactor = dte <= 7 ? 1 : dte <= 35 ? 0.6 : 0.3;
    if (inst.kind === 'future') {
      d = {
        dayNum,
        startSec: modelDayStart(dayNum),
        pMinute: 1,
        pSecond: 1,
        lotsScale: 60 * dteFactor + 5,
        dteFactor,
        oiBaseLots: 150_000 * dteFactor,
        expirySec,
      };
    } else {
      // OI concentrates where the day opened (positions are built over days); trading follows the live spot, per
      // minute (see minuteLiquidity).
      const ref = this.dayOpen(u, dayNum);
      const n = Math.abs(inst.strike - ref) / u.step;
      const conc = 0.7 * Math.exp(-((n / 10) ** 2)) + 0.3 * Math.exp(-n / 25);
      const round = inst.strike % (u.step * 10) === 0 ? 1.8 : inst.strike % (u.step * 2) === 0 ? 1.2 : 1;
      const otm = (inst.instrumentType === 'CE' && inst.strike > ref) || (inst.instrumentType === 'PE' && inst.strike < ref) ? 1.3 : 0.6;
      const drift = 1 + 0.25 * smoothNoise(this.seed, inst.token, dayNum / 3);
      d = {
        dayNum,
        startSec: modelDayStart(dayNum),
        pMinute: -1,
        pSecond: -1,
        lotsScale: -1,
        dteFactor,
        oiBaseLots: Math.max(5, 60_000 * conc * round * otm * dteFactor * drift),
        expirySec,
      };
    }
    if (this.dense && d.pMinute >= 0) {
      d.pMinute = 1;
      d.pSecond = 1;
    }
    this.derivDays.set(key, d);
    if (this.derivDays.size > 50_000) this.derivDays.clear();
    return d;
  }

  /**
   * Trading parameters of minute m. An option's liquidity is centred on the index level at the start of that minute:
   * the strike nearest the live spot trades most, whichever side of the day's open it lies.
   */
  minuteLiquidity(inst: Instrument, d: DerivDay, m: number, out: MinuteLiquidity = this.liq): MinuteLiquidity {
    if (d.pMinute >= 0) {
      out.pMinute = d.pMinute;
      out.pSecond = d.pSecond;
      out.lotsScale = d.lotsScale;
      return out;
    }
    const u = inst.underlying;
    const spot = this.path(u, d.dayNum).at(Math.min(m * 60, DAY_SECONDS - 1));
    const n = Math.abs(inst.strike - spot) / u.step;
    const liq = Math.exp(-n / 12) * d.dteFactor;
    out.pMinute = this.dense ? 1 : Math.min(1, 0.04 + 1.2 * liq);
    out.pSecond = this.dense ? 1 : Math.min(1, Math.max(0.02, 1.5 * liq));
    out.lotsScale = 1 + 300 * liq * liq;
    return out;
  }

  private readonly liq: MinuteLiquidity = { pMinute: 0, pSecond: 0, lotsScale: 0 };

  /** Lots traded in minute m (0 when the minute has no trades). */
  minuteLots(inst: Instrument, d: DerivDay, m: number): number {
    const p = this.minuteLiquidity(inst, d, m);
    const h = hash4(this.seed, inst.token, d.dayNum, m);
    if (p.pMinute < 1 && unit(h) >= p.pMinute) return 0;
    return 1 + Math.floor(unit(mix32(h ^ 0x1ab5)) * p.lotsScale * activityShape(m));
  }

  /** Lots traded in minutes 0..m-1 of the day. */
  lotsBefore(inst: Instrument, d: DerivDay, m: number): number {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += this.minuteLots(inst, d, i);
    return sum;
  }

  oiAt(inst: Instrument, d: DerivDay, m: number): number {
    const f = 1 + 0.12 * smoothNoise(this.seed, inst.token ^ 0x0110, m / 40) + (0.04 * Math.min(m, 375)) / 375;
    return Math.max(1, Math.round(d.oiBaseLots * f)) * inst.lotSize;
  }

  /** Fills `out` with minute m's trading seconds, lots and OI. */
  minuteState(inst: Instrument, d: DerivDay, m: number, out: MinuteState): MinuteState {
    out.minute = m;
    out.oi = this.oiAt(inst, d, m);
    const lots = this.minuteLots(inst, d, m);
    out.lots = lots;
    if (lots === 0) {
      out.maskLo = 0;
      out.maskHi = 0;
      out.count = 0;
      return out;
    }
    const pSecond = this.minuteLiquidity(inst, d, m).pSecond;
    if (pSecond >= 1) {
      out.maskLo = 0xffffffff;
      out.maskHi = FULL_MASK_HI;
      out.count = 60;
      return out;
    }
    let lo = 0;
    let hi = 0;
    const base = m * 60;
    for (let j = 0; j < 60; j++) {
      if (unit(hash4(this.seed, inst.token ^ 0x5ec0, d.dayNum, base + j)) < pSecond) {
        if (j < 32) lo |= 1 << j;
        else hi |= 1 << (j - 32);
      }
    }
    const anchor = hash4(this.seed, inst.token, d.dayNum, m) % 60;
    if (anchor < 32) lo |= 1 << anchor;
    else hi |= 1 << (anchor - 32);
    out.maskLo = lo >>> 0;
    out.maskHi = hi >>> 0;
    out.count = popcount32(out.maskLo) + popcount32(out.maskHi);
    return out;
  }

  /** ATM vol with day-to-day and intraday drift, plus a short-dated term-structure bump, then the smile. */
  vol(u: UnderlyingSpec, dayNum: number, minute: number, strike: number, tYears: number, forward: number): number {
    const atm =
      u.atmVol *
        (1 + 0.15 * smoothNoise(this.seed, 7000 + u.ordinal, dayNum / 5)) *
        (1 + 0.04 * smoothNoise(this.seed, 7100 + u.ordinal, (dayNum % 10_000) * 100 + minute / 45)) +
      0.02 * Math.exp((-tYears * 365) / 5);
    let x = Math.log(strike / forward) / (atm * Math.sqrt(Math.max(tYears, 2 / 365)));
    if (x > 4) x = 4;
    else if (x < -4) x = -4;
    const v = atm * (1 - 0.1 * x + 0.035 * x * x);
    return v < 0.04 ? 0.04 : v > 2 ? 2 : v;
  }

  /**
   * Price (and greeks for options) of a derivative at second k of a model day. Writes into `out` and returns it.
   * Greeks are unrounded; iv is the model vol.
   */
  quote(inst: Instrument, d: DerivDay, k: number, out: OptionQuote): OptionQuote {
    const u = inst.underlying;
    const tSec = d.startSec + k;
    const spot = this.spotAt(u, d.dayNum, k);
    const tYears = Math.max(d.expirySec - tSec, MIN_T_SECONDS) / SECONDS_PER_YEAR;
    const forward = spot * Math.exp(RISK_FREE_RATE * tYears);
    out.spot = spot;
    if (inst.kind === 'future') {
      out.price = round05(forward * (1 + 0.0004 * smoothNoise(this.seed, inst.token, d.dayNum / 2)));
      out.iv = 0;
      const g = out.greeks;
      g.price = out.price;
      g.delta = 0;
      g.gamma = 0;
      g.theta = 0;
      g.vega = 0;
      return out;
    }
    const sigma = this.vol(u, d.dayNum, Math.floor(k / 60), inst.strike, tYears, forward);
    bsGreeksInto(out.greeks, inst.instrumentType as 'CE' | 'PE', spot, inst.strike, tYears, sigma);
    const p = round05(out.greeks.price);
    out.price = p < 0.05 ? 0.05 : p;
    out.iv = sigma;
    return out;
  }

  newQuote(): OptionQuote {
    return { price: 0, spot: 0, iv: 0, greeks: { price: 0, delta: 0, gamma: 0, theta: 0, vega: 0 } };
  }

  /**
   * The 1-minute candle of a derivative for minute m of model day `dayNum`, counting only seconds k <= maxK (the
   * present), or null when nothing traded. volume = lots traded up to the last counted trade, oi = the minute's OI.
   */
  derivativeCandle(inst: Instrument, dayNum: number, m: number, maxK: number, ms: MinuteState, q: OptionQuote, greeksScaled = false): Candle | null {
    const d = this.derivDay(inst, dayNum);
    this.minuteState(inst, d, m, ms);
    if (ms.count === 0) return null;
    const base = m * 60;
    const lastJ = Math.min(59, maxK - base);
    if (lastJ < 0) return null;
    let open = 0;
    let high = -Infinity;
    let low = Infinity;
    let close = 0;
    let n = 0;
    let lastTick = -1;
    for (let j = 0; j <= lastJ; j++) {
      if (!isTick(ms, j)) continue;
      this.quote(inst, d, base + j, q);
      if (n === 0) open = q.price;
      if (q.price > high) high = q.price;
      if (q.price < low) low = q.price;
      close = q.price;
      n++;
      lastTick = j;
    }
    if (n === 0) return null;
    const volume = Math.floor((ms.lots * n) / ms.count) * inst.lotSize;
    const isOption = inst.kind === 'option';
    // greeks of the last trade; underlying = index level at the end of the (counted part of the) minute
    const underlying = this.spotAt(inst.underlying, dayNum, base + lastJ);
    if (isOption) this.quote(inst, d, base + lastTick, q);
    return {
      t: d.startSec + base,
      open,
      high,
      low,
      close,
      volume,
      oi: ms.oi,
      iv: isOption ? round(q.iv, 4) : null,
      delta: isOption ? round(q.greeks.delta, 4) : null,
      gamma: isOption ? round(q.greeks.gamma, 6) : null,
      theta: isOption ? (greeksScaled ? round(q.greeks.theta / 365, 8) : round(q.greeks.theta, 4)) : null,
      vega: isOption ? (greeksScaled ? round(q.greeks.vega / 100, 8) : round(q.greeks.vega, 4)) : null,
      underlying: isOption ? underlying : null,
    };
  }

  /** OHLC of an index over seconds [fromK, toK] of a model day, labelled `t`. */
  indexRange(u: UnderlyingSpec, dayNum: number, fromK: number, toK: number, t: number): Candle {
    const path = this.path(u, dayNum);
    path.at(toK);
    const prices = path.prices;
    const open = prices[fromK];
    let high = open;
    let low = open;
    for (let k = fromK + 1; k <= toK; k++) {
      const p = prices[k];
      if (p > high) high = p;
      else if (p < low) low = p;
    }
    return { t, open, high, low, close: prices[toK], volume: 0, oi: 0, iv: null, delta: null, gamma: null, theta: null, vega: null, underlying: null };
  }

  /** The 1-minute candle of an index (every second ticks; volume and OI are 0). */
  indexCandle(u: UnderlyingSpec, dayNum: number, m: number, maxK: number): Candle | null {
    const base = m * 60;
    const lastJ = Math.min(59, maxK - base);
    if (lastJ < 0) return null;
    const path = this.path(u, dayNum);
    const open = path.at(base);
    let high = open;
    let low = open;
    for (let j = 1; j <= lastJ; j++) {
      const p = path.at(base + j);
      if (p > high) high = p;
      if (p < low) low = p;
    }
    return {
      t: modelDayStart(dayNum) + base,
      open,
      high,
      low,
      close: path.at(base + lastJ),
      volume: 0,
      oi: 0,
      iv: null,
      delta: null,
      gamma: null,
      theta: null,
      vega: null,
      underlying: null,
    };
  }
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
