// The bar writer shared by live ingestion and backfill: one statement per side per batch (unnest arrays, never a
// statement per row), idempotent, and merge rules from docs/market-data.md:
// - writing one side (call or put) never touches the other side of the row;
// - a complete bar is never replaced by a partial one, and a backfill never replaces a complete live bar.
import type { OptionSide } from '../../shared/api';
import type { Queryable } from './db';

export type BarSource = 'live' | 'backfill';

/** One side (CE or PE) of one strike bucket. */
export interface StrikeSideBar {
  symbol: string;
  expiry: string;
  strike: number;
  /** Bucket start, UTC epoch ms (a whole minute). */
  bucket: number;
  side: OptionSide;
  token: number;
  oi: number | null;
  volume: number | null;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  ticks: number | null;
  /**
   * Ticks that carried a valid value, per greek (iv, delta, gamma, theta, vega); null for a history candle. The
   * 5/15-minute roll-ups weight each minute's greek by these.
   */
  greekTicks?: readonly [number, number, number, number, number] | null;
  underlyingClose: number | null;
  source: BarSource;
  complete: boolean;
}

export interface InstrumentBar {
  token: number;
  bucket: number;
  symbol: string;
  kind: 'index' | 'future';
  expiry: string | null;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number | null;
  oi: number | null;
  ticks: number | null;
  source: BarSource;
  complete: boolean;
}

const GREEKS = ['iv', 'delta', 'gamma', 'theta', 'vega'] as const;
const SIDE_VALUE_COLUMNS = [
  'token',
  'oi',
  'volume',
  'open',
  'high',
  'low',
  'close',
  'iv',
  'delta',
  'gamma',
  'theta',
  'vega',
  'ticks',
  'source',
  'complete',
  'iv_n',
  'delta_n',
  'gamma_n',
  'theta_n',
  'vega_n',
] as const;
const SIDE_TYPES: Record<(typeof SIDE_VALUE_COLUMNS)[number], string> = {
  token: 'int8',
  oi: 'int8',
  volume: 'int8',
  open: 'float8',
  high: 'float8',
  low: 'float8',
  close: 'float8',
  iv: 'float8',
  delta: 'float8',
  gamma: 'float8',
  theta: 'float8',
  vega: 'float8',
  ticks: 'int4',
  source: 'text',
  complete: 'bool',
  iv_n: 'int4',
  delta_n: 'int4',
  gamma_n: 'int4',
  theta_n: 'int4',
  vega_n: 'int4',
};

const toIso = (ms: number) => new Date(ms).toISOString();
const finiteOrNull = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);
const intOrNull = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v));

function sideStatement(prefix: 'call' | 'put'): string {
  const cols = SIDE_VALUE_COLUMNS.map((c) => `${prefix}_${c}`);
  const unnestArgs = [
    '$1::text[]',
    '$2::date[]',
    '$3::float8[]',
    '$4::timestamptz[]',
    '$5::float8[]',
    ...SIDE_VALUE_COLUMNS.map((c, i) => `$${i + 6}::${SIDE_TYPES[c]}[]`),
  ];
  const names = ['symbol', 'expiry', 'strike', 'bucket', 'underlying_close', ...SIDE_VALUE_COLUMNS.map((c) => `v_${c}`)];
  return `
    INSERT INTO fo_strike_bars AS b (timeframe, symbol, expiry, strike, bucket, underlying_close, ${cols.join(', ')}, updated_at)
    SELECT 1, u.symbol, u.expiry, u.strike, u.bucket, u.underlying_close, ${SIDE_VALUE_COLUMNS.map((c) => `u.v_${c}`).join(', ')}, now()
    FROM unnest(${unnestArgs.join(', ')}) AS u(${names.join(', ')})
    ON CONFLICT (timeframe, symbol, expiry, strike, bucket) DO UPDATE SET
      ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(',\n      ')},
      underlying_close = COALESCE(EXCLUDED.underlying_close, b.underlying_close),
      updated_at = now()
    WHERE NOT (
      COALESCE(b.${prefix}_complete, false)
      AND (NOT EXCLUDED.${prefix}_complete OR (b.${prefix}_source = 'live' AND EXCLUDED.${prefix}_source = 'backfill'))
    )`;
}

