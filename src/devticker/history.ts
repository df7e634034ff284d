// GET /history: the service's parameter handling (zone dropped, naive IST wall-clock) and "Kite" candles from the
// market model. Only session minutes (09:15..15:29 IST on trading days) up to the present produce candles.
import { type HolidayCalendar, addDays, fromIstWallClock, istDate, istDayNumber, toIstOffsetString } from '../shared/calendar';
import { type Candle, type MarketModel, SESSION_SECONDS, emptyMinute, modelDayStart } from './market';
import type { Instrument } from './registry';

/** Kite's maximum days per historical request, by interval. */
export const KITE_MAX_DAYS: Record<string, number> = {
  minute: 60,
  '3minute': 100,
  '5minute': 100,
  '10minute': 100,
  '15minute': 200,
  '30minute': 200,
  '60minute': 400,
  day: 2000,
};

const INTERVAL_MINUTES: Record<string, number> = {
  minute: 1,
  '3minute': 3,
  '5minute': 5,
  '10minute': 10,
  '15minute': 15,
  '30minute': 30,
  '60minute': 60,
  day: 0,
};

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;
const NUMBER_RE = /^[+-]?\d+(\.\d+)?$/;

export interface NaiveTime {
  /** the naive wall-clock text the service passes on (Python isoformat of the naive datetime) */
  text: string;
  /** that wall-clock read as IST, epoch ms */
  istMs: number;
}

/**
 * Parses a from_ts/to_ts the way the service does: pydantic datetime (ISO-8601, date only, or unix epoch seconds,
 * milliseconds when > 2e10), then aware values are converted to UTC and the zone dropped; Kite reads the naive
 * result as IST wall-clock. So '+05:30' and epoch inputs land 5h30m earlier than meant. Null when unparseable.
 */
export function parseHistoryTime(raw: string): NaiveTime | null {
  const s = raw.trim();
  let utcWallMs: number; // the naive wall clock encoded as if UTC
  if (NUMBER_RE.test(s)) {
    let n = Number(s);
    if (Math.abs(n) > 2e10) n /= 1000;
    utcWallMs = Math.round(n * 1000);
  } else {
    const m = ISO_RE.exec(s);
    if (!m) return null;
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
    if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +sec > 59) return null;
    const micros = frac ? Math.round(Number(`0.${frac}`) * 1e6) : 0;
    let wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec) + Math.floor(micros / 1000);
    if (new Date(wall).getUTCDate() !== +d) return null;
    if (zone && zone.toUpperCase() !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
      wall -= offsetMin * 60_000; // astimezone(UTC)
    }
    utcWallMs = wall;
  }
  if (!Number.isFinite(utcWallMs)) return null;
  const iso = new Date(utcWallMs).toISOString();
  const ms = iso.slice(20, 23);
  const text = ms === '000' ? iso.slice(0, 19) : `${iso.slice(0, 19)}.${ms}000`;
  return { text, istMs: fromIstWallClock(iso.slice(0, 23)) };
}

export function isKnownInterval(interval: string): boolean {
  return interval in INTERVAL_MINUTES;
}

/** First and last day a contract trades in the model (monthlies list ~3 months ahead, weeklies ~5 weeks). */
function contractLife(inst: Instrument): { first: string; last: string } | null {
  if (inst.kind === 'index' || !inst.expiry) return null;
  return { first: addDays(inst.expiry, inst.weekly ? -40 : -100), last: inst.expiry };
}

export interface CandleJson {
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  oi?: number;
  iv?: number | null;
  delta?: number | null;
  gamma?: number | null;
  theta?: number | null;
  vega?: number | null;
  underlying?: number | null;
}

/**
 * Candles of `interval` for bucket starts in [fromMs, toMs], only minutes already begun at `nowMs`. Yields to the
 * event loop every few days so that a long request never stalls the ticks (or an embedding console).
 */
