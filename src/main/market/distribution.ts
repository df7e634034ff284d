// Strike distribution queries and maths (docs/market-data.md, "Strike distribution").
// - The bucket answered: the latest COMPLETE bucket of the timeframe (its span is over, plus a few seconds for the
//   ingest flush), or with includePartial the bucket still filling, marked partial; with `at` = T the latest bucket
//   ENDING at or before T. Nothing in an `at` answer depends on the wall clock (staleness is judged at T, days to
//   expiry from T's IST date, legs without data are 'missing' rather than a current subscription state), so the
//   same `at` asked twice gives the same answer once its bucket is settled.
// - Per strike and side, the leg AS OF that bucket: its latest bar at or before the bucket, looking back a few days.
//   Kite sends ticks only on change, so a quiet strike has no bar in the latest minute while its OI still stands;
//   a strike that has not traded yet today shows its last known OI.
// - Volume: `volume` is the bucket's own (bar) volume, null while unknown (the live feed reports none and history
//   has not filled it yet); `day_volume` is the sum of the leg's 1-minute volumes of the IST day up to the bucket
//   end (history candles included), null when no minute of the day has a known volume.
// - PCR and max pain are EXPIRY-WIDE: over every listed strike of the expiry that has data, whatever strikes are
//   shown; `coverage` says what they cover. pcr_oi = put OI / call OI, pcr_volume = put day volume / call day
//   volume; null when either side has no data or the denominator is 0 (never 0 because a side is missing).
// - Max pain: the listed strike S minimising pain(S) = sum_K call_oi(K)*max(S-K,0) + put_oi(K)*max(K-S,0) (ties: the
//   lower strike); null when either side has no OI. The legacy code swapped the call and put terms.
// - oi_change: against the basis asked for: the previous session's last OI, the day's first bar, or the OI one hour
//   before the bucket (which falls back to the day's first bar when the hour reaches before the open; the answer's
//   oi_change_basis says which was used).
// - is_stale: bars expected at the reference instant (now, or T) and the bucket ended more than 2 x timeframe before
//   it. A leg is stale when its own last bar ended more than 2 x timeframe before the bucket end.
import type { ChainCoverage, ExpirySeries, OiChangeBasis, StrikeLeg, Timeframe } from '../../shared/api';
import { addDays, daysBetween, istDate, istInstant } from '../calendar';
import type { Queryable } from './db';

export const TIMEFRAME_MINUTES: Readonly<Record<Timeframe, 1 | 5 | 15>> = { '1min': 1, '5min': 5, '15min': 15 };
/** A leg with fewer ticks than this per minute of the bucket is flagged illiquid. */
export const ILLIQUID_TICKS_PER_MINUTE = 2;
/**
 * A bucket counts as complete this long after its end: the ingest flush runs 2 s after a minute ends and the write
 * and roll-up follow within a few seconds.
 */
export const SETTLE_MS = 5_000;
/** How far back a leg's standing OI and last price are looked for (a long weekend plus holidays). */
export const AS_OF_LOOKBACK_MS = 10 * 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

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

