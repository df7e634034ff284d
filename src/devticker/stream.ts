// Tick emission: for every streaming instrument, publish the model's state at its latest trading second, once.
// Messages are built by string concatenation from precomputed prefixes: the only allocation per tick is the JSON text.
// The text is what Python's json.dumps prints (", " and ": " separators, floats with a decimal point, NaN), because
// the real service PUBLISHes json.dumps output and a consumer must parse exactly that.
import type { HolidayCalendar } from '../shared/calendar';
import { istDateFromDayNumber, istDayNumber } from '../shared/calendar';
import { CHANNEL_OPTIONS, CHANNEL_UNDERLYING, type FeedChannel } from '../shared/feed';
import { hash4 } from './hash';
import {
  type DerivDay,
  type MarketModel,
  type MinuteState,
  type OptionQuote,
  countUpTo,
  emptyMinute,
  lastTickUpTo,
  modelDayOf,
  modelDayStart,
  round,
  SESSION_SECONDS,
} from './market';
import type { Instrument, UnderlyingSpec } from './registry';
import type { Profile, SimFaults } from './sim';

export type UnderlyingShape = 'A' | 'B' | 'alternate';

/**
 * What the service is doing this second. 'live': Kite ticks (only trades). 'mock': the service's own generator,
 * every instrument every second (production outside 09:15-15:30 IST). 'closed': the kind simulator's always-open
 * mode outside sessions (trades as in a session, is_mock true).
 */
export type FeedMode = 'live' | 'mock' | 'closed';

export interface StreamTarget {
  inst: Instrument;
  accountIdx: number;
}

interface DerivEntry {
  inst: Instrument;
  accountIdx: number;
  prefix: string;
  isFuture: boolean;
  d: DerivDay | null;
  ms: MinuteState;
  lotsBefore: number;
  lastEmitSec: number;
}

interface IndexEntry {
  inst: Instrument;
  u: UnderlyingSpec;
  accountIdx: number;
  lastEmitSec: number;
  dayNum: number;
  hlK: number;
  dayHigh: number;
  dayLow: number;
  prevClose: number;
}

/**
 * A Python float as json.dumps prints it: repr() with a decimal point (24500.0), exponent below 1e-4 (5e-05), NaN.
 * JavaScript's shortest round-trip digits are the same as Python's repr; only the layout differs.
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const a = Math.abs(x);
  if (a < 1e-4 || a >= 1e16) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** Seconds after IST midnight at which the real service's session window opens and closes (09:15, 15:30). */
const WINDOW_OPEN = 9 * 3600 + 15 * 60;
const WINDOW_CLOSE = 15 * 3600 + 30 * 60;

/** The real service's market-hours test: IST time of day only (no weekday, no holiday calendar). */
export function inServiceWindow(nowMs: number): boolean {
  const s = (((Math.floor(nowMs / 1000) + 19_800) % 86_400) + 86_400) % 86_400;
  return s >= WINDOW_OPEN && s < WINDOW_CLOSE;
}

export class Streamer {
  private derivs: DerivEntry[] = [];

  /** The derivative's model for this IST day, rebuilt (with its minute state) when the day changes. */
  private dayOf(e: DerivEntry, day: number): DerivDay {
    if (e.d === null || e.d.dayNum !== day) {
      e.d = this.model.derivDay(e.inst, day);
      e.ms.minute = -1;
      e.lotsBefore = -1;
    }
    return e.d;
  }
  private indices: IndexEntry[] = [];
  /** index tokens streaming (the greeks calculator needs one per underlying in production) */
  private indexTokens = new Set<number>();
  private readonly q: OptionQuote;
  /** per account index: epoch seconds (float) of the last published live tick, or null */
  readonly lastTickAt: Array<number | null> = [];
  messages = 0;
  private nifty: IndexEntry | null = null;

  constructor(
    private readonly model: MarketModel,
    private readonly calendar: HolidayCalendar,
    private readonly publish: (channel: FeedChannel, message: string) => void,
    private readonly faults: () => SimFaults,
    private readonly underlyingShape: UnderlyingShape,
    accounts: number,
    private readonly profile: Profile = 'production',
    niftySpec?: Instrument,
  ) {
    this.q = model.newQuote();
    for (let i = 0; i < accounts; i++) this.lastTickAt.push(null);
    if (niftySpec) this.nifty = newIndexEntry(niftySpec, 0);
  }

