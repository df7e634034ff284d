// Strike distribution queries and maths (shared/spec/market-data.md, "Strike distribution").
// - Per expiry: the latest bucket (or the latest at or before a given time) of the chosen timeframe.
// - Per strike and side, the leg AS OF that bucket: its latest bar at or before the bucket on the same IST day.
//   Kite sends ticks only on change, so a quiet strike has no bar in the latest minute while its OI still stands;
//   such a leg shows its last OI, LTP and greeks, with volume and ticks 0 for the bucket, flagged illiquid.
// - oi_change: against the leg's OI one hour before the bucket; when that hour reaches back before the session
//   open, against the first bar of the day instead (oi_change_basis says which).
// - PCR: total put / total call over the returned strikes, for OI and for volume; null when the call total is 0.
// - Max pain: the listed strike S minimising pain(S) = sum_K call_oi(K)*max(S-K,0) + put_oi(K)*max(K-S,0), over the
//   returned strikes (ties: the lower strike). The legacy code swapped the call and put terms.
// - is_stale: during a session (or whenever the feed is expected to stream), latest bucket older than 2 x timeframe.
import type { ExpirySeries, StrikeLeg, Timeframe } from '../../shared/api';
import { daysBetween, istDate, istInstant } from '../calendar';
import type { Queryable } from './db';

export const TIMEFRAME_MINUTES: Readonly<Record<Timeframe, 1 | 5 | 15>> = { '1min': 1, '5min': 5, '15min': 15 };
/** A leg with fewer ticks than this per minute of the bucket is flagged illiquid. */
export const ILLIQUID_TICKS_PER_MINUTE = 2;
const HOUR_MS = 3_600_000;

export type Side = 'CE' | 'PE';
export type LegState = StrikeLeg['state'];

/** One side of one strike bar as stored. */
export interface LegBar {
  strike: number;
  bucket: number;
  token: number | null;
  oi: number | null;
  volume: number | null;
  close: number | null;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  ticks: number | null;
  source: 'live' | 'backfill' | null;
}

// ---------- maths ----------

/** The listed strike nearest the price (ties: the lower strike). */
export function nearestStrike(strikes: readonly number[], price: number | null): number | null {
  if (price === null || !Number.isFinite(price) || strikes.length === 0) return null;
  let best = strikes[0];
  for (const k of strikes) if (Math.abs(k - price) < Math.abs(best - price) || (Math.abs(k - price) === Math.abs(best - price) && k < best)) best = k;
  return best;
}

/** 'ATM', 'ITMn' or 'OTMn' with n = round(|K - ATM| / step): a call below ATM is in the money, a put below is out. */
export function moneyness(strike: number, atm: number | null, step: number | null, side: Side): string {
  if (atm === null || !step) return '';
  const n = Math.round(Math.abs(strike - atm) / step);
  if (n === 0) return 'ATM';
  const itm = side === 'CE' ? strike < atm : strike > atm;
  return `${itm ? 'ITM' : 'OTM'}${n}`;
}

/** numerator / denominator, null when the denominator is 0 or unknown. */
export function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

/** Total payout to option holders if the underlying settles at S. */
export function painAt(settle: number, rows: readonly { strike: number; callOi: number | null; putOi: number | null }[]): number {
  let pain = 0;
  for (const r of rows) pain += (r.callOi ?? 0) * Math.max(settle - r.strike, 0) + (r.putOi ?? 0) * Math.max(r.strike - settle, 0);
  return pain;
}

/** The listed strike minimising painAt; null when there is no OI at all. */
export function maxPain(rows: readonly { strike: number; callOi: number | null; putOi: number | null }[]): number | null {
  if (!rows.some((r) => (r.callOi ?? 0) > 0 || (r.putOi ?? 0) > 0)) return null;
  let best: { strike: number; pain: number } | null = null;
  for (const r of [...rows].sort((a, b) => a.strike - b.strike)) {
    const pain = painAt(r.strike, rows);
    if (best === null || pain < best.pain) best = { strike: r.strike, pain };
  }
  return best?.strike ?? null;
}

