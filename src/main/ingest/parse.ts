// Parsing of the live feed's messages (docs/ticker-contract.md, live ticks) into normalized ticks.
// Untrusted input: every field is checked with zod; a bad greek or volume makes that field missing, never the
// whole tick invalid; only a tick we cannot place (no token, no symbol, no time we can trust) is rejected.
// Production quirks handled here: cumulative volume 0 means "not reported" (unknown, not zero); theta / vega
// published scaled are rescaled to true units (units.ts); all-zero greeks are missing; NaN reads as missing;
// index rows (type EQ, segment INDICES) on the options channel are recognised and set aside, not errors; unknown
// extra fields are ignored.
import { z } from 'zod';
import { greeksInTrueUnits, SOURCE_GREEKS_DEFAULT, type SourceGreeks } from './units';

export type OptionType = 'CE' | 'PE' | 'FUT';

/** One `ticker:nifty:options` tick (options and futures). */
export interface OptionTick {
  token: number;
  /** Underlying name, normalized (NIFTY, BANKNIFTY, ...). */
  symbol: string;
  expiry: string | null;
  strike: number;
  type: OptionType;
  /** Last traded price; null when the feed says 0 (no trade yet) or sends nothing usable. */
  price: number | null;
  /** CUMULATIVE day volume, or null when not reported (0 on the wire). */
  cumVolume: number | null;
  oi: number | null;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  /** Tick time, epoch ms (see tickTime for the guards). */
  tsMs: number;
  /** True when the tick's own time could not be trusted and the receive time was used. */
  tsAdjusted: boolean;
  isMock: boolean;
}

/** One `ticker:nifty:underlying` tick in either shape. */
export interface UnderlyingTick {
  symbol: string;
  /** Index token: from shape A; null for shape B (resolved by symbol later). */
  token: number | null;
  price: number;
  tsMs: number;
  tsAdjusted: boolean;
  shape: 'A' | 'B';
}

/**
 * `ignored`: a well-formed message that is not for this channel's consumer (an index row on the options channel),
 * skipped quietly and counted apart from errors.
 */
export type Parsed<T> = { ok: true; tick: T } | { ok: false; error: string; ignored?: 'index_row'; index?: UnderlyingTick };

/** Index names as Kite's instrument dump spells them, mapped to the derivatives' underlying name. */
const SYMBOL_ALIASES: Record<string, string> = {
  'NIFTY 50': 'NIFTY',
  'NIFTY BANK': 'BANKNIFTY',
  'NIFTY FIN SERVICE': 'FINNIFTY',
  'NIFTY MID SELECT': 'MIDCPNIFTY',
};

/** Kite's index tokens, the last resort for resolving a shape-B underlying tick (which carries no token). */
export const KNOWN_INDEX_TOKENS: Readonly<Record<string, number>> = {
  NIFTY: 256265,
  BANKNIFTY: 260105,
  FINNIFTY: 257801,
  MIDCPNIFTY: 288009,
  SENSEX: 265,
};

export function normalizeSymbol(raw: string): string {
  const upper = raw.trim().toUpperCase();
  return SYMBOL_ALIASES[upper] ?? upper;
}

/** A tick time further ahead of our clock than this is not believed (clock skew, or ms sent as s). */
export const MAX_FUTURE_SKEW_MS = 5_000;

/**
 * Tick time in epoch ms from a feed timestamp. The real service's `ts` is sometimes its RECEIVE time (a float of
 * seconds), not the exchange time: that is still the best time we have and buckets by it are right to within the
 * network delay, so it is used as is. Guards: milliseconds sent where seconds are expected are recognised; ISO
 * strings are accepted; a missing or unreadable time, or one more than 5 s in the future, is replaced by our
 * receive time (counted as adjusted, so a broken clock shows up in the stats).
 */
