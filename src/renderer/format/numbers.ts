// Numbers the Indian way: en-IN digit grouping (12,34,567) and lakh / crore for open interest and volume, the way
// traders read them on Kite and Sensibull.

const grouped = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 0 });
const price = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 2 });

export const DASH = '–';

export const isNum = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n);

/** 1234567 -> "12,34,567". */
export const fmtInt = (n: number | null | undefined): string => (isNum(n) ? grouped.format(n) : DASH);

/** Prices and premiums: "24,512.35". */
export const fmtPrice = (n: number | null | undefined): string => (isNum(n) ? price.format(n) : DASH);

/** 12345678 -> "1.23 Cr", 234567 -> "2.35 L", 9876 -> "9,876". */
export function fmtLakh(n: number | null | undefined): string {
  if (!isNum(n)) return DASH;
  const abs = Math.abs(n);
  if (abs >= 1e7) return `${compact.format(n / 1e7)} Cr`;
  if (abs >= 1e5) return `${compact.format(n / 1e5)} L`;
  return grouped.format(n);
}

/** Change with its sign: "+2.35 L", "−9,876", "0". */
export function fmtSignedLakh(n: number | null | undefined): string {
  if (!isNum(n)) return DASH;
  if (n === 0) return '0';
  return n > 0 ? `+${fmtLakh(n)}` : `−${fmtLakh(-n)}`;
}

/**
 * IV as a percentage. The ticker publishes a decimal (0.1432 = 14.32%); a value already in percent (above 3, i.e.
 * 300% as a decimal, which no index option reaches) is shown as is.
 */
export const ivPercent = (iv: number | null | undefined): number | null => (isNum(iv) ? (Math.abs(iv) <= 3 ? iv * 100 : iv) : null);

export const fmtIv = (iv: number | null | undefined): string => {
  const pct = ivPercent(iv);
  return pct === null ? DASH : pct.toFixed(2);
};

export const fmtPct = (ratio: number | null | undefined, digits = 1): string => (isNum(ratio) ? `${(ratio * 100).toFixed(digits)}%` : DASH);

export const fmtFixed = (n: number | null | undefined, digits: number): string => (isNum(n) ? n.toFixed(digits) : DASH);

/**
 * One unit for open interest, its change and volume across the chain: lakh with two decimals ("6.65 L",
 * "0.41 L"), so "+41,100" never sits beside "+6.65 L". Zero is "0".
 */
export function fmtL(n: number | null | undefined): string {
  if (!isNum(n)) return DASH;
  if (n === 0) return '0';
  return `${compactFixed.format(n / 1e5)} L`;
}
const compactFixed = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Signed lakh: "+0.41 L", "−6.65 L" (a true minus sign), "0". */
export function fmtSignedL(n: number | null | undefined): string {
  if (!isNum(n)) return DASH;
  if (n === 0) return '0';
  return n > 0 ? `+${fmtL(n)}` : `−${fmtL(-n)}`;
}

/** Fixed decimals per greek, so a column reads down: delta 0.52, gamma 0.0012, theta −12.40 (₹/day), vega 8.15 (₹ per vol point). */
export const GREEK_DIGITS = { delta: 2, gamma: 4, theta: 2, vega: 2 } as const;
export const fmtGreekOf = (greek: keyof typeof GREEK_DIGITS, n: number | null | undefined): string => {
  if (!isNum(n)) return DASH;
  const text = n.toFixed(GREEK_DIGITS[greek]);
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
};

/** Greeks have very different magnitudes; show 4 significant digits. */
export const fmtGreek = (n: number | null | undefined): string => {
  if (!isNum(n)) return DASH;
  if (n === 0) return '0';
  return Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
};

/** A signed price change and its percentage: "+1.25 (+0.84%)". */
export function fmtChange(change: number | null | undefined, pct: number | null | undefined): string {
  if (!isNum(change)) return DASH;
  const sign = change > 0 ? '+' : change < 0 ? '−' : '';
  const p = isNum(pct) ? ` (${pct > 0 ? '+' : pct < 0 ? '−' : ''}${Math.abs(pct).toFixed(2)}%)` : '';
  return `${sign}${price.format(Math.abs(change))}${p}`;
}

/** Short age for dense cells: "4s", "12m", "3h", "2d". */
export function fmtShortAge(ms: number | null | undefined): string {
  if (!isNum(ms)) return DASH;
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** 75 s -> "1 m 15 s"; 4000 s -> "1 h 6 m". */
export function fmtDuration(seconds: number | null | undefined): string {
  if (!isNum(seconds)) return DASH;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Age of a last tick: "0.8 s", "42 s", "3 m 2 s". */
export function fmtAge(ms: number | null | undefined): string {
  if (!isNum(ms)) return DASH;
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  return fmtDuration(ms / 1000);
}
