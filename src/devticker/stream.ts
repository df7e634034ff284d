// Tick emission: for every streaming instrument, publish the model's state at its latest trading second, once.
// Messages are built by string concatenation from precomputed prefixes: the only allocation per tick is the JSON text.
import type { HolidayCalendar } from '../main/calendar';
import { istDateFromDayNumber, istDayNumber } from '../main/calendar';
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
import type { SimFaults } from './sim';

export type UnderlyingShape = 'A' | 'B' | 'alternate';

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

/** Python prints floats with a decimal point: 24500.0 */
const pyFloat = (x: number): string => (Number.isInteger(x) ? x.toFixed(1) : String(x));

export class Streamer {
  private derivs: DerivEntry[] = [];
  private indices: IndexEntry[] = [];
  private readonly q: OptionQuote;
  /** per account index: epoch seconds (float) of the last published tick, or null */
  readonly lastTickAt: Array<number | null> = [];
  messages = 0;

  constructor(
    private readonly model: MarketModel,
    private readonly calendar: HolidayCalendar,
    private readonly publish: (channel: FeedChannel, message: string) => void,
    private readonly faults: () => SimFaults,
    private readonly underlyingShape: UnderlyingShape,
    accounts: number,
  ) {
    this.q = model.newQuote();
    for (let i = 0; i < accounts; i++) this.lastTickAt.push(null);
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
        inst, accountIdx, prefix: optionPrefix(inst), isFuture: inst.kind === 'future', d: null, ms: emptyMinute(), lotsBefore: -1, lastEmitSec: -1,
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
      return { inst, u: inst.underlying, accountIdx, lastEmitSec: -1, dayNum: -1, hlK: -1, dayHigh: 0, dayLow: 0, prevClose: 0 };
    });
  }

  get streamingCount(): number {
    return this.derivs.length + this.indices.length;
  }

  streamingTokens(): number[] {
    return [...this.indices.map((e) => e.inst.token), ...this.derivs.map((e) => e.inst.token)];
  }

  /** Publishes every tick due at `nowMs` (the state at each instrument's latest trading second). Returns the count. */
  tick(nowMs: number, inSession: boolean): number {
    const sec = Math.floor(nowMs / 1000);
    const day = modelDayOf(sec);
    const dayStart = modelDayStart(day);
    const k = sec - dayStart;
    const m = Math.floor(k / 60);
    const j = k - m * 60;
    const f = this.faults();
    const isMock = f.quirkIsMockFalse ? 'false' : inSession ? 'false' : 'true';
    const receiveTs = String(Math.round(nowMs) / 1000);
    let sent = 0;
    const q = this.q;
    for (const e of this.derivs) {
      const inst = e.inst;
      let d = e.d;
      if (d === null || d.dayNum !== day) {
        d = this.model.derivDay(inst, day);
        e.d = d;
        e.ms.minute = -1;
        e.lotsBefore = -1;
      }
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
      let msg: string;
      if (e.isFuture) {
        msg = `${e.prefix}${q.price},"volume":${volume},"oi":${ms.oi},"iv":0.0,"delta":0.0,"gamma":0.0,"theta":0.0,"vega":0.0,"ts":${f.quirkTsReceiveTime ? receiveTs : tickSec},"is_mock":${isMock},"depth":${depth(q.price, inst, tickSec, f.quirkDepthScaled)},"total_buy_quantity":${totalQty(inst, tickSec, 1)},"total_sell_quantity":${totalQty(inst, tickSec, 2)}}`;
      } else {
        const g = q.greeks;
        const theta = f.quirkGreeksScaled ? g.theta / 365 : g.theta;
        const vega = f.quirkGreeksScaled ? g.vega / 100 : g.vega;
        msg = `${e.prefix}${q.price},"volume":${volume},"oi":${ms.oi},"iv":${round(q.iv, 4)},"delta":${round(g.delta, 4)},"gamma":${round(g.gamma, 6)},"theta":${f.quirkGreeksScaled ? round(theta, 8) : round(theta, 4)},"vega":${f.quirkGreeksScaled ? round(vega, 8) : round(vega, 4)},"ts":${f.quirkTsReceiveTime ? receiveTs : tickSec},"is_mock":${isMock},"depth":${depth(q.price, inst, tickSec, f.quirkDepthScaled)},"total_buy_quantity":${totalQty(inst, tickSec, 1)},"total_sell_quantity":${totalQty(inst, tickSec, 2)}}`;
      }
      this.publish(CHANNEL_OPTIONS, msg);
      this.lastTickAt[e.accountIdx] = nowMs / 1000;
      sent++;
    }
    for (const e of this.indices) {
      if (sec === e.lastEmitSec) continue;
      e.lastEmitSec = sec;
      const u = e.u;
      const price = this.model.spotAt(u, day, k);
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
      const ts = f.quirkTsReceiveTime ? receiveTs : String(sec);
      const shapeA = this.underlyingShape === 'A' || (this.underlyingShape === 'alternate' && sec % 2 === 0);
      let msg: string;
      if (shapeA) {
        const open = this.model.spotAt(u, day, 0);
        msg = `{"symbol":"${u.name}","instrument_token":${u.indexToken},"last_price":${price},"volume":0,"timestamp":${ts},"ohlc":{"open":${open},"high":${e.dayHigh},"low":${e.dayLow},"close":${e.prevClose}}}`;
      } else {
        const start = m * 60;
        const open = this.model.spotAt(u, day, start);
        let hi = open;
        let lo = open;
        for (let i = start + 1; i <= k; i++) {
          const p = this.model.spotAt(u, day, i);
          if (p > hi) hi = p;
          if (p < lo) lo = p;
        }
        msg = `{"symbol":"${u.name}","open":${open},"high":${hi},"low":${lo},"close":${price},"volume":0,"ts":${ts}}`;
      }
      this.publish(CHANNEL_UNDERLYING, msg);
      this.lastTickAt[e.accountIdx] = nowMs / 1000;
      sent++;
    }
    this.messages += sent;
    return sent;
  }
}

function optionPrefix(inst: Instrument): string {
  return `{"symbol":"${inst.name}","token":${inst.token},"tradingsymbol":"${inst.tradingsymbol}","segment":"${inst.segment}","exchange":"${inst.exchange}","strike":${pyFloat(inst.strike)},"expiry":"${inst.expiry}","type":"${inst.instrumentType}","lot_size":${inst.lotSize},"tick_size":${inst.tickSize},"price":`;
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
    buy += `${i ? ',' : ''}{"quantity":${inst.lotSize * (1 + (hb % 40))},"price":${bp},"orders":${1 + (hb % 12)}}`;
    sell += `${i ? ',' : ''}{"quantity":${inst.lotSize * (1 + (hs % 40))},"price":${sp},"orders":${1 + (hs % 12)}}`;
  }
  return `{"buy":[${buy}],"sell":[${sell}]}`;
}

function totalQty(inst: Instrument, tickSec: number, side: number): number {
  return inst.lotSize * (100 + (hash4(inst.token, tickSec, side, 0x7077) % 5000));
}