  /** Replaces the streaming set. Entries of instruments that stay keep their state. */
  setTargets(targets: StreamTarget[], indexTargets: StreamTarget[]): void {
    const old = new Map<number, DerivEntry>();
    for (const e of this.derivs) old.set(e.inst.token, e);
    this.derivs = targets.map(({ inst, accountIdx }) => {
      const prev = old.get(inst.token);
      if (prev) {
        prev.accountIdx = accountIdx;
        return prev;
      }
      return {
        inst,
        accountIdx,
        prefix: optionPrefix(inst),
        isFuture: inst.kind === 'future',
        d: null,
        ms: emptyMinute(),
        lotsBefore: -1,
        lastEmitSec: -1,
      };
    });
    const oldIdx = new Map<number, IndexEntry>();
    for (const e of this.indices) oldIdx.set(e.inst.token, e);
    this.indices = indexTargets.map(({ inst, accountIdx }) => {
      const prev = oldIdx.get(inst.token);
      if (prev) {
        prev.accountIdx = accountIdx;
        return prev;
      }
      return newIndexEntry(inst, accountIdx);
    });
    this.indexTokens = new Set(this.indices.map((e) => e.inst.token));
  }

  get streamingCount(): number {
    return this.derivs.length + this.indices.length;
  }

  streamingTokens(): number[] {
    return [...this.indices.map((e) => e.inst.token), ...this.derivs.map((e) => e.inst.token)];
  }

  /** Publishes every tick due at `nowMs`. Returns the count. */
  tick(nowMs: number, mode: FeedMode): number {
    if (mode === 'mock') return this.tickMock(nowMs);
    const sec = Math.floor(nowMs / 1000);
    const day = modelDayOf(sec);
    const dayStart = modelDayStart(day);
    const k = sec - dayStart;
    const m = Math.floor(k / 60);
    const j = k - m * 60;
    const f = this.faults();
    const isMock = f.quirkIsMockFalse ? 'false' : mode === 'live' ? 'false' : 'true';
    const receiveTs = String(sec);
    let sent = 0;
    const q = this.q;
    for (const e of this.derivs) {
      const inst = e.inst;
      const d = this.dayOf(e, day);
      if (sec >= d.expirySec) continue;
      const ms = e.ms;
      if (ms.minute !== m) {
        if (ms.minute === m - 1 && e.lotsBefore >= 0) e.lotsBefore += ms.lots;
        else e.lotsBefore = this.model.lotsBefore(inst, d, m);
        this.model.minuteState(inst, d, m, ms);
      }
      const jj = lastTickUpTo(ms, j);
      if (jj < 0) continue;
      const tickSec = dayStart + m * 60 + jj;
      if (tickSec === e.lastEmitSec) continue;
      e.lastEmitSec = tickSec;
      this.model.quote(inst, d, m * 60 + jj, q);
      const volume = f.quirkVolumeZero ? 0 : (e.lotsBefore + Math.floor((ms.lots * countUpTo(ms, jj)) / ms.count)) * inst.lotSize;
      const ts = f.quirkTsReceiveTime ? receiveTs : String(tickSec);
      this.publish(CHANNEL_OPTIONS, this.derivMessage(e, q, volume, ms.oi, ts, isMock, f, f.quirkDepthScaled, tickSec));
      if (mode === 'live' || this.profile === 'ideal') this.lastTickAt[e.accountIdx] = nowMs / 1000;
      sent++;
    }
    const niftyDue = this.profile === 'production' && this.streamingCount > 0 && this.nifty !== null;
    for (const e of this.indices) {
      if (sec === e.lastEmitSec) continue;
      e.lastEmitSec = sec;
      this.trackDay(e, day, k);
      const price = this.model.spotAt(e.u, day, k);
      const ts = f.quirkTsReceiveTime ? receiveTs : String(sec);
      let msg: string;
      const shapeA = this.profile === 'production' || this.underlyingShape === 'A' || (this.underlyingShape === 'alternate' && sec % 2 === 0);
      if (shapeA) {
        msg = this.shapeA(e, day, price, ts);
      } else {
        msg = this.shapeB(e.u, day, k, ts, false);
      }
      this.publish(CHANNEL_UNDERLYING, msg);
      this.lastTickAt[e.accountIdx] = nowMs / 1000;
      sent++;
    }
    // The service's REST poll of NIFTY: shape B, whatever is subscribed.
    if (niftyDue && mode === 'live') sent += this.pollNifty(sec, day, k);
    this.messages += sent;
    return sent;
  }

