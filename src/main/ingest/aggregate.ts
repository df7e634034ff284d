// One-minute bars from ticks, to the rules of docs/market-data.md:
// - oi: the LAST open interest in the bucket (by tick time), never a sum;
// - volume: cumulative day volume at the last tick minus the last cumulative before the bucket (see volumeOf);
// - open/high/low/close in tick-time order: close is the last tick's price, open the first's;
// - greeks: mean over ticks carrying a valid value (missing/invalid skipped, never counted as 0); null when none;
// - ticks: per side; underlying_close: the last underlying price at or before the bucket end.
//
// Buckets are whole UTC minutes of the tick's own time. A bucket is flushed complete by the wall clock at its end
// plus a small lag. LATE TICKS (the stated rule): a tick for a bucket that was already flushed is merged while
// now < bucket end + lag + lateGrace (default 2 min): the bucket's full aggregate is written again (a complete
// row replaced by a complete row, never by a partial one), and so are the later flushed buckets of that token
// whose volume baseline it changed. Older ticks are dropped and counted (lateDropped).
import type { InstrumentBar, StrikeSideBar } from '../market/bars';
import type { OptionTick, OptionType, UnderlyingTick } from './parse';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** 09:15 IST as ms after UTC midnight: the start of a trading day's volume count. */
const OPEN_ANCHOR = 3 * 3_600_000 + 45 * 60_000;

/** The trading day a bucket belongs to for volume purposes: days run from 09:15 IST to 09:15 IST. */
export const volumeDay = (ms: number): number => Math.floor((ms - OPEN_ANCHOR) / DAY);
export const volumeDayOpen = (day: number): number => day * DAY + OPEN_ANCHOR;
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE) * MINUTE;

const G_IV = 0;
const G_DELTA = 1;
const G_GAMMA = 2;
const G_THETA = 3;
const G_VEGA = 4;

/** The aggregate of one instrument over one minute. */
interface Bucket {
  start: number;
  ticks: number;
  open: number | null;
  openTs: number;
  high: number | null;
  low: number | null;
  close: number | null;
  closeTs: number;
  oi: number | null;
  oiTs: number;
  /** Cumulative day volume at the latest tick (by time) that carried one. */
  cum: number | null;
  cumTs: number;
  /** sums [0..4] and counts [5..9] of iv, delta, gamma, theta, vega */
  g: Float64Array;
  /** Written as complete (the due flush happened). */
  flushed: boolean;
  /** Changed since it was flushed: to be written again. */
  dirty: boolean;
  /** Changed since the last partial snapshot. */
  partialDirty: boolean;
}

type Kind = OptionType | 'INDEX';

interface Instrument {
  token: number;
  kind: Kind;
  symbol: string;
  expiry: string | null;
  strike: number;
  /** Retained buckets, ascending by start. */
  buckets: Bucket[];
  /** When this token's ticks were first seen (any tick, stored or not): watched since then. */
  seenSince: number;
  /**
   * The newest evicted bucket's start and the last cumulative volume of its trading day seen so far (null when
   * none of that day's evicted buckets carried one).
   */
  base: { cum: number | null; start: number } | null;
}

interface UnderlyingPoint {
  start: number;
  price: number;
  ts: number;
}

interface UnderlyingSeries {
  points: UnderlyingPoint[];
  /** Last price folded out of `points` by eviction. */
  before: { price: number; ts: number } | null;
}

export interface AggregatorOptions {
  /** Flush a bucket this long after its end (default 2 s): ticks of the last second still arrive. */
  lagMs?: number;
  /** Late ticks are merged until bucket end + lag + this (default 120 s); older ones are dropped. */
  lateGraceMs?: number;
  /** A silence longer than this (default 5 min) means the feed was down: volume baselines are not assumed across it. */
  maxFeedGapMs?: number;
}

export interface Emission {
  strike: StrikeSideBar[];
  instruments: InstrumentBar[];
}

export interface AggregatorStats {
  instruments: number;
  openBuckets: number;
  lateMerged: number;
  lateDropped: number;
  /** Underlying ticks without a resolvable index token (no index bar, still used for underlying_close). */
  underlyingWithoutToken: number;
}