export async function computeCandles(
  model: MarketModel,
  calendar: HolidayCalendar,
  inst: Instrument,
  fromMs: number,
  toMs: number,
  nowMs: number,
  interval: string,
  withOi: boolean,
  /** theta / 365 and vega / 100, as the service's calculator publishes them (production) */
  greeksScaled = false,
): Promise<CandleJson[]> {
  const size = INTERVAL_MINUTES[interval];
  const endMs = Math.min(toMs, nowMs);
  if (endMs < fromMs && size !== 0) return [];
  const life = contractLife(inst);
  let firstDate = istDate(fromMs);
  let lastDate = istDate(Math.min(toMs, nowMs));
  if (life) {
    if (life.first > firstDate) firstDate = life.first;
    if (life.last < lastDate) lastDate = life.last;
  }
  if (lastDate < firstDate) return [];
  const nowSec = Math.floor(nowMs / 1000);
  const minutes: Candle[] = [];
  const ms = emptyMinute();
  const q = model.newQuote();
  const out: CandleJson[] = [];
  const isOption = inst.kind === 'option';
  let n = 0;
  for (const date of calendar.tradingDaysBetween(firstDate, lastDate)) {
    if (++n % 4 === 0) await new Promise((r) => setImmediate(r));
    const dayNum = istDayNumber(date);
    const dayStart = modelDayStart(dayNum);
    const maxK = Math.min(SESSION_SECONDS - 1, nowSec - dayStart);
    if (maxK < 0) continue;
    if (size === 0 && inst.kind === 'index') {
      const dayMs = fromIstWallClock(date);
      if (dayMs + 86_399_999 < fromMs || dayMs > toMs) continue;
      const c = model.indexRange(inst.underlying, dayNum, 0, maxK, dayMs / 1000);
      out.push(toJson(c, withOi, false));
      continue;
    }
    minutes.length = 0;
    for (let m = 0; m * 60 <= maxK && m < 375; m++) {
      const startMs = (dayStart + m * 60) * 1000;
      if (size !== 0 && (startMs < fromMs || startMs > toMs)) continue;
      const c =
        inst.kind === 'index' ? model.indexCandle(inst.underlying, dayNum, m, maxK) : model.derivativeCandle(inst, dayNum, m, maxK, ms, q, greeksScaled);
      if (c) minutes.push(c);
    }
    if (size === 0) {
      const dayMs = fromIstWallClock(date);
      if (dayMs + 86_399_999 < fromMs || dayMs > toMs) continue;
      if (minutes.length) out.push(toJson(aggregate(minutes, 0, minutes.length, dayMs / 1000), withOi, isOption));
      continue;
    }
    let i = 0;
    while (i < minutes.length) {
      const bucket = Math.floor((minutes[i].t - dayStart) / (size * 60));
      let jEnd = i + 1;
      while (jEnd < minutes.length && Math.floor((minutes[jEnd].t - dayStart) / (size * 60)) === bucket) jEnd++;
      out.push(toJson(size === 1 ? minutes[i] : aggregate(minutes, i, jEnd, dayStart + bucket * size * 60), withOi, isOption));
      i = jEnd;
    }
  }
  return out;
}

function aggregate(minutes: Candle[], from: number, to: number, t: number): Candle {
  const first = minutes[from];
  const last = minutes[to - 1];
  let high = -Infinity;
  let low = Infinity;
  let volume = 0;
  for (let i = from; i < to; i++) {
    const c = minutes[i];
    if (c.high > high) high = c.high;
    if (c.low < low) low = c.low;
    volume += c.volume;
  }
  return { ...last, t, open: first.open, high, low, volume };
}

function toJson(c: Candle, withOi: boolean, isOption: boolean): CandleJson {
  const j: CandleJson = { date: toIstOffsetString(c.t * 1000), open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume };
  if (withOi) {
    j.oi = c.oi;
    if (isOption) {
      j.iv = c.iv;
      j.delta = c.delta;
      j.gamma = c.gamma;
      j.theta = c.theta;
      j.vega = c.vega;
      j.underlying = c.underlying;
    }
  }
  return j;
}
