// IST (Asia/Kolkata, UTC+05:30, no DST) helpers. Instants are UTC epoch milliseconds everywhere; IST appears only
// here. Never use Date#getHours/getDate (machine-local time): IST is computed as UTC + 330 minutes.

export const IST_OFFSET_MS = 330 * 60_000;
export const DAY_MS = 86_400_000;

/** An IST calendar date 'YYYY-MM-DD'. */
export type IstDate = string;

export interface IstParts {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** The IST wall-clock parts of an instant. */
export function istParts(epochMs: number): IstParts {
  const d = new Date(epochMs + IST_OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
    weekday: d.getUTCDay(),
  };
}

/** The IST calendar date of an instant, 'YYYY-MM-DD' ("today" is always this, never the machine's date). */
export function istDate(epochMs: number): IstDate {
  return new Date(epochMs + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Days since 1970-01-01 of an IST date (a compact integer day key). */
export function istDayNumber(date: IstDate): number {
  return Math.floor(Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)) / DAY_MS);
}

/** The IST date with the given day number. */
export function istDateFromDayNumber(dayNumber: number): IstDate {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** Adds calendar days to an IST date. */
export function addDays(date: IstDate, days: number): IstDate {
  return istDateFromDayNumber(istDayNumber(date) + days);
}

/** 0 = Sunday .. 6 = Saturday. */
export function weekdayOf(date: IstDate): number {
  return new Date(istDayNumber(date) * DAY_MS).getUTCDay();
}

/** The instant of an IST wall-clock time on a date (hour, minute default 0). */
export function istInstant(date: IstDate, hour = 0, minute = 0, second = 0): number {
  return istDayNumber(date) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 - IST_OFFSET_MS;
}

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;

/**
 * Reads a naive IST wall-clock text ('YYYY-MM-DD', 'YYYY-MM-DDTHH:mm', 'YYYY-MM-DDTHH:mm:ss[.ffffff]') as an instant.
 * Throws on anything else (including a zone suffix: this function is for naive IST text only).
 */
export function fromIstWallClock(text: string): number {
  const m = WALL_CLOCK.exec(text);
  if (!m) throw new Error(`not a naive IST wall-clock time: ${text}`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  return Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms) - IST_OFFSET_MS;
}

/** The naive IST wall-clock text 'YYYY-MM-DDTHH:mm:ss' of an instant (what the ticker's /history expects). */
export function toIstNaive(epochMs: number): string {
  return new Date(epochMs + IST_OFFSET_MS).toISOString().slice(0, 19);
}

/** 'YYYY-MM-DDTHH:mm:ss+05:30', the candle `date` format of Kite history. */
export function toIstOffsetString(epochMs: number): string {
  return `${toIstNaive(epochMs)}+05:30`;
}

/** 'HH:mm' in IST, for labels. */
export function istClockLabel(epochMs: number): string {
  const p = istParts(epochMs);
  return `${pad2(p.hour)}:${pad2(p.minute)}`;
}