const STATEMENTS = { CE: sideStatement('call'), PE: sideStatement('put') };

/**
 * Both sides of a strike minute in one row: the live flush (and a backfill unit) carries the call and the put of the
 * same minutes, and writing them as one insert costs half of an insert plus an update of the row just inserted (the
 * update is never HOT: it changes indexed columns). The merge rules stay per side: a side the rules refuse keeps its
 * old values (CASE per column) and the row is left alone when both are refused. A side is present when its source is
 * set (every bar has one). Which sides were written is read back by comparing the stored side with the one sent: a
 * refused side always differs from it in `complete` or `source` (that is the refusal rule), a written one equals it.
 */
const sideOk = (p: 'call' | 'put') => `(EXCLUDED.${p}_source IS NOT NULL AND NOT (
      COALESCE(b.${p}_complete, false)
      AND (NOT EXCLUDED.${p}_complete OR (b.${p}_source = 'live' AND EXCLUDED.${p}_source = 'backfill'))))`;
const PAIR_STATEMENT = (() => {
  const sides = ['call', 'put'] as const;
  const args = ['$1::text[]', '$2::date[]', '$3::float8[]', '$4::timestamptz[]', '$5::float8[]'];
  const names = ['symbol', 'expiry', 'strike', 'bucket', 'underlying_close'];
  for (const p of sides) {
    for (const c of SIDE_VALUE_COLUMNS) {
      args.push(`$${args.length + 1}::${SIDE_TYPES[c]}[]`);
      names.push(`${p}_${c}`);
    }
  }
  const cols = sides.flatMap((p) => SIDE_VALUE_COLUMNS.map((c) => `${p}_${c}`));
  return `
    WITH u AS (SELECT * FROM unnest(${args.join(', ')}) AS u(${names.join(', ')})),
    w AS (
      INSERT INTO fo_strike_bars AS b (timeframe, symbol, expiry, strike, bucket, underlying_close, ${cols.join(', ')}, updated_at)
      SELECT 1, u.symbol, u.expiry, u.strike, u.bucket, u.underlying_close, ${cols.map((c) => `u.${c}`).join(', ')}, now() FROM u
      ON CONFLICT (timeframe, symbol, expiry, strike, bucket) DO UPDATE SET
        ${sides.flatMap((p) => SIDE_VALUE_COLUMNS.map((c) => `${p}_${c} = CASE WHEN ${sideOk(p)} THEN EXCLUDED.${p}_${c} ELSE b.${p}_${c} END`)).join(',\n        ')},
        underlying_close = COALESCE(EXCLUDED.underlying_close, b.underlying_close),
        updated_at = now()
      WHERE ${sideOk('call')} OR ${sideOk('put')}
      RETURNING b.symbol, b.expiry, b.strike, b.bucket, b.call_complete, b.call_source, b.put_complete, b.put_source)
    SELECT (count(*) FILTER (WHERE w.call_complete IS NOT DISTINCT FROM u.call_complete AND w.call_source IS NOT DISTINCT FROM u.call_source)
          + count(*) FILTER (WHERE w.put_complete IS NOT DISTINCT FROM u.put_complete AND w.put_source IS NOT DISTINCT FROM u.put_source))::int AS n
    FROM w JOIN u ON w.symbol = u.symbol AND w.expiry = u.expiry AND w.strike = u.strike AND w.bucket = u.bucket`;
})();