export function isStale(bucket: number | null, timeframe: Timeframe, now: number, expectingData: boolean): boolean {
  if (bucket === null || !expectingData) return false;
  return now - bucket > 2 * TIMEFRAME_MINUTES[timeframe] * 60_000;
}

/** Too few ticks in the bucket to mean much. A backfilled bar has no tick count: no volume means illiquid. */
export function isIlliquid(leg: LegBar | undefined, bucket: number, timeframe: Timeframe): boolean {
  if (!leg) return false;
  if (leg.bucket !== bucket) return true;
  if (leg.ticks === null) return (leg.volume ?? 0) === 0;
  return leg.ticks < ILLIQUID_TICKS_PER_MINUTE * TIMEFRAME_MINUTES[timeframe];
}

// ---------- queries ----------

const toMs = (v: Date | string | number): number => (v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v));

/** The latest bucket per expiry (at or before `atOrBefore` when given). */
export async function latestBuckets(db: Queryable, symbol: string, timeframe: Timeframe, expiries: readonly string[], atOrBefore?: number): Promise<Map<string, number>> {
  if (expiries.length === 0) return new Map();
  const params: unknown[] = [TIMEFRAME_MINUTES[timeframe], symbol, expiries];
  if (atOrBefore !== undefined) params.push(new Date(atOrBefore).toISOString());
  const rows = await db.query<{ expiry: string; bucket: Date }>(
    `SELECT expiry::text AS expiry, max(bucket) AS bucket FROM fo_strike_bars
     WHERE timeframe = $1 AND symbol = $2 AND expiry = ANY($3::date[])${atOrBefore !== undefined ? ' AND bucket <= $4::timestamptz' : ''}
     GROUP BY expiry`,
    params,
  );
  return new Map(rows.map((r) => [r.expiry, toMs(r.bucket)]));
}

/** One side of each strike as of a time: its latest bar in [notBefore, atOrBefore], or its first one when `first`. */
export async function legsAsOf(
  db: Queryable,
  q: { symbol: string; timeframe: Timeframe; expiry: string; strikes: readonly number[]; side: Side; atOrBefore: number; notBefore: number; first?: boolean },
): Promise<Map<number, LegBar>> {
  if (q.strikes.length === 0 || q.notBefore > q.atOrBefore) return new Map();
  const p = q.side === 'CE' ? 'call' : 'put';
  const rows = await db.query<Record<string, unknown>>(
    `SELECT DISTINCT ON (strike) strike, bucket, ${p}_token AS token, ${p}_oi AS oi, ${p}_volume AS volume, ${p}_close AS close,
            ${p}_iv AS iv, ${p}_delta AS delta, ${p}_gamma AS gamma, ${p}_theta AS theta, ${p}_vega AS vega, ${p}_ticks AS ticks, ${p}_source AS source
     FROM fo_strike_bars
     WHERE timeframe = $1 AND symbol = $2 AND expiry = $3::date AND strike = ANY($4::float8[])
       AND bucket >= $5::timestamptz AND bucket <= $6::timestamptz AND ${p}_token IS NOT NULL
     ORDER BY strike, bucket ${q.first ? 'ASC' : 'DESC'}`,
    [TIMEFRAME_MINUTES[q.timeframe], q.symbol, q.expiry, q.strikes, new Date(q.notBefore).toISOString(), new Date(q.atOrBefore).toISOString()],
  );
  const out = new Map<number, LegBar>();
  for (const r of rows) {
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    out.set(Number(r.strike), {
      strike: Number(r.strike), bucket: toMs(r.bucket as Date), token: num(r.token), oi: num(r.oi), volume: num(r.volume), close: num(r.close),
      iv: num(r.iv), delta: num(r.delta), gamma: num(r.gamma), theta: num(r.theta), vega: num(r.vega), ticks: num(r.ticks),
      source: (r.source as LegBar['source']) ?? null,
    });
  }
  return out;
}