export function tickTime(ts: unknown, receivedAtMs: number): { ms: number; adjusted: boolean } {
  let ms: number | null = null;
  if (typeof ts === 'number' && Number.isFinite(ts) && ts > 0) ms = ts > 1e11 ? ts : ts * 1000;
  else if (typeof ts === 'string' && ts.trim() !== '') {
    const n = Number(ts);
    if (Number.isFinite(n) && n > 0) ms = n > 1e11 ? n : n * 1000;
    else {
      const parsed = Date.parse(ts);
      if (Number.isFinite(parsed)) ms = parsed;
    }
  }
  if (ms === null || ms > receivedAtMs + MAX_FUTURE_SKEW_MS) return { ms: receivedAtMs, adjusted: true };
  return { ms: Math.floor(ms), adjusted: false };
}

/**
 * The message without its `"depth": {...}` member. Depth (full mode) is most of an option tick's bytes and almost
 * all of its objects, and bars do not use it: cutting it before JSON.parse roughly halves the parse cost and the
 * garbage. The scan honours strings and nesting; anything unexpected returns the text unchanged.
 */
export function withoutDepth(text: string): string {
  const key = text.indexOf('"depth"');
  if (key < 0) return text;
  let i = key + 7;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 58)) i++; // spaces and ':'
  const open = text.charCodeAt(i);
  if (open !== 123 && open !== 91) return text; // '{' or '['
  let level = 0;
  let inString = false;
  let end = -1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) level++;
    else if (c === 125 || c === 93) {
      level--;
      if (level === 0) {
        end = i + 1;
        break;
      }
    }
  }
  if (end < 0) return text;
  // Remove the member with one adjacent comma.
  let before = key;
  while (before > 0 && (text.charCodeAt(before - 1) === 32 || text.charCodeAt(before - 1) === 10)) before--;
  if (text.charCodeAt(before - 1) === 44) return text.slice(0, before - 1) + text.slice(end);
  let after = end;
  while (after < text.length && (text.charCodeAt(after) === 32 || text.charCodeAt(after) === 10)) after++;
  if (text.charCodeAt(after) === 44) return text.slice(0, key) + text.slice(after + 1);
  return text;
}

/** Python's json.dumps writes NaN / Infinity as bare words, which JSON.parse rejects: read them as null. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) throw err;
    return JSON.parse(text.replace(/([:,[]\s*)-?(?:NaN|Infinity)(?=\s*[,}\]])/g, '$1null'));
  }
}

// A field that is not a usable number becomes null instead of failing the tick.
const num = z.number().nullish().catch(null);
const time = z.union([z.number(), z.string()]).nullish().catch(null);

const optionSchema = z.object({
  symbol: z.string().min(1),
  token: z.number().int().positive(),
  strike: z.number().nullish().catch(null),
  expiry: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullish()
    .catch(null),
  type: z.enum(['CE', 'PE', 'FUT']),
  price: num,
  volume: num,
  oi: num,
  iv: num,
  delta: num,
  gamma: num,
  theta: num,
  vega: num,
  ts: time,
  is_mock: z.boolean().nullish().catch(null),
});

const shapeA = z.object({
  symbol: z.string().min(1),
  instrument_token: z.number().int().positive().nullish().catch(null),
  last_price: z.number(),
  timestamp: time,
  ts: time,
});
const shapeB = z.object({ symbol: z.string().min(1), close: z.number(), ts: time, timestamp: time });

const positive = (v: number | null | undefined): number | null => (v === null || v === undefined || !(v > 0) ? null : v);
const nonNegative = (v: number | null | undefined): number | null => (v === null || v === undefined || !(v >= 0) ? null : v);

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

export { validGreeks } from './units';

/** A subscribed index token on the options channel (the real service's mock mode): not an option, not an error. */
function isIndexRow(raw: unknown): boolean {
  if (raw === null || typeof raw !== 'object') return false;
  const r = raw as { type?: unknown; segment?: unknown };
  return r.type === 'EQ' || r.segment === 'INDICES';
}

/**
 * The index level an index row carries. Outside the session the real service publishes subscribed index tokens only
 * this way (shape B covers NIFTY alone), so it is the one live level of BANKNIFTY, FINNIFTY and MIDCPNIFTY then.
 */