const sideValues = (rows: readonly StrikeSideBar[]): unknown[][] => [
  rows.map((r) => r.token),
  rows.map((r) => intOrNull(r.oi)),
  rows.map((r) => intOrNull(r.volume)),
  rows.map((r) => finiteOrNull(r.open)),
  rows.map((r) => finiteOrNull(r.high)),
  rows.map((r) => finiteOrNull(r.low)),
  rows.map((r) => finiteOrNull(r.close)),
  rows.map((r) => finiteOrNull(r.iv)),
  rows.map((r) => finiteOrNull(r.delta)),
  rows.map((r) => finiteOrNull(r.gamma)),
  rows.map((r) => finiteOrNull(r.theta)),
  rows.map((r) => finiteOrNull(r.vega)),
  rows.map((r) => intOrNull(r.ticks)),
  rows.map((r) => r.source),
  rows.map((r) => r.complete),
  ...GREEKS.map((_, i) => rows.map((r) => intOrNull(r.greekTicks?.[i]))),
];
const keyValues = (rows: readonly StrikeSideBar[]): unknown[][] => [
  rows.map((r) => r.symbol),
  rows.map((r) => r.expiry),
  rows.map((r) => r.strike),
  rows.map((r) => toIso(r.bucket)),
  rows.map((r) => finiteOrNull(r.underlyingClose)),
];

/** Upserts 1-minute strike bars; returns the number of side rows written (skipped no-clobber rows not counted). */
export async function upsertStrikeSides(db: Queryable, bars: readonly StrikeSideBar[]): Promise<number> {
  // The last bar of a key wins within one batch: Postgres refuses to update one row twice in a statement.
  const bySide = { CE: new Map<string, StrikeSideBar>(), PE: new Map<string, StrikeSideBar>() };
  for (const bar of bars) bySide[bar.side].set(`${bar.symbol}|${bar.expiry}|${bar.strike}|${bar.bucket}`, bar);
  // A call and a put of one key go in one row when they agree on underlying_close: written one after the other, the
  // row would end with the put's price, or the call's when the put is refused; one value gives the same either way.
  const pairs: [StrikeSideBar, StrikeSideBar][] = [];
  for (const [key, call] of bySide.CE) {
    const put = bySide.PE.get(key);
    if (put && finiteOrNull(put.underlyingClose) === finiteOrNull(call.underlyingClose)) {
      pairs.push([call, put]);
      bySide.CE.delete(key);
      bySide.PE.delete(key);
    }
  }
  let written = 0;
  if (pairs.length > 0) {
    const calls = pairs.map(([c]) => c);
    const result = await db.query<{ n: number }>(PAIR_STATEMENT, [...keyValues(calls), ...sideValues(calls), ...sideValues(pairs.map(([, p]) => p))]);
    written += result[0]?.n ?? 0;
  }
  for (const side of ['CE', 'PE'] as const) {
    const rows = [...bySide[side].values()];
    if (rows.length === 0) continue;
    const result = await db.query<{ n: number }>(`WITH w AS (${STATEMENTS[side]} RETURNING 1) SELECT count(*)::int AS n FROM w`, [
      ...keyValues(rows),
      ...sideValues(rows),
    ]);
    written += result[0]?.n ?? 0;
  }
  return written;
}

const INSTRUMENT_STATEMENT = `
  WITH w AS (
    INSERT INTO instrument_bars AS b (timeframe, token, bucket, symbol, kind, expiry, open, high, low, close, volume, oi, ticks, source, complete, updated_at)
    SELECT 1, u.token, u.bucket, u.symbol, u.kind, u.expiry, u.open, u.high, u.low, u.close, u.volume, u.oi, u.ticks, u.source, u.complete, now()
    FROM unnest($1::int8[], $2::timestamptz[], $3::text[], $4::text[], $5::date[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::int8[], $11::int8[], $12::int4[], $13::text[], $14::bool[])
      AS u(token, bucket, symbol, kind, expiry, open, high, low, close, volume, oi, ticks, source, complete)
    ON CONFLICT (timeframe, token, bucket) DO UPDATE SET
      symbol = EXCLUDED.symbol, kind = EXCLUDED.kind, expiry = EXCLUDED.expiry, open = EXCLUDED.open, high = EXCLUDED.high,
      low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume, oi = EXCLUDED.oi, ticks = EXCLUDED.ticks,
      source = EXCLUDED.source, complete = EXCLUDED.complete, updated_at = now()
    WHERE NOT (b.complete AND (NOT EXCLUDED.complete OR (b.source = 'live' AND EXCLUDED.source = 'backfill')))
    RETURNING 1)
  SELECT count(*)::int AS n FROM w`;