/** A listed option of an expiry (the instrument registry). */
export interface ListedLeg {
  strike: number;
  side: Side;
  token: number;
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

export interface PainRow {
  strike: number;
  callOi: number | null;
  putOi: number | null;
}

/** Total payout to option holders if the underlying settles at S. */
export function painAt(settle: number, rows: readonly PainRow[]): number {
  let pain = 0;
  for (const r of rows) pain += (r.callOi ?? 0) * Math.max(settle - r.strike, 0) + (r.putOi ?? 0) * Math.max(r.strike - settle, 0);
  return pain;
}

/**
 * The settlement strike minimising painAt, S taken over `settlements` (the expiry's listed strikes; default the rows'
 * strikes). Null when either side has no OI at all (a chain whose puts have not arrived has no meaningful max pain).
 */
export function maxPain(rows: readonly PainRow[], settlements?: readonly number[]): number | null {
  const callTotal = rows.reduce((s, r) => s + (r.callOi ?? 0), 0);
  const putTotal = rows.reduce((s, r) => s + (r.putOi ?? 0), 0);
  if (!(callTotal > 0) || !(putTotal > 0)) return null;
  const candidates = [...new Set(settlements ?? rows.map((r) => r.strike))].sort((a, b) => a - b);
  let best: { strike: number; pain: number } | null = null;
  for (const s of candidates) {
    const pain = painAt(s, rows);
    if (best === null || pain < best.pain) best = { strike: s, pain };
  }
  return best?.strike ?? null;
}

/** put / call over the legs with data; null when a side has no data at all or the call total is 0. */
export function pcr(call: readonly (number | null)[], put: readonly (number | null)[]): number | null {
  const known = (xs: readonly (number | null)[]) => xs.filter((x): x is number => x !== null && Number.isFinite(x));
  const c = known(call);
  const p = known(put);
  if (c.length === 0 || p.length === 0) return null;
  return ratio(
    p.reduce((s, x) => s + x, 0),
    c.reduce((s, x) => s + x, 0),
  );
}

/** Bucket end (exclusive) more than 2 x timeframe before the reference instant, while bars are expected. */
export function isStale(bucket: number | null, timeframe: Timeframe, ref: number, expectingData: boolean): boolean {
  if (bucket === null || !expectingData) return false;
  const span = TIMEFRAME_MINUTES[timeframe] * MINUTE_MS;
  return ref - (bucket + span) > 2 * span;
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
const iso = (ms: number) => new Date(ms).toISOString();
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** One statement and how to read its rows; an empty `sql` needs no query (its answer is known: read([])). */
interface Statement<T> {
  sql: string;
  params: unknown[];
  read(rows: Record<string, unknown>[]): T;
}
const mapRead = <T, U>(st: Statement<T>, f: (t: T) => U): Statement<U> => ({ ...st, read: (rows) => f(st.read(rows)) });
const nothing = <T>(answer: T): Statement<T> => ({ sql: '', params: [], read: () => answer });
const run = async <T>(db: Queryable, st: Statement<T>): Promise<T> => st.read(st.sql === '' ? [] : await db.query<Record<string, unknown>>(st.sql, st.params));

/**
 * Several statements in ONE round trip: each one's rows come back as a JSON array in its own column (json_agg keeps
 * the subquery's row order). Each round trip costs a parse, a plan and a wake-up of both ends (PGlite serves one
 * statement at a time), more than the probes themselves once those are few. JSON carries the same values: numbers as
 * their text form, timestamps as ISO text with an offset (read back by toMs).
 */
async function runTogether<T extends unknown[]>(db: Queryable, statements: { [K in keyof T]: Statement<T[K]> }): Promise<T> {
  const params: unknown[] = [];
  const columns: string[] = [];
  const parts = statements as readonly Statement<unknown>[];
  parts.forEach((st, i) => {
    if (st.sql === '') return;
    const offset = params.length;
    params.push(...st.params);
    // Renumber the statement's placeholders after the ones before it ($n never appears otherwise in these texts).
    const sql = st.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    columns.push(`(SELECT coalesce(json_agg(s), '[]'::json) FROM (${sql}) s) AS r${i}`);
  });
  const [row] = columns.length === 0 ? [{} as Record<string, unknown>] : await db.query<Record<string, unknown>>(`SELECT ${columns.join(',\n  ')}`, params);
  const asRows = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>[];
  return parts.map((st, i) => st.read(st.sql === '' ? [] : asRows(row[`r${i}`]))) as T;
}

/**
 * The bucket answered per expiry: the latest bucket with data whose end is at or before `endBy` and whose start is
 * at or before `startBy`.
 */
export async function latestBuckets(
  db: Queryable,
  symbol: string,
  timeframe: Timeframe,
  expiries: readonly string[],
  bounds: { endBy: number; startBy?: number },
): Promise<Map<string, number>> {
  if (expiries.length === 0) return new Map();
  const span = TIMEFRAME_MINUTES[timeframe] * MINUTE_MS;
  const startBy = Math.min(bounds.startBy ?? Number.POSITIVE_INFINITY, bounds.endBy - span);
  if (!Number.isFinite(startBy)) return new Map();
  // One backward probe of (symbol, timeframe, expiry, bucket) per expiry: max() over a GROUP BY would read every
  // bar of the expiry up to the bound (weeks of minutes).
  const rows = await db.query<{ expiry: string; bucket: Date }>(
    `SELECT e.expiry::text AS expiry, b.bucket FROM (SELECT DISTINCT unnest($3::date[]) AS expiry) e
     CROSS JOIN LATERAL (
       SELECT bucket FROM fo_strike_bars
       WHERE timeframe = $1 AND symbol = $2 AND expiry = e.expiry AND bucket <= $4::timestamptz
       ORDER BY bucket DESC LIMIT 1) b`,
    [TIMEFRAME_MINUTES[timeframe], symbol, expiries, iso(startBy)],
  );
  return new Map(rows.map((r) => [r.expiry, toMs(r.bucket)]));
}

/**
 * `k(strike)`: every strike of expiry $3 with a bar of timeframe $1 for symbol $2, found by skipping along the primary
 * key (one probe per strike) rather than reading the expiry's bars. PostgreSQL 15 has no skip scan of its own.
 */
const expiryStrikes = `WITH RECURSIVE k(strike) AS (
    (SELECT strike FROM fo_strike_bars WHERE timeframe = $1 AND symbol = $2 AND expiry = $3::date ORDER BY strike LIMIT 1)
    UNION ALL
    SELECT (SELECT f.strike FROM fo_strike_bars f WHERE f.timeframe = $1 AND f.symbol = $2 AND f.expiry = $3::date AND f.strike > k.strike
            ORDER BY f.strike LIMIT 1)
    FROM k WHERE k.strike IS NOT NULL)`;

/**
 * One side of each strike: its latest bar in [notBefore, atOrBefore] (or its first one with `first`), over the
 * given strikes or (strikes omitted) every strike of the expiry.
 */
export async function legsAsOf(
  db: Queryable,
  q: { symbol: string; timeframe: Timeframe; expiry: string; strikes?: readonly number[]; side: Side; atOrBefore: number; notBefore: number; first?: boolean },
): Promise<Map<number, LegBar>> {
  return (await legsAsOfSides(db, { ...q, sides: [q.side] }))[q.side];
}

const SIDES: readonly Side[] = ['CE', 'PE'];
const prefixOf = (side: Side) => (side === 'CE' ? 'call' : 'put');
const LEG_COLUMNS = ['token', 'oi', 'volume', 'close', 'iv', 'delta', 'gamma', 'theta', 'vega', 'ticks', 'source'] as const;

/**
 * legsAsOf for several sides in one statement (one round trip). Latest bars: first the expiry's latest bucket in the
 * range (the anchor: one backward probe of fo_strike_bars_by_bucket, migration 0005) and its rows (one range read);
 * a leg with a bar there has its latest bar there (no strike of the expiry has a later one in the range). Only the
 * legs without one (a quiet strike) are probed on the primary key (timeframe, symbol, expiry, strike, bucket) from the
 * bound inwards. First bars (`first`): one probe per strike and side. A DISTINCT ON over the range read and sorted
 * every bar of the day (or of the ten-day look-back) for every strike; a probe per leg cost ~4 index pages each.
 */
export async function legsAsOfSides(db: Queryable, q: LegsQuery): Promise<Record<Side, Map<number, LegBar>>> {
  return run(db, legsAsOfSidesStatement(q));
}

interface LegsQuery {
  symbol: string;
  timeframe: Timeframe;
  expiry: string;
  strikes?: readonly number[];
  sides: readonly Side[];
  atOrBefore: number;
  notBefore: number;
  first?: boolean;
}

function legsAsOfSidesStatement(q: LegsQuery): Statement<Record<Side, Map<number, LegBar>>> {
  const out: Record<Side, Map<number, LegBar>> = { CE: new Map(), PE: new Map() };
  if ((q.strikes && q.strikes.length === 0) || q.notBefore > q.atOrBefore || q.sides.length === 0) return nothing(out);
  const params: unknown[] = [TIMEFRAME_MINUTES[q.timeframe], q.symbol, q.expiry, iso(q.notBefore), iso(q.atOrBefore)];
  if (q.strikes) params.push(q.strikes);
  const anchored = !q.first;
  const lateral = (side: Side) => {
    const p = prefixOf(side);
    const cols = LEG_COLUMNS.map((c) => `${p}_${c}`).join(', ');
    const probe = `SELECT bucket AS ${p}_bucket, ${cols}
       FROM fo_strike_bars
       WHERE timeframe = $1 AND symbol = $2 AND expiry = $3::date AND strike = k.strike
         AND bucket >= $4::timestamptz AND bucket <= $5::timestamptz AND ${p}_token IS NOT NULL
       ORDER BY bucket ${q.first ? 'ASC' : 'DESC'} LIMIT 1`;
    // The anchor row's side when it has one, else the probe (never started once the first arm gave the row).
    return anchored
      ? `LEFT JOIN LATERAL (
       SELECT a.bucket AS ${p}_bucket, ${LEG_COLUMNS.map((c) => `a.${p}_${c}`).join(', ')} WHERE a.${p}_token IS NOT NULL
       UNION ALL (${probe})
       LIMIT 1) ${p} ON true`
      : `LEFT JOIN LATERAL (${probe}) ${p} ON true`;
  };
  const with_ = [
    q.strikes ? '' : expiryStrikes.replace(/^WITH RECURSIVE /, ''),
    anchored
      ? `anchor AS MATERIALIZED (
       SELECT bucket FROM fo_strike_bars WHERE symbol = $2 AND timeframe = $1 AND expiry = $3::date
         AND bucket >= $4::timestamptz AND bucket <= $5::timestamptz ORDER BY bucket DESC LIMIT 1),
     anchor_rows AS MATERIALIZED (
       SELECT * FROM fo_strike_bars WHERE symbol = $2 AND timeframe = $1 AND expiry = $3::date AND bucket = (SELECT bucket FROM anchor))`
      : '',
  ].filter((w) => w !== '');
  const sql = `${with_.length > 0 ? `WITH RECURSIVE ${with_.join(',\n     ')}` : ''}
     SELECT k.strike, ${q.sides.map((side) => `${prefixOf(side)}.*`).join(', ')}
     FROM ${q.strikes ? '(SELECT DISTINCT unnest($6::float8[]) AS strike) k' : 'k'}
     ${anchored ? 'LEFT JOIN anchor_rows a ON a.strike = k.strike' : ''}
     ${q.sides.map(lateral).join('\n     ')}
     WHERE k.strike IS NOT NULL`;
  const read = (rows: Record<string, unknown>[]) => {
    for (const r of rows) {
      for (const side of q.sides) {
        const p = prefixOf(side);
        if (r[`${p}_bucket`] === null || r[`${p}_bucket`] === undefined) continue;
        const v = (c: string) => numOrNull(r[`${p}_${c}`]);
        out[side].set(Number(r.strike), {
          strike: Number(r.strike),
          bucket: toMs(r[`${p}_bucket`] as Date),
          token: v('token'),
          oi: v('oi'),
          volume: v('volume'),
          close: v('close'),
          iv: v('iv'),
          delta: v('delta'),
          gamma: v('gamma'),
          theta: v('theta'),
          vega: v('vega'),
          ticks: v('ticks'),
          source: (r[`${p}_source`] as LegBar['source']) ?? null,
        });
      }
    }
    return out;
  };
  return { sql, params, read };
}

/** The last known value of one column per strike and side before an instant (previous close: OI or price). */
export async function lastValuesBefore(db: Queryable, q: LastValuesQuery): Promise<Record<Side, Map<number, number>>> {
  return run(db, lastValuesBeforeStatement(q));
}

interface LastValuesQuery {
  symbol: string;
  expiry: string;
  strikes: readonly number[];
  column: 'oi' | 'close';
  before: number;
}

function lastValuesBeforeStatement(q: LastValuesQuery): Statement<Record<Side, Map<number, number>>> {
  const out: Record<Side, Map<number, number>> = { CE: new Map(), PE: new Map() };
  if (q.strikes.length === 0) return nothing(out);
  // The expiry's last bucket before the instant (the previous session's close) and its rows; a leg with the value
  // there has its last value there. Only the others get a backward probe of the primary key per strike and side.
  const lastOf = (side: Side) => {
    const col = `${prefixOf(side)}_${q.column}`;
    return `coalesce(a.${col}, (SELECT ${col} FROM fo_strike_bars
       WHERE a.${col} IS NULL AND timeframe = 1 AND symbol = $1 AND expiry = $2::date AND strike = k.strike
         AND bucket < $4::timestamptz AND bucket >= $5::timestamptz AND ${col} IS NOT NULL
       ORDER BY bucket DESC LIMIT 1))`;
  };
  return {
    sql: `WITH anchor AS MATERIALIZED (
       SELECT bucket FROM fo_strike_bars WHERE symbol = $1 AND timeframe = 1 AND expiry = $2::date
         AND bucket < $4::timestamptz AND bucket >= $5::timestamptz ORDER BY bucket DESC LIMIT 1),
     anchor_rows AS MATERIALIZED (
       SELECT strike, call_${q.column}, put_${q.column} FROM fo_strike_bars
       WHERE symbol = $1 AND timeframe = 1 AND expiry = $2::date AND bucket = (SELECT bucket FROM anchor))
     SELECT k.strike, ${lastOf('CE')} AS c, ${lastOf('PE')} AS p FROM (SELECT DISTINCT unnest($3::float8[]) AS strike) k
     LEFT JOIN anchor_rows a ON a.strike = k.strike`,
    params: [q.symbol, q.expiry, q.strikes, iso(q.before), iso(q.before - AS_OF_LOOKBACK_MS)],
    read: (rows) => {
      for (const r of rows) {
        if (r.c !== null && r.c !== undefined) out.CE.set(Number(r.strike), Number(r.c));
        if (r.p !== null && r.p !== undefined) out.PE.set(Number(r.strike), Number(r.p));
      }
      return out;
    },
  };
}

/**
 * Per strike and side: the sum of the known 1-minute volumes of IST day `day` before `to`; null when none is known.
 * Every strike of the expiry is needed (pcr_volume is expiry-wide). Two running sums kept by triggers on
 * fo_strike_bars answer it without summing the day's bars: the day total (fo_strike_day_volume, migration 0006: one
 * row per strike) and quarter hours (fo_strike_slice_volume, migration 0007: at most 25 a day per strike). With `to`
 * nearer the day's last bar than its first (the latest bucket of a live or closed day, an afternoon `at=`):
 *   day total - the quarter hours from the one after `to`'s - the 1-minute bars from `to` to that quarter hour;
 * else (a morning `at=`):
 *   the quarter hours before `to`'s own + the 1-minute bars from its start up to `to`.
 * Either reads one day row, at most 12 quarter hours and at most 14 minutes per strike (the minutes through
 * fo_strike_bars_by_bucket, migration 0005, index only). The choice is made in the statement from the day's first
 * and last bar (two index probes); the branch not taken never runs (a one-time filter).
 */
export async function dayVolumes(db: Queryable, q: DayVolumeQuery): Promise<Map<number, { CE: number | null; PE: number | null }>> {
  return run(db, dayVolumesStatement(q));
}

interface DayVolumeQuery {
  symbol: string;
  expiry: string;
  day: string;
  to: number;
}

/** The quarter hours of fo_strike_slice_volume (migration 0007), aligned to UTC and so to IST. */
const SLICE_MS = 15 * MINUTE_MS;

function dayVolumesStatement(q: DayVolumeQuery): Statement<Map<number, { CE: number | null; PE: number | null }>> {
  const bars = `FROM fo_strike_bars WHERE timeframe = 1 AND symbol = $1 AND expiry = $2::date`;
  const slices = `FROM fo_strike_slice_volume WHERE symbol = $1 AND expiry = $2::date`;
  const minutes = (from: string, to: string, sign: '' | '-') =>
    `SELECT strike, ${sign}count(call_volume), ${sign}coalesce(sum(call_volume), 0), ${sign}count(put_volume), ${sign}coalesce(sum(put_volume), 0)
       ${bars} AND bucket >= ${from}::timestamptz AND bucket < ${to}::timestamptz`;
  const dayStart = istInstant(q.day);
  const dayEnd = istInstant(addDays(q.day, 1));
  // $7: the start of `to`'s quarter hour; $8: the end of it (= $7 when `to` is on a boundary). Both inside the day.
  const sliceDown = Math.max(dayStart, Math.floor(q.to / SLICE_MS) * SLICE_MS);
  const sliceUp = Math.min(dayEnd, Math.ceil(q.to / SLICE_MS) * SLICE_MS);
  return {
    sql: `WITH span AS MATERIALIZED (
       SELECT (SELECT bucket ${bars} AND bucket >= $3::timestamptz AND bucket < $5::timestamptz ORDER BY bucket ASC LIMIT 1) AS first_bar,
              (SELECT bucket ${bars} AND bucket >= $3::timestamptz AND bucket < $5::timestamptz ORDER BY bucket DESC LIMIT 1) AS last_bar),
     how AS MATERIALIZED (
       SELECT last_bar IS NULL OR last_bar - $4::timestamptz < $4::timestamptz - first_bar AS late FROM span)
     SELECT strike, sum(cn) AS cn, sum(cv) AS cv, sum(pn) AS pn, sum(pv) AS pv FROM (
       SELECT strike, call_minutes AS cn, call_volume AS cv, put_minutes AS pn, put_volume AS pv
       FROM fo_strike_day_volume WHERE symbol = $1 AND expiry = $2::date AND ist_day = $6::date AND (SELECT late FROM how)
       UNION ALL
       SELECT strike, -call_minutes, -call_volume, -put_minutes, -put_volume
       ${slices} AND slice >= $8::timestamptz AND slice < $5::timestamptz AND (SELECT late FROM how)
       UNION ALL
       ${minutes('$4', '$8', '-')} AND (SELECT late FROM how) GROUP BY strike
       UNION ALL
       SELECT strike, call_minutes, call_volume, put_minutes, put_volume
       ${slices} AND slice >= $3::timestamptz AND slice < $7::timestamptz AND NOT (SELECT late FROM how)
       UNION ALL
       ${minutes('$7', '$4', '')} AND NOT (SELECT late FROM how) GROUP BY strike) parts
     GROUP BY strike`,
    params: [q.symbol, q.expiry, iso(dayStart), iso(q.to), iso(dayEnd), q.day, iso(sliceDown), iso(sliceUp)],
    read: (rows) =>
      new Map(rows.map((r) => [Number(r.strike), { CE: Number(r.cn) > 0 ? numOrNull(r.cv) : null, PE: Number(r.pn) > 0 ? numOrNull(r.pv) : null }])),
  };
}

/** Start of each leg's last 1-minute bar before `before` (within the look-back). */
async function lastMinutes(db: Queryable, q: { symbol: string; expiry: string; strikes: readonly number[]; before: number }): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (q.strikes.length === 0) return out;
  // Two backward probes per strike (one per side) instead of aggregating ten days of bars.
  const lastOf = (p: 'call' | 'put') => `(SELECT bucket FROM fo_strike_bars
       WHERE timeframe = 1 AND symbol = $1 AND expiry = $2::date AND strike = k.strike
         AND bucket < $4::timestamptz AND bucket >= $5::timestamptz AND ${p}_token IS NOT NULL
       ORDER BY bucket DESC LIMIT 1)`;
  const rows = await db.query<{ strike: number; c: Date | null; p: Date | null }>(
    `SELECT k.strike, ${lastOf('call')} AS c, ${lastOf('put')} AS p FROM (SELECT DISTINCT unnest($3::float8[]) AS strike) k`,
    [q.symbol, q.expiry, q.strikes, iso(q.before), iso(q.before - AS_OF_LOOKBACK_MS)],
  );
  for (const r of rows) {
    if (r.c) out.set(legKey(Number(r.strike), 'CE'), toMs(r.c));
    if (r.p) out.set(legKey(Number(r.strike), 'PE'), toMs(r.p));
  }
  return out;
}

/** Distinct strikes with a bar within the look-back before an instant (a chain the registry does not list). */
export async function strikesWithBars(db: Queryable, symbol: string, timeframe: Timeframe, expiry: string, atOrBefore: number): Promise<number[]> {
  const rows = await db.query<{ strike: number }>(
    `${expiryStrikes}
     SELECT strike FROM k WHERE strike IS NOT NULL AND EXISTS (
       SELECT 1 FROM fo_strike_bars WHERE timeframe = $1 AND symbol = $2 AND expiry = $3::date AND strike = k.strike
         AND bucket <= $4::timestamptz AND bucket >= $5::timestamptz)
     ORDER BY strike`,
    [TIMEFRAME_MINUTES[timeframe], symbol, expiry, iso(atOrBefore), iso(atOrBefore - AS_OF_LOOKBACK_MS)],
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
export async function latestUnderlyingPrice(
  db: Queryable,
  q: { symbol: string; indexToken: number | null; atOrBefore?: number; now: number },
): Promise<UnderlyingPrice | null> {
  const until = new Date(q.atOrBefore ?? q.now + 60_000).toISOString();
  const since = new Date((q.atOrBefore ?? q.now) - 7 * 24 * HOUR_MS).toISOString();
  const candidates: UnderlyingPrice[] = [];
  const first = (rows: Record<string, unknown>[]) => rows[0];
  // Both lookups in one round trip.
  const [row, bar] = await runTogether<[Record<string, unknown> | undefined, Record<string, unknown> | undefined]>(db, [
    q.indexToken === null
      ? nothing(undefined)
      : {
          sql: `SELECT close, bucket FROM instrument_bars WHERE timeframe = 1 AND token = $1 AND close IS NOT NULL AND bucket <= $2::timestamptz AND bucket >= $3::timestamptz
       ORDER BY bucket DESC LIMIT 1`,
          params: [q.indexToken, until, since],
          read: first,
        },
    // Per expiry of the symbol (skipping along (symbol, timeframe, expiry, bucket), one probe each), its newest bar
    // with a price, then the newest of those: ordering the whole week's bars of every expiry by bucket read them all.
    {
      sql: `WITH RECURSIVE e(expiry) AS (
       (SELECT expiry FROM fo_strike_bars WHERE symbol = $1 AND timeframe = 1 ORDER BY expiry LIMIT 1)
       UNION ALL
       SELECT (SELECT f.expiry FROM fo_strike_bars f WHERE f.symbol = $1 AND f.timeframe = 1 AND f.expiry > e.expiry ORDER BY f.expiry LIMIT 1)
       FROM e WHERE e.expiry IS NOT NULL)
     SELECT b.underlying_close, b.bucket FROM e
     CROSS JOIN LATERAL (
       SELECT underlying_close, bucket FROM fo_strike_bars
       WHERE symbol = $1 AND timeframe = 1 AND expiry = e.expiry AND underlying_close IS NOT NULL
         AND bucket <= $2::timestamptz AND bucket >= $3::timestamptz
       ORDER BY bucket DESC LIMIT 1) b
     ORDER BY b.bucket DESC LIMIT 1`,
      params: [q.symbol, until, since],
      read: first,
    },
  ]);
  if (row) candidates.push({ price: Number(row.close), at: toMs(row.bucket as string), source: 'index' });
  if (bar) candidates.push({ price: Number(bar.underlying_close), at: toMs(bar.bucket as string), source: 'strike_bars' });
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
  /** Answer the bucket ending at or before this instant (epoch ms) instead of the latest complete one. */
  at?: number;
  /** Answer the bucket still filling (marked partial) when it is the latest. */
  includePartial?: boolean;
  /** What oi_change compares against (default one_hour_earlier). */
  oiChangeBasis?: OiChangeBasis;
  now: number;
  /** Whether bars are expected at an instant (a session; always with the always-open devticker). */
  expectingData: (ms: number) => boolean;
  /** A leg without data: is it being subscribed (pending), failing (failed) or not subscribed (missing)? */
  legState: (token: number | null) => Exclude<LegState, 'live'>;
  /** Every listed option of an expiry (registry), for the expiry-wide figures; absent: the strikes with bars. */
  listedLegs?: (expiry: string) => Promise<ListedLeg[]>;
  sides?: { call: boolean; put: boolean };
  /** Price for ATM when the registry chain is empty (bars only). */
  price?: number | null;
}

export const legKey = (strike: number, side: Side): string => `${strike}|${side}`;

const emptyCoverage = (): ChainCoverage => ({ strikes_listed: 0, strikes_with_data: 0, legs_listed: 0, legs_with_data: 0, legs_pending: 0, complete: false });

export async function distributionSeries(db: Queryable, input: DistributionInput): Promise<ExpirySeries[]> {
  const span = TIMEFRAME_MINUTES[input.timeframe] * MINUTE_MS;
  const settledBy = input.now - SETTLE_MS;
  // The reference instant: T for an `at` answer (nothing below depends on the wall clock then), else now.
  const ref = input.at ?? input.now;
  const endBy = input.includePartial ? (input.at ?? Number.POSITIVE_INFINITY) : Math.min(input.at ?? settledBy, settledBy);
  const buckets = await latestBuckets(
    db,
    input.symbol,
    input.timeframe,
    input.expiries.map((e) => e.expiry),
    {
      endBy: Number.isFinite(endBy) ? endBy : input.now + span,
      startBy: input.now,
    },
  );
  const today = istDate(ref);
  const sides = input.sides ?? { call: true, put: true };
  const basisAsked: OiChangeBasis = input.oiChangeBasis ?? 'one_hour_earlier';
  const stateOf = (token: number | null): Exclude<LegState, 'live'> => (input.at === undefined ? input.legState(token) : 'missing');

  return Promise.all(
    input.expiries.map(async (chain): Promise<ExpirySeries> => {
      const bucket = buckets.get(chain.expiry) ?? null;
      const end = bucket === null ? null : bucket + span;
      let { strikes, atm, step } = chain;
      const listed = input.listedLegs ? await input.listedLegs(chain.expiry) : null;

      const legs: Record<Side, Map<number, LegBar>> = { CE: new Map(), PE: new Map() };
      const basisOi: Record<Side, Map<number, number>> = { CE: new Map(), PE: new Map() };
      const prevClose: Record<Side, Map<number, number>> = { CE: new Map(), PE: new Map() };
      let dayVol = new Map<number, { CE: number | null; PE: number | null }>();
      let lastMinute = new Map<string, number>();
      let basis: OiChangeBasis = basisAsked;
      let dayStart = 0;

      if (bucket !== null && end !== null) {
        if (strikes.length === 0) {
          strikes = await strikesWithBars(db, input.symbol, input.timeframe, chain.expiry, bucket);
          step ??= strikes.length > 1 ? Math.min(...strikes.slice(1).map((k, i) => k - strikes[i])) : null;
          atm ??= nearestStrike(strikes, input.price ?? null);
        }
        const day = istDate(bucket);
        dayStart = istInstant(day);
        const open = istInstant(day, 9, 15);
        if (basis === 'one_hour_earlier' && bucket - HOUR_MS < open) basis = 'session_open';
        const common = { symbol: input.symbol, timeframe: input.timeframe, expiry: chain.expiry };
        // Both sides in each statement; the statements of an expiry run side by side (a pooled Postgres runs them
        // on several connections).
        // Every strike of the expiry: the window shows some, the expiry-wide figures use all. Today's bars first;
        // only the legs not traded yet today are looked for on earlier days (their standing OI). With the
        // registry's list, a leg outside it and outside the window is never read below, so only those strikes are
        // probed; without it, every strike with bars.
        const wanted = (side: Side) => (listed ? [...new Set(listed.filter((l) => l.side === side).map((l) => l.strike))] : undefined);
        const used = listed ? [...new Set([...(wanted('CE') ?? []), ...(wanted('PE') ?? []), ...strikes])] : undefined;
        // Today's legs, the oi_change basis, the previous close and the day volumes in one round trip; then, only
        // when some leg has no bar today, its standing bar of earlier days and its last minute.
        const basisStatement: Statement<Record<Side, Map<number, number>>> =
          basis === 'previous_close'
            ? lastValuesBeforeStatement({ symbol: input.symbol, expiry: chain.expiry, strikes, column: 'oi', before: dayStart })
            : mapRead(
                basis === 'one_hour_earlier'
                  ? legsAsOfSidesStatement({ ...common, strikes, sides: SIDES, atOrBefore: bucket - HOUR_MS, notBefore: dayStart })
                  : legsAsOfSidesStatement({ ...common, strikes, sides: SIDES, atOrBefore: bucket, notBefore: dayStart, first: true }),
                (ref) => {
                  const oi: Record<Side, Map<number, number>> = { CE: new Map(), PE: new Map() };
                  for (const side of SIDES) for (const [k, b] of ref[side]) if (b.oi !== null) oi[side].set(k, b.oi);
                  return oi;
                },
              );
        const [found, basisFound, prevFound, dayFound] = await runTogether<
          [
            Record<Side, Map<number, LegBar>>,
            Record<Side, Map<number, number>>,
            Record<Side, Map<number, number>>,
            Map<number, { CE: number | null; PE: number | null }>,
          ]
        >(db, [
          legsAsOfSidesStatement({ ...common, sides: SIDES, strikes: used, atOrBefore: bucket, notBefore: dayStart }),
          basisStatement,
          lastValuesBeforeStatement({ symbol: input.symbol, expiry: chain.expiry, strikes, column: 'close', before: dayStart }),
          dayVolumesStatement({ symbol: input.symbol, expiry: chain.expiry, day, to: end }),
        ]);
        Object.assign(basisOi, basisFound);
        Object.assign(prevClose, prevFound);
        dayVol = dayFound;
        await Promise.all([
          ...SIDES.map(async (side) => {
            legs[side] = new Map(found[side]);
            const missing = wanted(side)?.filter((k) => !legs[side].has(k));
            if (!missing || missing.length > 0) {
              const earlierDays = await legsAsOf(db, {
                ...common,
                side,
                strikes: missing,
                atOrBefore: dayStart - 1,
                notBefore: bucket - AS_OF_LOOKBACK_MS,
              });
              for (const [k, b] of earlierDays) if (!legs[side].has(k)) legs[side].set(k, b);
            }
          }),
          (async () => {
            if (input.timeframe !== '1min') {
              lastMinute = await lastMinutes(db, { symbol: input.symbol, expiry: chain.expiry, strikes, before: end });
              return;
            }
            // On the 1-minute timeframe a leg's bar of today IS its last minute before the bucket end (both are its
            // latest 1-minute bar with the side's token at or before the bucket, and today's is within the
            // look-back): only the legs without one are looked up.
            const rest = new Set<number>();
            for (const k of strikes) {
              for (const side of SIDES) {
                const bar = found[side].get(k);
                if (bar) lastMinute.set(legKey(k, side), bar.bucket);
                else rest.add(k);
              }
            }
            if (rest.size === 0) return;
            const earlier = await lastMinutes(db, { symbol: input.symbol, expiry: chain.expiry, strikes: [...rest], before: end });
            for (const [key, at] of earlier) if (!lastMinute.has(key)) lastMinute.set(key, at);
          })(),
        ]);
      }

      const leg = (strike: number, side: Side): StrikeLeg => {
        const bar = legs[side].get(strike);
        const inBucket = bar !== undefined && bar.bucket === bucket;
        const tradedToday = bar !== undefined && bar.bucket >= dayStart;
        const token = chain.tokens.get(legKey(strike, side)) ?? bar?.token ?? null;
        const before = basisOi[side].get(strike);
        const prev = prevClose[side].get(strike);
        const ltp = bar?.close ?? null;
        const change = ltp !== null && prev !== undefined ? ltp - prev : null;
        const last = lastMinute.get(legKey(strike, side));
        return {
          strike,
          token,
          oi: bar?.oi ?? null,
          oi_change: bar?.oi != null && before !== undefined ? bar.oi - before : null,
          // No bar in the bucket for a leg seen today: no tick, so no trade (Kite ticks on every change).
          volume: inBucket ? bar.volume : tradedToday ? 0 : null,
          day_volume: dayVol.get(strike)?.[side] ?? null,
          ltp,
          ltp_change: change,
          ltp_change_pct: change !== null && prev ? (change / prev) * 100 : null,
          last_trade_at: last === undefined ? null : iso(last),
          iv: bar?.iv ?? null,
          delta: bar?.delta ?? null,
          gamma: bar?.gamma ?? null,
          theta: bar?.theta ?? null,
          vega: bar?.vega ?? null,
          ticks: inBucket ? bar.ticks : bar ? 0 : null,
          moneyness: moneyness(strike, atm, step, side),
          illiquid: bucket !== null && isIlliquid(bar, bucket, input.timeframe),
          stale: end !== null && last !== undefined && input.expectingData(end - 1) && end - (last + MINUTE_MS) > 2 * span,
          state: bar ? 'live' : stateOf(token),
        };
      };

      // Expiry-wide figures over every listed leg (or, without a registry, every leg with bars).
      const universe: { strike: number; side: Side; token: number | null }[] = listed
        ? listed.map((l) => ({ strike: l.strike, side: l.side, token: l.token }))
        : (['CE', 'PE'] as const).flatMap((side) => [...legs[side].values()].map((b) => ({ strike: b.strike, side, token: b.token })));
      const withData = universe.filter((l) => legs[l.side].has(l.strike));
      const oiOf = (side: Side) => withData.filter((l) => l.side === side).map((l) => legs[side].get(l.strike)?.oi ?? null);
      const volOf = (side: Side) => withData.filter((l) => l.side === side).map((l) => dayVol.get(l.strike)?.[side] ?? null);
      const painRows = new Map<number, PainRow>();
      for (const l of withData) {
        const row = painRows.get(l.strike) ?? { strike: l.strike, callOi: null, putOi: null };
        const oi = legs[l.side].get(l.strike)?.oi ?? null;
        if (l.side === 'CE') row.callOi = oi;
        else row.putOi = oi;
        painRows.set(l.strike, row);
      }
      const listedStrikes = [...new Set(universe.map((l) => l.strike))];
      const pending = input.at === undefined ? universe.filter((l) => !legs[l.side].has(l.strike) && input.legState(l.token) === 'pending').length : 0;
      const coverage: ChainCoverage =
        bucket === null
          ? { ...emptyCoverage(), strikes_listed: listedStrikes.length, legs_listed: universe.length, legs_pending: pending }
          : {
              strikes_listed: listedStrikes.length,
              strikes_with_data: painRows.size,
              legs_listed: universe.length,
              legs_with_data: withData.length,
              legs_pending: pending,
              complete: universe.length > 0 && withData.length === universe.length,
            };

      const call = strikes.map((k) => leg(k, 'CE'));
      const put = strikes.map((k) => leg(k, 'PE'));
      return {
        expiry: chain.expiry,
        days_to_expiry: daysBetween(today, chain.expiry),
        bucket_time: bucket === null ? null : iso(bucket),
        bucket_end: end === null ? null : iso(end),
        partial: end !== null && end > settledBy,
        is_stale: isStale(bucket, input.timeframe, ref, input.expectingData(ref)),
        atm_strike: atm,
        strike_step: step,
        pcr_oi: pcr(oiOf('CE'), oiOf('PE')),
        pcr_volume: pcr(volOf('CE'), volOf('PE')),
        max_pain_strike: maxPain([...painRows.values()], listedStrikes),
        coverage,
        oi_change_basis: basis,
        call: sides.call ? call : [],
        put: sides.put ? put : [],
      };
    }),
  );
}

// ---------- one strike over time ----------

export interface StrikeHistoryRow {
  bucket: number;
  callOi: number | null;
  putOi: number | null;
  callLtp: number | null;
  putLtp: number | null;
  callVolume: number | null;
  putVolume: number | null;
}

/**
 * Both legs of one strike over the last `buckets` buckets of the timeframe that have data, up to the latest complete
 * one (ascending). Volume is the bar volume (null while unknown).
 */
export async function strikeHistoryRows(
  db: Queryable,
  q: { symbol: string; expiry: string; strike: number; timeframe: Timeframe; buckets: number; now: number },
): Promise<StrikeHistoryRow[]> {
  const span = TIMEFRAME_MINUTES[q.timeframe] * MINUTE_MS;
  const rows = await db.query<Record<string, unknown>>(
    `SELECT bucket, call_oi, put_oi, call_close, put_close, call_volume, put_volume FROM fo_strike_bars
     WHERE timeframe = $1 AND symbol = $2 AND expiry = $3::date AND strike = $4 AND bucket <= $5::timestamptz
     ORDER BY bucket DESC LIMIT $6`,
    [TIMEFRAME_MINUTES[q.timeframe], q.symbol, q.expiry, q.strike, iso(q.now - SETTLE_MS - span), q.buckets],
  );
  return rows.reverse().map((r) => ({
    bucket: toMs(r.bucket as Date),
    callOi: numOrNull(r.call_oi),
    putOi: numOrNull(r.put_oi),
    callLtp: numOrNull(r.call_close),
    putLtp: numOrNull(r.put_close),
    callVolume: numOrNull(r.call_volume),
    putVolume: numOrNull(r.put_volume),
  }));
}