function indexLevel(raw: unknown, receivedAtMs: number): UnderlyingTick | undefined {
  const r = raw as { token?: unknown; symbol?: unknown; tradingsymbol?: unknown; price?: unknown; ts?: unknown };
  const name = typeof r.tradingsymbol === 'string' ? r.tradingsymbol : r.symbol;
  if (typeof name !== 'string' || typeof r.price !== 'number' || !(r.price > 0)) return undefined;
  const t = tickTime(typeof r.ts === 'number' || typeof r.ts === 'string' ? r.ts : undefined, receivedAtMs);
  const token = typeof r.token === 'number' && Number.isInteger(r.token) && r.token > 0 ? r.token : null;
  return { symbol: normalizeSymbol(name), token, price: r.price, tsMs: t.ms, tsAdjusted: t.adjusted, shape: 'B' };
}

export interface ParseOptions {
  /** What the source publishes for theta and vega (default 'scaled', as the real service). */
  sourceGreeks?: SourceGreeks;
}

export function parseOptionMessage(text: string, receivedAtMs: number, opts: ParseOptions = {}): Parsed<OptionTick> {
  let raw: unknown;
  try {
    raw = parseJson(withoutDepth(text));
  } catch {
    // The cut is only a speed-up: if the shortened text does not parse, judge the message as sent.
    try {
      raw = parseJson(text);
    } catch {
      return { ok: false, error: 'not JSON' };
    }
  }
  if (isIndexRow(raw)) return { ok: false, error: 'index row on the options channel', ignored: 'index_row', index: indexLevel(raw, receivedAtMs) };
  const r = optionSchema.safeParse(raw);
  if (!r.success) return { ok: false, error: issueText(r.error) };
  const m = r.data;
  const isFuture = m.type === 'FUT';
  if (!isFuture && (m.strike === null || m.strike === undefined || !(m.strike > 0) || !m.expiry)) {
    return { ok: false, error: 'option without strike or expiry' };
  }
  const t = tickTime(m.ts, receivedAtMs);
  const greeks = isFuture ? { iv: null, delta: null, gamma: null, theta: null, vega: null } : greeksInTrueUnits(m, opts.sourceGreeks ?? SOURCE_GREEKS_DEFAULT);
  return {
    ok: true,
    tick: {
      token: m.token,
      symbol: normalizeSymbol(m.symbol),
      expiry: m.expiry ?? null,
      strike: isFuture ? 0 : (m.strike as number),
      type: m.type,
      price: positive(m.price),
      // The real service reports cumulative volume 0 on every live tick: not "nothing traded" but "not reported".
      // A true 0 (before the day's first trade) carries no information a bar needs either: unknown either way.
      cumVolume: positive(m.volume),
      oi: nonNegative(m.oi),
      ...greeks,
      tsMs: t.ms,
      tsAdjusted: t.adjusted,
      isMock: m.is_mock === true,
    },
  };
}

export function parseUnderlyingMessage(text: string, receivedAtMs: number): Parsed<UnderlyingTick> {
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (raw !== null && typeof raw === 'object' && 'last_price' in raw) {
    const r = shapeA.safeParse(raw);
    if (!r.success) return { ok: false, error: `shape A ${issueText(r.error)}` };
    if (!(r.data.last_price > 0)) return { ok: false, error: 'shape A: last_price not positive' };
    const t = tickTime(r.data.timestamp ?? r.data.ts, receivedAtMs);
    return {
      ok: true,
      tick: {
        symbol: normalizeSymbol(r.data.symbol),
        token: r.data.instrument_token ?? null,
        price: r.data.last_price,
        tsMs: t.ms,
        tsAdjusted: t.adjusted,
        shape: 'A',
      },
    };
  }
  const r = shapeB.safeParse(raw);
  if (!r.success) return { ok: false, error: `shape B ${issueText(r.error)}` };
  if (!(r.data.close > 0)) return { ok: false, error: 'shape B: close not positive' };
  const t = tickTime(r.data.ts ?? r.data.timestamp, receivedAtMs);
  return { ok: true, tick: { symbol: normalizeSymbol(r.data.symbol), token: null, price: r.data.close, tsMs: t.ms, tsAdjusted: t.adjusted, shape: 'B' } };
}