const newBucket = (start: number): Bucket => ({
  start,
  ticks: 0,
  open: null,
  openTs: Infinity,
  high: null,
  low: null,
  close: null,
  closeTs: -Infinity,
  oi: null,
  oiTs: -Infinity,
  cum: null,
  cumTs: -Infinity,
  g: new Float64Array(10),
  flushed: false,
  dirty: false,
  partialDirty: false,
});

export class BarAggregator {
  readonly lagMs: number;
  readonly lateGraceMs: number;
  private readonly instruments = new Map<number, Instrument>();
  /** Unflushed buckets by start: the due flush visits only these. */
  private readonly open = new Map<number, Set<Instrument>>();
  /** Instruments holding flushed buckets that changed (late ticks). */
  private readonly reflush = new Set<Instrument>();
  private readonly underlying = new Map<string, UnderlyingSeries>();
  private lastSweepMinute = -Infinity;
  /** First sight of each token (noteSeen), including ticks not stored (pre-open mock ticks). */
  private readonly seen = new Map<number, number>();
  /** Since when the feed has been streaming without a gap longer than maxFeedGapMs (null: not streaming). */
  private feedUpSince: number | null = null;
  private lastFeedAt = -Infinity;
  readonly maxFeedGapMs: number;
  private lateMerged = 0;
  private lateDropped = 0;
  private underlyingWithoutToken = 0;

  constructor(opts: AggregatorOptions = {}) {
    this.lagMs = opts.lagMs ?? 2_000;
    this.lateGraceMs = opts.lateGraceMs ?? 120_000;
    this.maxFeedGapMs = opts.maxFeedGapMs ?? 5 * MINUTE;
  }

  /**
   * Notes that a token ticked at `ms` (receive time), whether or not the tick is stored, and that the feed was up
   * then. A token watched since before a day's open with the feed up all along has its first cumulative volume of
   * the day counted from 0: Kite sends a tick on every trade, so the first tick after a silent stretch carries
   * only the volume of its own minute.
   */
  noteSeen(token: number | null, ms: number): void {
    if (this.feedUpSince === null || ms - this.lastFeedAt > this.maxFeedGapMs) this.feedUpSince = ms;
    if (ms > this.lastFeedAt) this.lastFeedAt = ms;
    if (token === null) return;
    if (!this.seen.has(token)) this.seen.set(token, ms);
    const inst = this.instruments.get(token);
    if (inst && ms < inst.seenSince) inst.seenSince = ms;
  }

  /** The feed was up, and the token watched, since before the open of `day` (volume days). */
  private watchedFromOpen(inst: Instrument, day: number): boolean {
    const open = volumeDayOpen(day);
    const seen = Math.min(inst.seenSince, this.seen.get(inst.token) ?? Infinity);
    return this.feedUpSince !== null && this.feedUpSince <= open && seen <= open;
  }

  /** True when a tick of this minute can no longer be merged at `now`. */
  private tooLate(start: number, now: number): boolean {
    return start + MINUTE + this.lagMs + this.lateGraceMs <= now;
  }