  /** The service's mock generator: every subscribed instrument every second; index tokens as EQ rows. */
  private tickMock(nowMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    const day = modelDayOf(sec);
    const dayStart = modelDayStart(day);
    const k = sec - dayStart;
    const m = Math.floor(k / 60);
    const f = this.faults();
    const isMock = f.quirkIsMockFalse ? 'false' : 'true';
    const ts = String(sec);
    const q = this.q;
    let sent = 0;
    for (const e of this.derivs) {
      if (e.lastEmitSec === sec) continue;
      const inst = e.inst;
      const d = this.dayOf(e, day);
      if (sec >= d.expirySec) continue;
      e.lastEmitSec = sec;
      this.model.quote(inst, d, k, q);
      const volume = f.quirkVolumeZero ? 0 : this.model.lotsBefore(inst, d, Math.min(m, 375)) * inst.lotSize;
      // depth is right in mock mode: the /100 error is in the live tick path only
      this.publish(CHANNEL_OPTIONS, this.derivMessage(e, q, volume, this.model.oiAt(inst, d, m), ts, isMock, f, false, sec));
      sent++;
    }
    for (const e of this.indices) {
      if (e.lastEmitSec === sec) continue;
      e.lastEmitSec = sec;
      const u = e.u;
      const price = this.model.spotAt(u, day, k);
      this.publish(
        CHANNEL_OPTIONS,
        `{"symbol": "${u.indexSymbol}", "token": ${u.indexToken}, "tradingsymbol": "${u.indexSymbol}", "segment": "INDICES", "exchange": "NSE", "strike": 0.0, "expiry": null, "type": "EQ", "lot_size": 0, "tick_size": 0.0, "price": ${pyFloat(price)}, "volume": 0, "oi": 0, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0, "ts": ${ts}, "is_mock": ${isMock}}`,
      );
      sent++;
    }
    if (this.profile === 'production' && this.streamingCount > 0 && this.nifty) sent += this.pollNifty(sec, day, k);
    this.messages += sent;
    return sent;
  }

  private pollNifty(sec: number, day: number, k: number): number {
    const e = this.nifty as IndexEntry;
    if (e.lastEmitSec === sec) return 0;
    e.lastEmitSec = sec;
    this.publish(CHANNEL_UNDERLYING, this.shapeB(e.u, day, k, String(sec), true));
    return 1;
  }

  private derivMessage(
    e: DerivEntry,
    q: OptionQuote,
    volume: number,
    oi: number,
    ts: string,
    isMock: string,
    f: SimFaults,
    depthScaled: boolean,
    depthSec: number,
  ): string {
    const inst = e.inst;
    const tail = `, "ts": ${ts}, "is_mock": ${isMock}, "depth": ${depth(q.price, inst, depthSec, depthScaled)}, "total_buy_quantity": ${totalQty(inst, depthSec, 1)}, "total_sell_quantity": ${totalQty(inst, depthSec, 2)}}`;
    const head = `${e.prefix}${pyFloat(q.price)}, "volume": ${volume}, "oi": ${oi}`;
    const noIndex = f.quirkGreeksNeedIndex && !this.indexTokens.has(inst.underlying.indexToken);
    if (e.isFuture || noIndex) {
      return `${head}, "iv": 0.0, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0${tail}`;
    }
    const g = q.greeks;
    // The service's IV solver gives up on a price at the tick floor (the model's value is below it): NaN, greeks 0.
    if (f.quirkIvNaN && g.price < 0.05) {
      return `${head}, "iv": NaN, "delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0${tail}`;
    }
    const theta = f.quirkGreeksScaled ? round(g.theta / 365, 8) : round(g.theta, 4);
    const vega = f.quirkGreeksScaled ? round(g.vega / 100, 8) : round(g.vega, 4);
    return `${head}, "iv": ${pyFloat(round(q.iv, 4))}, "delta": ${pyFloat(round(g.delta, 4))}, "gamma": ${pyFloat(round(g.gamma, 6))}, "theta": ${pyFloat(theta)}, "vega": ${pyFloat(vega)}${tail}`;
  }

