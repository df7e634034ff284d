// The one real-date and instant check of every input surface (/fo query, ConsoleApi requests): `2026-99-99`,
// `0000-01-01` or an instant outside what the stores hold is a 400 naming the field, never a database error.

/** Calendar dates the console accepts: a trading day between these years (the stores hold nothing outside). */
export const MIN_YEAR = 2000;
export const MAX_YEAR = 2099;
const MIN_INSTANT = Date.UTC(MIN_YEAR, 0, 1);
const MAX_INSTANT = Date.UTC(MAX_YEAR + 1, 0, 1);

/** True for an existing YYYY-MM-DD calendar date in [MIN_YEAR, MAX_YEAR]. */
export function isRealIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < MIN_YEAR || y > MAX_YEAR || mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

export const REAL_DATE_MESSAGE = `expected a real date YYYY-MM-DD (years ${MIN_YEAR}-${MAX_YEAR})`;

/** Epoch ms inside the accepted range, or NaN: ISO-8601 text or epoch milliseconds (digits). */
export function parseBoundedInstant(text: string): number {
  if (text.length > 40) return Number.NaN;
  const ms = /^\d{1,16}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(ms) && ms >= MIN_INSTANT && ms < MAX_INSTANT ? ms : Number.NaN;
}

export const INSTANT_MESSAGE = `expected an ISO-8601 instant or epoch milliseconds between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`;