/** Distinct strikes with a bar at the bucket (a chain the registry no longer lists). */
export async function strikesAt(db: Queryable, symbol: string, timeframe: Timeframe, expiry: string, bucket: number): Promise<number[]> {
  const rows = await db.query<{ strike: number }>(
    `SELECT DISTINCT strike FROM fo_strike_bars WHERE timeframe = $1 AND symbol = $2 AND expiry = $3::date AND bucket = $4::timestamptz ORDER BY strike`,
    [TIMEFRAME_MINUTES[timeframe], symbol, expiry, new Date(bucket).toISOString()],
  );
  return rows.map((r) => Number(r.strike));
}

export interface UnderlyingPrice {
  price: number;
  at: number;
  source: 'index' | 'strike_bars';
}

/**
 * The latest underlying price at or before a time: the index's own 1-minute bars, else the underlying_close the
 * strike bars carry, whichever is newer. Looks back one week at most.
 */
export async function latestUnderlyingPrice(db: Queryable, q: { symbol: string; indexToken: number | null; atOrBefore?: number; now: number }): Promise<UnderlyingPrice | null> {
  const until = new Date(q.atOrBefore ?? q.now + 60_000).toISOString();
  const since = new Date((q.atOrBefore ?? q.now) - 7 * 24 * HOUR_MS).toISOString();
  const candidates: UnderlyingPrice[] = [];
  if (q.indexToken !== null) {
    const [row] = await db.query<{ close: number; bucket: Date }>(
      `SELECT close, bucket FROM instrument_bars WHERE timeframe = 1 AND token = $1 AND close IS NOT NULL AND bucket <= $2::timestamptz AND bucket >= $3::timestamptz
       ORDER BY bucket DESC LIMIT 1`,
      [q.indexToken, until, since],
    );
    if (row) candidates.push({ price: Number(row.close), at: toMs(row.bucket), source: 'index' });
  }
  const [bar] = await db.query<{ underlying_close: number; bucket: Date }>(
    `SELECT underlying_close, bucket FROM fo_strike_bars WHERE timeframe = 1 AND symbol = $1 AND underlying_close IS NOT NULL
       AND bucket <= $2::timestamptz AND bucket >= $3::timestamptz
     ORDER BY bucket DESC LIMIT 1`,
    [q.symbol, until, since],
  );
  if (bar) candidates.push({ price: Number(bar.underlying_close), at: toMs(bar.bucket), source: 'strike_bars' });
  candidates.sort((a, b) => b.at - a.at || (a.source === 'index' ? -1 : 1));
  return candidates[0] ?? null;
}

// ---------- the series ----------

export interface ExpiryChainInput {
  expiry: string;
  /** Listed strikes to show (ATM +- N steps), ascending; empty = take them from the bars. */
  strikes: number[];
  atm: number | null;
  step: number | null;
  /** `${strike}|CE` -> token, from the registry. */
  tokens: Map<string, number>;
}

export interface DistributionInput {
  symbol: string;
  timeframe: Timeframe;
  expiries: ExpiryChainInput[];
  /** Latest bucket at or before this instant (default: the latest). */
  at?: number;
  now: number;
  /** Whether bars are expected now (a session; always with the always-open devticker). */
  expectingData: (ms: number) => boolean;
  /** A leg without data: is it being subscribed (pending), failing (failed) or not subscribed (missing)? */
  legState: (token: number | null) => Exclude<LegState, 'live'>;
  sides?: { call: boolean; put: boolean };
  /** Price for ATM when the registry chain is empty (bars only). */
  price?: number | null;
}

export const legKey = (strike: number, side: Side): string => `${strike}|${side}`;