  /** Adds an option or futures tick. Returns false when it was too late and dropped. */
  addOptionTick(t: OptionTick, now: number): boolean {
    let inst = this.instruments.get(t.token);
    if (!inst) {
      inst = {
        token: t.token,
        kind: t.type,
        symbol: t.symbol,
        expiry: t.expiry,
        strike: t.strike,
        buckets: [],
        base: null,
        seenSince: this.seen.get(t.token) ?? t.tsMs,
      };
      this.instruments.set(t.token, inst);
    } else if (inst.strike !== t.strike || inst.expiry !== t.expiry || inst.kind !== t.type) {
      // Kite reuses tokens of expired contracts: the latest tick's contract is the token's contract.
      inst.kind = t.type;
      inst.expiry = t.expiry;
      inst.strike = t.strike;
      inst.symbol = t.symbol;
    }
    const b = this.bucketFor(inst, t.tsMs, now);
    if (!b) return false;
    const ts = t.tsMs;
    b.ticks++;
    if (t.price !== null) this.applyPrice(b, t.price, ts);
    if (t.oi !== null && ts >= b.oiTs) {
      b.oi = t.oi;
      b.oiTs = ts;
    }
    let cumChanged = false;
    if (t.cumVolume !== null && ts >= b.cumTs) {
      cumChanged = b.cum !== t.cumVolume;
      b.cum = t.cumVolume;
      b.cumTs = ts;
    }
    const g = b.g;
    if (t.iv !== null) {
      g[G_IV] += t.iv;
      g[G_IV + 5]++;
    }
    if (t.delta !== null) {
      g[G_DELTA] += t.delta;
      g[G_DELTA + 5]++;
    }
    if (t.gamma !== null) {
      g[G_GAMMA] += t.gamma;
      g[G_GAMMA + 5]++;
    }
    if (t.theta !== null) {
      g[G_THETA] += t.theta;
      g[G_THETA + 5]++;
    }
    if (t.vega !== null) {
      g[G_VEGA] += t.vega;
      g[G_VEGA + 5]++;
    }
    if (b.flushed) this.markLate(inst, b, cumChanged);
    return true;
  }

  /** Adds an underlying tick: feeds underlying_close, and an index bar when the index token is known. */
  addUnderlyingTick(t: UnderlyingTick, token: number | null, now: number): boolean {
    const start = minuteOf(t.tsMs);
    if (this.tooLate(start, now)) {
      this.lateDropped++;
      return false;
    }
    let series = this.underlying.get(t.symbol);
    if (!series) {
      series = { points: [], before: null };
      this.underlying.set(t.symbol, series);
    }
    const pts = series.points;
    let i = pts.length - 1;
    while (i >= 0 && pts[i].start > start) i--;
    if (i >= 0 && pts[i].start === start) {
      if (t.tsMs >= pts[i].ts) {
        pts[i].price = t.price;
        pts[i].ts = t.tsMs;
      }
    } else {
      pts.splice(i + 1, 0, { start, price: t.price, ts: t.tsMs });
    }
    if (token === null) {
      this.underlyingWithoutToken++;
      return true;
    }
    let inst = this.instruments.get(token);
    if (!inst) {
      inst = { token, kind: 'INDEX', symbol: t.symbol, expiry: null, strike: 0, buckets: [], base: null, seenSince: this.seen.get(token) ?? t.tsMs };
      this.instruments.set(token, inst);
    }
    const b = this.bucketFor(inst, t.tsMs, now);
    if (!b) return false;
    b.ticks++;
    this.applyPrice(b, t.price, t.tsMs);
    if (b.flushed) this.markLate(inst, b, false);
    return true;
  }

  private applyPrice(b: Bucket, price: number, ts: number): void {
    if (ts < b.openTs) {
      b.open = price;
      b.openTs = ts;
    }
    // Ties: the later arrival is the later trade (the feed has no sequence numbers).
    if (ts >= b.closeTs) {
      b.close = price;
      b.closeTs = ts;
    }
    if (b.high === null || price > b.high) b.high = price;
    if (b.low === null || price < b.low) b.low = price;
  }

  /** The bucket of `tsMs` for this instrument, created in order when new; null (counted) when too late. */
  private bucketFor(inst: Instrument, tsMs: number, now: number): Bucket | null {
    const start = minuteOf(tsMs);
    if (this.tooLate(start, now)) {
      this.lateDropped++;
      return null;
    }
    const list = inst.buckets;
    const last = list[list.length - 1];
    if (last && last.start === start) {
      last.partialDirty = true;
      return last;
    }
    let i = list.length - 1;
    while (i >= 0 && list[i].start > start) i--;
    if (i >= 0 && list[i].start === start) {
      list[i].partialDirty = true;
      return list[i];
    }
    const b = newBucket(start);
    b.partialDirty = true;
    list.splice(i + 1, 0, b);
    let set = this.open.get(start);
    if (!set) {
      set = new Set();
      this.open.set(start, set);
    }
    set.add(inst);
    // A bucket inserted before flushed ones changes their volume baseline.
    if (i + 1 < list.length - 1) this.markLaterDirty(inst, start);
    if (last && last.start < start && list.length > 4) this.evict(inst, now);
    return b;
  }