export async function upsertInstrumentBars(db: Queryable, bars: readonly InstrumentBar[]): Promise<number> {
  if (bars.length === 0) return 0;
  const byKey = new Map<string, InstrumentBar>();
  for (const bar of bars) byKey.set(`${bar.token}|${bar.bucket}`, bar);
  const rows = [...byKey.values()];
  const result = await db.query<{ n: number }>(INSTRUMENT_STATEMENT, [
    rows.map((r) => r.token),
    rows.map((r) => toIso(r.bucket)),
    rows.map((r) => r.symbol),
    rows.map((r) => r.kind),
    rows.map((r) => r.expiry),
    rows.map((r) => finiteOrNull(r.open)),
    rows.map((r) => finiteOrNull(r.high)),
    rows.map((r) => finiteOrNull(r.low)),
    rows.map((r) => finiteOrNull(r.close)),
    rows.map((r) => intOrNull(r.volume)),
    rows.map((r) => intOrNull(r.oi)),
    rows.map((r) => intOrNull(r.ticks)),
    rows.map((r) => r.source),
    rows.map((r) => r.complete),
  ]);
  return result[0]?.n ?? 0;
}

// ---------- 5- and 15-minute roll-ups ----------
// IST is UTC+330 min, a multiple of 15, so IST 5/15-minute boundaries are UTC boundaries.

/**
 * A minute's weight for one greek: the ticks that carried a valid value of it; for a candle or an older row without
 * that count, its tick count (a candle without ticks weighs 1).
 */
const weightOf = (col: string, prefix: string) => `COALESCE(${col}_n, GREATEST(COALESCE(${prefix}_ticks, 0), 1))`;
/** Mean over the minutes where the greek is present, each weighted by its ticks with a valid value. */
const weightedMean = (col: string, prefix: string) =>
  `sum(${col} * ${weightOf(col, prefix)}) FILTER (WHERE ${col} IS NOT NULL)
   / NULLIF(sum(${weightOf(col, prefix)}) FILTER (WHERE ${col} IS NOT NULL), 0)`;
/** The roll-up's own count of valid ticks: the sum of its minutes' weights (null when no minute had a value). */
const weightSum = (col: string, prefix: string) => `(sum(${weightOf(col, prefix)}) FILTER (WHERE ${col} IS NOT NULL))::int`;
const lastOf = (col: string) => `(array_agg(${col} ORDER BY bucket DESC) FILTER (WHERE ${col} IS NOT NULL))[1]`;
const firstOf = (col: string) => `(array_agg(${col} ORDER BY bucket ASC) FILTER (WHERE ${col} IS NOT NULL))[1]`;

const spanOver = `to_timestamp(floor(extract(epoch FROM bucket) / ($1 * 60)) * ($1 * 60) + $1 * 60) <= $5::timestamptz`;

