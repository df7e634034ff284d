// Test and benchmark support: feed messages as the ticker service writes them, and an independent recomputation
// of the expected bars from a list of ticks (written from docs/market-data.md, not from aggregate.ts).

export interface TestOptionTick {
  token: number;
  symbol: string;
  expiry: string;
  strike: number;
  type: 'CE' | 'PE' | 'FUT';
  price: number;
  volume: number;
  oi: number;
  /** a number, null, 'NaN' (bare NaN as Python writes it) or undefined (key left out) */
  iv?: number | null | 'NaN';
  delta?: number | null | 'NaN';
  gamma?: number | null | 'NaN';
  theta?: number | null | 'NaN';
  vega?: number | null | 'NaN';
  /** epoch seconds, may be fractional */
  ts: number;
  isMock?: boolean;
}

const GREEKS = ['iv', 'delta', 'gamma', 'theta', 'vega'] as const;

/** The JSON text the service PUBLISHes on ticker:nifty:options (Python float style, bare NaN). */
export function optionMessage(t: TestOptionTick): string {
  const body: Record<string, unknown> = {
    symbol: t.symbol,
    token: t.token,
    tradingsymbol: `${t.symbol}${t.expiry}${t.strike}${t.type}`,
    segment: t.type === 'FUT' ? 'NFO-FUT' : 'NFO-OPT',
    exchange: 'NFO',
    strike: t.strike,
    expiry: t.expiry,
    type: t.type,
    lot_size: 75,
    tick_size: 0.05,
    price: t.price,
    volume: t.volume,
    oi: t.oi,
  };
  for (const g of GREEKS) {
    const v = t[g];
    if (v === undefined) continue;
    body[g] = v === 'NaN' ? '__NAN__' : v;
  }
  body.ts = t.ts;
  body.is_mock = t.isMock ?? false;
  body.depth = { buy: [{ quantity: 75, price: t.price - 0.05, orders: 2 }], sell: [{ quantity: 75, price: t.price + 0.05, orders: 1 }] };
  return JSON.stringify(body).replace(/"__NAN__"/g, 'NaN');
}

export interface TestUnderlyingTick {
  symbol: string;
  token: number;
  price: number;
  ts: number;
  shape: 'A' | 'B';
}