  private markLate(inst: Instrument, b: Bucket, cumChanged: boolean): void {
    this.lateMerged++;
    b.dirty = true;
    this.reflush.add(inst);
    if (cumChanged) this.markLaterDirty(inst, b.start);
  }

  private markLaterDirty(inst: Instrument, start: number): void {
    for (const later of inst.buckets) {
      if (later.start > start && later.flushed) {
        later.dirty = true;
        this.reflush.add(inst);
      }
    }
  }

  /** Folds flushed buckets past the late window into the instrument's volume base. */
  private evict(inst: Instrument, now: number): void {
    const list = inst.buckets;
    let n = 0;
    // Keep the newest bucket always: it is the volume baseline of the next one.
    while (n < list.length - 1 && list[n].flushed && !list[n].dirty && this.tooLate(list[n].start, now)) {
      const b = list[n];
      const carried = inst.base && volumeDay(inst.base.start) === volumeDay(b.start) ? inst.base.cum : null;
      inst.base = { cum: b.cum ?? carried, start: b.start };
      n++;
    }
    if (n > 0) list.splice(0, n);
  }

  private evictUnderlying(series: UnderlyingSeries, now: number): void {
    const pts = series.points;
    let n = 0;
    while (n < pts.length - 1 && this.tooLate(pts[n].start, now)) {
      series.before = { price: pts[n].price, ts: pts[n].ts };
      n++;
    }
    if (n > 0) pts.splice(0, n);
  }

  /** The last underlying price at or before the end of the minute starting at `start`. */
  underlyingCloseAt(symbol: string, start: number): number | null {
    const series = this.underlying.get(symbol);
    if (!series) return null;
    const pts = series.points;
    for (let i = pts.length - 1; i >= 0; i--) if (pts[i].start <= start) return pts[i].price;
    return series.before?.price ?? null;
  }

  /**
   * Volume traded in `list[idx]` and whether the bucket was observed from its start.
   * The baseline is the last cumulative before the bucket: the nearest earlier bucket of the same trading day
   * that carried one. The count resets at session start: the day's 09:15 bucket has baseline 0, and a
   * cumulative lower than the baseline means the counter was reset (new session or a service restart): baseline 0.
   * Without an earlier observation on the same day the baseline is unknown (we started watching mid-day): volume
   * null and the bar incomplete, so a backfill can supply the candle.
   */
  private volumeOf(inst: Instrument, idx: number): { volume: number | null; observedFromStart: boolean } {
    const b = inst.buckets[idx];
    const day = volumeDay(b.start);
    let prior: { cum: number; start: number } | null = null;
    let priorSameDay = false;
    for (let i = idx - 1; i >= 0; i--) {
      const p = inst.buckets[i];
      if (volumeDay(p.start) !== day) break;
      priorSameDay = true;
      if (p.cum !== null) {
        prior = { cum: p.cum, start: p.start };
        break;
      }
    }
    if (!prior && inst.base && volumeDay(inst.base.start) === day) {
      priorSameDay = true;
      if (inst.base.cum !== null) prior = { cum: inst.base.cum, start: inst.base.start };
    }
    // The day's open bucket, or a token watched with the feed up since before the open: the baseline is 0.
    const fromZero = b.start === volumeDayOpen(day) || this.watchedFromOpen(inst, day);
    const observedFromStart = priorSameDay || fromZero;
    if (b.cum === null) return { volume: null, observedFromStart };
    if (prior) return { volume: b.cum >= prior.cum ? b.cum - prior.cum : b.cum, observedFromStart };
    if (fromZero) return { volume: b.cum, observedFromStart };
    return { volume: null, observedFromStart: false };
  }