function sideRollup(p: 'call' | 'put'): string {
  return [
    `max(${p}_token)`,
    lastOf(`${p}_oi`),
    `sum(${p}_volume)`,
    firstOf(`${p}_open`),
    `max(${p}_high)`,
    `min(${p}_low)`,
    lastOf(`${p}_close`),
    weightedMean(`${p}_iv`, p),
    weightedMean(`${p}_delta`, p),
    weightedMean(`${p}_gamma`, p),
    weightedMean(`${p}_theta`, p),
    weightedMean(`${p}_vega`, p),
    `sum(${p}_ticks)::int`,
    `CASE WHEN count(${p}_token) = 0 THEN NULL WHEN bool_or(${p}_source = 'live') THEN 'live' ELSE 'backfill' END`,
    // Complete only once the roll-up's span is over ($5 = now) and every minute in it that has a bar is complete:
    // a 5-minute bar refreshed at 10:02 from the 10:00 and 10:01 minutes is not a finished 10:00-10:05 bar.
    `CASE WHEN count(${p}_token) = 0 THEN NULL ELSE bool_and(COALESCE(${p}_complete, false)) AND bool_and(${spanOver}) END`,
    ...GREEKS.map((g) => weightSum(`${p}_${g}`, p)),
  ].join(',\n        ');
}

const sideCols = (p: string) => SIDE_VALUE_COLUMNS.map((c) => `${p}_${c}`);
const ROLLUP_STRIKE = `
  INSERT INTO fo_strike_bars (timeframe, symbol, expiry, strike, bucket, underlying_close, ${sideCols('call').join(', ')}, ${sideCols('put').join(', ')}, updated_at)
  SELECT $1::smallint, symbol, expiry, strike,
        to_timestamp(floor(extract(epoch FROM bucket) / ($1 * 60)) * ($1 * 60)) AS rb,
        ${lastOf('underlying_close')},
        ${sideRollup('call')},
        ${sideRollup('put')},
        now()
  FROM fo_strike_bars
  WHERE timeframe = 1 AND symbol = $2 AND bucket >= $3::timestamptz AND bucket < $4::timestamptz
  GROUP BY symbol, expiry, strike, rb
  ON CONFLICT (timeframe, symbol, expiry, strike, bucket) DO UPDATE SET
    underlying_close = EXCLUDED.underlying_close,
    ${[...sideCols('call'), ...sideCols('put')].map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
    updated_at = now()`;

const ROLLUP_INSTRUMENT = `
  INSERT INTO instrument_bars (timeframe, token, bucket, symbol, kind, expiry, open, high, low, close, volume, oi, ticks, source, complete, updated_at)
  SELECT $1::smallint, token, to_timestamp(floor(extract(epoch FROM bucket) / ($1 * 60)) * ($1 * 60)) AS rb,
         max(symbol), max(kind), max(expiry), ${firstOf('open')}, max(high), min(low), ${lastOf('close')}, sum(volume), ${lastOf('oi')},
         sum(ticks)::int, CASE WHEN bool_or(source = 'live') THEN 'live' ELSE 'backfill' END, bool_and(complete) AND bool_and(${spanOver}), now()
  FROM instrument_bars
  WHERE timeframe = 1 AND symbol = $2 AND bucket >= $3::timestamptz AND bucket < $4::timestamptz
  GROUP BY token, rb
  ON CONFLICT (timeframe, token, bucket) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume,
    oi = EXCLUDED.oi, ticks = EXCLUDED.ticks, source = EXCLUDED.source, complete = EXCLUDED.complete, updated_at = now()`;

/**
 * Recomputes the 5- and 15-minute bars of `symbol` that overlap [fromMs, toMs) from the 1-minute bars. A roll-up is
 * marked complete only when its span ended by `nowMs` (default: the wall clock). The range reaches back one minute
 * so the bar that just ended is refreshed (and marked complete) when the next span's first minute is written.
 */
export async function refreshRollups(db: Queryable, symbol: string, fromMs: number, toMs: number, nowMs: number = Date.now()): Promise<void> {
  for (const tf of [5, 15]) {
    const span = tf * 60_000;
    const from = toIso(Math.floor((fromMs - 60_000) / span) * span);
    const to = toIso(Math.ceil(toMs / span) * span);
    const now = toIso(nowMs);
    await db.query(ROLLUP_STRIKE, [tf, symbol, from, to, now]);
    await db.query(ROLLUP_INSTRUMENT, [tf, symbol, from, to, now]);
  }
}