  private trackDay(e: IndexEntry, day: number, k: number): void {
    const u = e.u;
    if (e.dayNum !== day || e.hlK > k) {
      e.dayNum = day;
      e.hlK = -1;
      e.dayHigh = -Infinity;
      e.dayLow = Infinity;
      // Kite's ohlc.close of an index is the previous trading day's close.
      const prevDay = istDayNumber(this.calendar.previousTradingDay(istDateFromDayNumber(day)));
      e.prevClose = this.model.spotAt(u, prevDay, SESSION_SECONDS - 1);
    }
    for (let i = e.hlK + 1; i <= k; i++) {
      const p = this.model.spotAt(u, day, i);
      if (p > e.dayHigh) e.dayHigh = p;
      if (p < e.dayLow) e.dayLow = p;
    }
    e.hlK = k;
  }

  private shapeA(e: IndexEntry, day: number, price: number, ts: string): string {
    const u = e.u;
    const open = this.model.spotAt(u, day, 0);
    return `{"symbol": "${u.name}", "instrument_token": ${u.indexToken}, "last_price": ${pyFloat(price)}, "volume": 0, "timestamp": ${ts}, "ohlc": {"open": ${pyFloat(open)}, "high": ${pyFloat(e.dayHigh)}, "low": ${pyFloat(e.dayLow)}, "close": ${pyFloat(e.prevClose)}}}`;
  }

  /** Shape B: the current minute's OHLC so far. `mockFlag`: the REST poll / mock generator adds "is_mock": false. */
  private shapeB(u: UnderlyingSpec, day: number, k: number, ts: string, mockFlag: boolean): string {
    const start = Math.floor(k / 60) * 60;
    const open = this.model.spotAt(u, day, start);
    let hi = open;
    let lo = open;
    for (let i = start + 1; i <= k; i++) {
      const p = this.model.spotAt(u, day, i);
      if (p > hi) hi = p;
      if (p < lo) lo = p;
    }
    const close = this.model.spotAt(u, day, k);
    return `{"symbol": "${u.name}", "open": ${pyFloat(open)}, "high": ${pyFloat(hi)}, "low": ${pyFloat(lo)}, "close": ${pyFloat(close)}, "volume": 0, "ts": ${ts}${mockFlag ? ', "is_mock": false' : ''}}`;
  }
}

function newIndexEntry(inst: Instrument, accountIdx: number): IndexEntry {
  return { inst, u: inst.underlying, accountIdx, lastEmitSec: -1, dayNum: -1, hlK: -1, dayHigh: 0, dayLow: 0, prevClose: 0 };
}

function optionPrefix(inst: Instrument): string {
  return `{"symbol": "${inst.name}", "token": ${inst.token}, "tradingsymbol": "${inst.tradingsymbol}", "segment": "${inst.segment}", "exchange": "${inst.exchange}", "strike": ${pyFloat(inst.strike)}, "expiry": "${inst.expiry}", "type": "${inst.instrumentType}", "lot_size": ${inst.lotSize}, "tick_size": ${pyFloat(inst.tickSize)}, "price": `;
}

/** Five levels each side around the last price; deterministic per (token, second). */
function depth(price: number, inst: Instrument, tickSec: number, scaled: boolean): string {
  const h = hash4(inst.token, tickSec, 0xde97);
  const spreadTicks = 1 + (h % 3);
  let buy = '';
  let sell = '';
  for (let i = 0; i < 5; i++) {
    const hb = hash4(h, i, 1);
    const hs = hash4(h, i, 2);
    let bp = Math.round((price - 0.05 * (spreadTicks + i)) * 20) / 20;
    if (bp < 0.05) bp = 0.05;
    let sp = Math.round((price + 0.05 * (spreadTicks + i)) * 20) / 20;
    if (scaled) {
      bp = round(bp / 100, 6);
      sp = round(sp / 100, 6);
    }
    buy += `${i ? ', ' : ''}{"quantity": ${inst.lotSize * (1 + (hb % 40))}, "price": ${pyFloat(bp)}, "orders": ${1 + (hb % 12)}}`;
    sell += `${i ? ', ' : ''}{"quantity": ${inst.lotSize * (1 + (hs % 40))}, "price": ${pyFloat(sp)}, "orders": ${1 + (hs % 12)}}`;
  }
  return `{"buy": [${buy}], "sell": [${sell}]}`;
}

function totalQty(inst: Instrument, tickSec: number, side: number): number {
  return inst.lotSize * (100 + (hash4(inst.token, tickSec, side, 0x7077) % 5000));
}