  private emit(inst: Instrument, idx: number, complete: boolean, out: Emission): void {
    const b = inst.buckets[idx];
    const { volume, observedFromStart } = this.volumeOf(inst, idx);
    // An option or future bar whose volume is unknown (the feed reported none) stays incomplete, so history can
    // fill it; an index has no volume to wait for.
    const isComplete = complete && observedFromStart && (inst.kind === 'INDEX' || volume !== null);
    if (inst.kind === 'CE' || inst.kind === 'PE') {
      const g = b.g;
      const mean = (k: number) => (g[k + 5] > 0 ? g[k] / g[k + 5] : null);
      const greekTicks = [g[G_IV + 5], g[G_DELTA + 5], g[G_GAMMA + 5], g[G_THETA + 5], g[G_VEGA + 5]] as const;
      out.strike.push({
        symbol: inst.symbol,
        expiry: inst.expiry as string,
        strike: inst.strike,
        bucket: b.start,
        side: inst.kind,
        token: inst.token,
        oi: b.oi,
        volume,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        iv: mean(G_IV),
        delta: mean(G_DELTA),
        gamma: mean(G_GAMMA),
        theta: mean(G_THETA),
        vega: mean(G_VEGA),
        ticks: b.ticks,
        greekTicks,
        underlyingClose: this.underlyingCloseAt(inst.symbol, b.start),
        source: 'live',
        complete: isComplete,
      });
    } else {
      out.instruments.push({
        token: inst.token,
        bucket: b.start,
        symbol: inst.symbol,
        kind: inst.kind === 'FUT' ? 'future' : 'index',
        expiry: inst.kind === 'FUT' ? inst.expiry : null,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: inst.kind === 'FUT' ? volume : null,
        oi: inst.kind === 'FUT' ? b.oi : null,
        ticks: b.ticks,
        source: 'live',
        complete: isComplete,
      });
    }
  }

  /**
   * Bars due at `now`: every unflushed bucket whose end + lag has passed (complete), and flushed buckets changed
   * by late ticks (again complete). With `all`, the remaining open buckets too, as partial (shutdown).
   */
  collectDue(now: number, all = false): Emission {
    const out: Emission = { strike: [], instruments: [] };
    // Re-writes first: a late-merged bucket and a due one of the same token then land in order.
    for (const inst of this.reflush) {
      inst.buckets.forEach((b, i) => {
        if (b.flushed && b.dirty) {
          b.dirty = false;
          this.emit(inst, i, true, out);
        }
      });
    }
    this.reflush.clear();
    const dueBefore = now - MINUTE - this.lagMs;
    const starts = [...this.open.keys()].sort((a, b) => a - b);
    for (const start of starts) {
      const due = start <= dueBefore;
      if (!due && !all) continue;
      const set = this.open.get(start) as Set<Instrument>;
      for (const inst of set) {
        const idx = inst.buckets.findIndex((b) => b.start === start);
        if (idx < 0) continue;
        const b = inst.buckets[idx];
        this.emit(inst, idx, due, out);
        b.partialDirty = false;
        if (due) b.flushed = true;
      }
      if (due) this.open.delete(start);
    }
    const minute = minuteOf(now);
    if (minute !== this.lastSweepMinute) {
      this.lastSweepMinute = minute;
      for (const inst of this.instruments.values()) this.evict(inst, now);
      for (const series of this.underlying.values()) this.evictUnderlying(series, now);
    }
    return out;
  }

  /**
   * Partial (complete=false) bars of open buckets changed since the last snapshot: the console sees the current
   * minute before it closes, and a newly subscribed token's first data is stored within a loop step. With
   * `tokens`, only those instruments.
   */
  collectPartial(tokens?: ReadonlySet<number>): Emission {
    const out: Emission = { strike: [], instruments: [] };
    for (const set of this.open.values()) {
      for (const inst of set) {
        if (tokens && !tokens.has(inst.token)) continue;
        inst.buckets.forEach((b, i) => {
          if (!b.flushed && b.partialDirty) {
            b.partialDirty = false;
            this.emit(inst, i, false, out);
          }
        });
      }
    }
    return out;
  }

  stats(): AggregatorStats {
    let openBuckets = 0;
    for (const set of this.open.values()) openBuckets += set.size;
    return {
      instruments: this.instruments.size,
      openBuckets,
      lateMerged: this.lateMerged,
      lateDropped: this.lateDropped,
      underlyingWithoutToken: this.underlyingWithoutToken,
    };
  }
}