export function underlyingMessage(u: TestUnderlyingTick): string {
  if (u.shape === 'A') {
    return JSON.stringify({
      symbol: u.symbol,
      instrument_token: u.token,
      last_price: u.price,
      volume: 0,
      timestamp: u.ts,
      ohlc: { open: u.price, high: u.price, low: u.price, close: u.price - 10 },
    });
  }
  return JSON.stringify({ symbol: u.symbol, open: u.price - 1, high: u.price + 2, low: u.price - 3, close: u.price, volume: 0, ts: u.ts });
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------- the independent recomputation ----------------

export interface ExpectedBar {
  token: number;
  bucket: number;
  open: number;
  high: number;
  low: number;
  close: number;
  oi: number | null;
  volume: number | null;
  ticks: number;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  underlyingClose: number | null;
  complete: boolean;
}

const IST_OPEN_UTC_MS = (3 * 60 + 45) * 60_000;
const tradingDay = (ms: number) => Math.floor((ms - IST_OPEN_UTC_MS) / 86_400_000);

function greekValid(name: (typeof GREEKS)[number], v: number): boolean {
  if (!Number.isFinite(v)) return false;
  switch (name) {
    case 'iv':
      return v > 0 && v <= 5;
    case 'delta':
      return v >= -1 && v <= 1;
    case 'gamma':
    case 'vega':
      return v >= 0;
    default:
      return true;
  }
}

/** A greek value as the wire carried it counts as absent for the all-zero marker when missing or NaN. */
const absentOrZero = (v: number | null | 'NaN' | undefined) => v === undefined || v === null || v === 'NaN' || v === 0;

/**
 * Expected 1-minute bars of `ticks` (the accepted ones, in arrival order) for every option/future token:
 * ordered by tick time (ties by arrival), oi last, close last, volume = the bucket's last reported cumulative minus
 * the last reported cumulative of an earlier bucket of the same trading day (the day's 09:15 bucket, a token watched
 * since before the open (`watchedFromOpen`), or a lower cumulative, starts from 0; no earlier report that day =
 * unknown). A cumulative of 0 is "not reported" (the real service's live ticks). A bar with unknown volume is
 * incomplete. Greeks: mean over valid values, the all-zero marker skipped, theta x365 and vega x100 for a
 * `scaled` source.
 */
export function expectedOptionBars(
  ticks: readonly TestOptionTick[],
  underlying: readonly TestUnderlyingTick[],
  opts: { sourceGreeks?: 'scaled' | 'true'; watchedFromOpen?: ReadonlySet<number> } = {},
): Map<string, ExpectedBar> {
  const scale = {
    iv: 1,
    delta: 1,
    gamma: 1,
    theta: (opts.sourceGreeks ?? 'true') === 'scaled' ? 365 : 1,
    vega: (opts.sourceGreeks ?? 'true') === 'scaled' ? 100 : 1,
  };
  const byToken = new Map<number, { t: TestOptionTick; i: number }[]>();
  ticks.forEach((t, i) => {
    const list = byToken.get(t.token) ?? [];
    list.push({ t, i });
    byToken.set(t.token, list);
  });
  const u = underlying.map((x, i) => ({ x, i })).sort((a, b) => a.x.ts - b.x.ts || a.i - b.i);
  const underlyingCloseAt = (symbol: string, end: number): number | null => {
    let last: number | null = null;
    for (const { x } of u) if (x.symbol === symbol && x.ts * 1000 < end) last = x.price;
    return last;
  };
  const out = new Map<string, ExpectedBar>();
  for (const [token, list] of byToken) {
    list.sort((a, b) => a.t.ts - b.t.ts || a.i - b.i);
    const buckets = new Map<number, TestOptionTick[]>();
    for (const { t } of list) {
      const b = Math.floor((t.ts * 1000) / 60_000) * 60_000;
      const arr = buckets.get(b) ?? [];
      arr.push(t);
      buckets.set(b, arr);
    }
    // The last REPORTED cumulative (> 0) of the latest earlier bucket of the same day that had one.
    let prevCum: number | null = null;
    let prevDay: number | null = null;
    for (const [bucket, arr] of [...buckets].sort((a, b) => a[0] - b[0])) {
      const day = tradingDay(bucket);
      if (prevDay !== day) prevCum = null;
      const fromZero = bucket === day * 86_400_000 + IST_OPEN_UTC_MS || (opts.watchedFromOpen?.has(token) ?? false);
      const last = arr[arr.length - 1];
      const reported = arr.filter((t) => t.volume > 0);
      const cum = reported.length ? reported[reported.length - 1].volume : null;
      let volume: number | null = null;
      if (cum !== null && prevCum !== null) volume = cum >= prevCum ? cum - prevCum : cum;
      else if (cum !== null && fromZero) volume = cum;
      const complete = volume !== null;
      if (cum !== null) prevCum = cum;
      prevDay = day;
      const mean = (g: (typeof GREEKS)[number]) => {
        let sum = 0;
        let n = 0;
        for (const t of arr) {
          if (t.type === 'FUT') continue;
          if (GREEKS.every((k) => absentOrZero(t[k]))) continue;
          const v = t[g];
          if (typeof v !== 'number' || !greekValid(g, v)) continue;
          sum += v * scale[g];
          n++;
        }
        return n ? sum / n : null;
      };
      const prices = arr.map((t) => t.price);
      out.set(`${token}|${bucket}`, {
        token,
        bucket,
        open: arr[0].price,
        high: Math.max(...prices),
        low: Math.min(...prices),
        close: last.price,
        oi: last.oi,
        volume,
        ticks: arr.length,
        iv: mean('iv'),
        delta: mean('delta'),
        gamma: mean('gamma'),
        theta: mean('theta'),
        vega: mean('vega'),
        underlyingClose: last.type === 'FUT' ? null : underlyingCloseAt(last.symbol, bucket + 60_000),
        complete,
      });
    }
  }
  return out;
}