export async function distributionSeries(db: Queryable, input: DistributionInput): Promise<ExpirySeries[]> {
  const buckets = await latestBuckets(db, input.symbol, input.timeframe, input.expiries.map((e) => e.expiry), input.at);
  const today = istDate(input.now);
  const sides = input.sides ?? { call: true, put: true };
  return Promise.all(
    input.expiries.map(async (chain): Promise<ExpirySeries> => {
      const bucket = buckets.get(chain.expiry) ?? null;
      let { strikes, atm, step } = chain;
      if (strikes.length === 0 && bucket !== null) {
        strikes = await strikesAt(db, input.symbol, input.timeframe, chain.expiry, bucket);
        step ??= strikes.length > 1 ? Math.min(...strikes.slice(1).map((k, i) => k - strikes[i])) : null;
        atm ??= nearestStrike(strikes, input.price ?? null);
      }
      const base: Omit<ExpirySeries, 'call' | 'put' | 'pcr_oi' | 'pcr_volume' | 'max_pain_strike' | 'oi_change_basis'> = {
        expiry: chain.expiry,
        days_to_expiry: daysBetween(today, chain.expiry),
        bucket_time: bucket === null ? null : new Date(bucket).toISOString(),
        is_stale: isStale(bucket, input.timeframe, input.now, input.expectingData(input.now)),
        atm_strike: atm,
        strike_step: step,
      };
      let basis: ExpirySeries['oi_change_basis'] = 'one_hour_earlier';
      const legs: Record<Side, Map<number, LegBar>> = { CE: new Map(), PE: new Map() };
      const earlier: Record<Side, Map<number, LegBar>> = { CE: new Map(), PE: new Map() };
      if (bucket !== null) {
        const day = istDate(bucket);
        const dayStart = istInstant(day);
        const open = istInstant(day, 9, 15);
        // Before the open (the always-open devticker) the day's first bar is the reference too.
        basis = bucket - HOUR_MS >= open ? 'one_hour_earlier' : 'session_open';
        const common = { symbol: input.symbol, timeframe: input.timeframe, expiry: chain.expiry, strikes };
        await Promise.all(
          (['CE', 'PE'] as const).map(async (side) => {
            legs[side] = await legsAsOf(db, { ...common, side, atOrBefore: bucket, notBefore: dayStart });
            earlier[side] =
              basis === 'one_hour_earlier'
                ? await legsAsOf(db, { ...common, side, atOrBefore: bucket - HOUR_MS, notBefore: dayStart })
                : await legsAsOf(db, { ...common, side, atOrBefore: bucket, notBefore: dayStart, first: true });
          }),
        );
      }
      const leg = (strike: number, side: Side): StrikeLeg => {
        const bar = legs[side].get(strike);
        const before = earlier[side].get(strike);
        const inBucket = bar !== undefined && bar.bucket === bucket;
        const token = chain.tokens.get(legKey(strike, side)) ?? bar?.token ?? null;
        return {
          strike,
          token,
          oi: bar?.oi ?? null,
          oi_change: bar?.oi != null && before?.oi != null ? bar.oi - before.oi : null,
          volume: bar ? (inBucket ? bar.volume : 0) : null,
          ltp: bar?.close ?? null,
          iv: bar?.iv ?? null,
          delta: bar?.delta ?? null,
          gamma: bar?.gamma ?? null,
          theta: bar?.theta ?? null,
          vega: bar?.vega ?? null,
          ticks: bar ? (inBucket ? bar.ticks : 0) : null,
          moneyness: moneyness(strike, atm, step, side),
          illiquid: bucket !== null && isIlliquid(bar, bucket, input.timeframe),
          state: bar ? 'live' : input.legState(token),
        };
      };
      const call = strikes.map((k) => leg(k, 'CE'));
      const put = strikes.map((k) => leg(k, 'PE'));
      const sum = (rows: StrikeLeg[], f: (l: StrikeLeg) => number | null) => rows.reduce((s, l) => s + (f(l) ?? 0), 0);
      return {
        ...base,
        pcr_oi: ratio(sum(put, (l) => l.oi), sum(call, (l) => l.oi)),
        pcr_volume: ratio(sum(put, (l) => l.volume), sum(call, (l) => l.volume)),
        max_pain_strike: maxPain(strikes.map((k, i) => ({ strike: k, callOi: call[i].oi, putOi: put[i].oi }))),
        oi_change_basis: basis,
        call: sides.call ? call : [],
        put: sides.put ? put : [],
      };
    }),
  );
}
