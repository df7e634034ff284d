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

/** Greeks have very different magnitudes; show 4 significant digits. */
export const fmtGreek = (n: number | null | undefined): string => {
  if (!isNum(n)) return DASH;
  if (n === 0) return '0';
  return Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
};

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
