// NSE trading calendar without any file access (so the renderer and the devticker can use it): holidays given as a
// list (parseHolidayFile reads the file's text; the operator's file is merged over the shipped one by mergeHolidays),
// weekends, sessions 09:15-15:30 IST. All instants are UTC epoch ms; dates are IST 'YYYY-MM-DD'. Loading the files
// from disk is src/main/calendar's job.
import { z } from 'zod';
import { DAY_MS, type IstDate, addDays, istDate, istDayNumber, istInstant, weekdayOf } from './ist';

export const SESSION_OPEN_MINUTE = 9 * 60 + 15; // 09:15 IST
export const SESSION_CLOSE_MINUTE = 15 * 60 + 30; // 15:30 IST (exclusive: the last 1-minute bar starts at 15:29)
export const SESSION_MINUTES = SESSION_CLOSE_MINUTE - SESSION_OPEN_MINUTE; // 375

export interface HolidayEntry {
  date: IstDate;
  name: string;
  /** false when the date is estimated and not yet confirmed by an exchange circular. */
  verified: boolean;
  /** Where the date comes from: 'shipped' (the app's file) or the operator file's path. */
  source?: string;
}

/** A file entry: a holiday, or (`holiday: false`, operator file) the cancellation of a shipped date. */
export interface HolidayFileEntry extends HolidayEntry {
  holiday: boolean;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const realDate = (d: string) => {
  if (!DATE_RE.test(d)) return false;
  const ms = Date.parse(`${d}T00:00:00Z`);
  // Month 13 does not parse; 02-30 parses as 03-02: both are not real dates.
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === d;
};
const entrySchema = z.object({
  date: z.string().refine(realDate, 'a real date YYYY-MM-DD'),
  name: z.string(),
  verified: z.boolean().default(false),
  holiday: z.boolean().default(true),
});
const fileSchema = z.union([z.array(entrySchema), z.object({ holidays: z.array(entrySchema) }).passthrough()]);

/** Parses the holiday file text (a bare array of entries or `{holidays: [...]}`); throws a clear error when invalid. */
export function parseHolidayFile(text: string, source = 'holiday file'): HolidayFileEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: invalid holiday list at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? parsed.error.message}`);
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.holidays;
  return list.map((e) => ({ date: e.date, name: e.name, verified: e.verified, holiday: e.holiday, source }));
}

/**
 * The shipped holidays with the operator's file merged over them date by date: an operator entry adds a date or
 * replaces the shipped one (its name and verified flag), and `"holiday": false` cancels a shipped date. Each entry
 * keeps its source ('shipped' or the operator file's path).
 */
export function mergeHolidays(shipped: readonly HolidayFileEntry[], operator: readonly HolidayFileEntry[], operatorSource: string): HolidayEntry[] {
  const byDate = new Map<string, HolidayEntry>();
  for (const e of shipped) if (e.holiday) byDate.set(e.date, { date: e.date, name: e.name, verified: e.verified, source: 'shipped' });
  for (const e of operator) {
    if (e.holiday) byDate.set(e.date, { date: e.date, name: e.name, verified: e.verified, source: operatorSource });
    else byDate.delete(e.date);
  }
  return [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
}

/** The NSE trading calendar. Construct from a list of entries or dates, or load the shipped file. */
export class HolidayCalendar {
  private readonly byDate = new Map<IstDate, HolidayEntry>();

  constructor(holidays: ReadonlyArray<HolidayEntry | IstDate> = []) {
    for (const h of holidays) {
      const entry: HolidayEntry =
        typeof h === 'string' ? { date: h, name: 'holiday', verified: true } : { date: h.date, name: h.name, verified: h.verified, source: h.source };
      if (!DATE_RE.test(entry.date)) throw new Error(`invalid holiday date: ${entry.date}`);
      this.byDate.set(entry.date, entry);
    }
  }

  /** A calendar with weekends only (tests, or when no file can be found). */
  static weekendsOnly(): HolidayCalendar {
    return new this([]);
  }

  entries(): HolidayEntry[] {
    return [...this.byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
  }

  holiday(date: IstDate): HolidayEntry | undefined {
    return this.byDate.get(date);
  }

  isHoliday(date: IstDate): boolean {
    return this.byDate.has(date);
  }

  /** Monday-Friday and not an exchange holiday. */
  isTradingDay(date: IstDate): boolean {
    const wd = weekdayOf(date);
    return wd !== 0 && wd !== 6 && !this.byDate.has(date);
  }

  /** The trading day on or before `date`. */
  tradingDayOnOrBefore(date: IstDate): IstDate {
    let d = date;
    for (let i = 0; i < 30 && !this.isTradingDay(d); i++) d = addDays(d, -1);
    return d;
  }

  /** The trading day on or after `date`. */
  tradingDayOnOrAfter(date: IstDate): IstDate {
    let d = date;
    for (let i = 0; i < 30 && !this.isTradingDay(d); i++) d = addDays(d, 1);
    return d;
  }

  /** The trading day strictly before `date`. */
  previousTradingDay(date: IstDate): IstDate {
    return this.tradingDayOnOrBefore(addDays(date, -1));
  }

  /** The trading day strictly after `date`. */
  nextTradingDay(date: IstDate): IstDate {
    return this.tradingDayOnOrAfter(addDays(date, 1));
  }

  /** Trading days in [from, to] inclusive, ascending. */
  tradingDaysBetween(from: IstDate, to: IstDate): IstDate[] {
    const out: IstDate[] = [];
    const end = istDayNumber(to);
    for (let n = istDayNumber(from); n <= end; n++) {
      const d = new Date(n * DAY_MS).toISOString().slice(0, 10);
      if (this.isTradingDay(d)) out.push(d);
    }
    return out;
  }

  /** True when the instant falls inside a session (a trading day, 09:15 <= IST time < 15:30). */
  isInSession(epochMs: number): boolean {
    const date = istDate(epochMs);
    if (!this.isTradingDay(date)) return false;
    const { open, close } = sessionBounds(date);
    return epochMs >= open && epochMs < close;
  }

  /** The first session open at or after `epochMs` (a session already under way is not returned). */
  nextSessionOpen(epochMs: number): number {
    let date = istDate(epochMs);
    for (let i = 0; i < 40; i++) {
      if (this.isTradingDay(date)) {
        const { open } = sessionBounds(date);
        if (open >= epochMs) return open;
      }
      date = addDays(date, 1);
    }
    throw new Error('no session open within 40 days');
  }

  /** The session containing `epochMs`, or null. */
  sessionAt(epochMs: number): { date: IstDate; open: number; close: number } | null {
    if (!this.isInSession(epochMs)) return null;
    const date = istDate(epochMs);
    return { date, ...sessionBounds(date) };
  }

  /** Start instants of every 1-minute session bar in [fromMs, toMs) on trading days (09:15..15:29 buckets). */
  sessionMinutesBetween(fromMs: number, toMs: number): number[] {
    const out: number[] = [];
    if (toMs <= fromMs) return out;
    for (const date of this.tradingDaysBetween(istDate(fromMs), istDate(toMs))) {
      for (const m of sessionMinuteStarts(date)) if (m >= fromMs && m < toMs) out.push(m);
    }
    return out;
  }
}

/** Session open and close of an IST date as UTC epoch ms (09:15 and 15:30 IST; close exclusive). Ignores holidays. */
export function sessionBounds(date: IstDate): { open: number; close: number } {
  return { open: istInstant(date, 9, 15), close: istInstant(date, 15, 30) };
}

/** The 375 one-minute bucket starts of a session date (09:15 .. 15:29 IST). Ignores holidays. */
export function sessionMinuteStarts(date: IstDate): number[] {
  const { open } = sessionBounds(date);
  const out = new Array<number>(SESSION_MINUTES);
  for (let i = 0; i < SESSION_MINUTES; i++) out[i] = open + i * 60_000;
  return out;
}

/** Free-function forms taking the calendar explicitly. */
export const isTradingDay = (cal: HolidayCalendar, date: IstDate): boolean => cal.isTradingDay(date);
export const isInSession = (cal: HolidayCalendar, epochMs: number): boolean => cal.isInSession(epochMs);
export const nextSessionOpen = (cal: HolidayCalendar, epochMs: number): number => cal.nextSessionOpen(epochMs);

/**
 * Start of the bucket containing `epochMs`, for 1, 3, 5, 10, 15, 30 or 60 minute buckets. Buckets that divide 15
 * (1, 3, 5, 15) align with IST clock boundaries (IST is UTC+330 min); 10, 30 and 60 minute buckets align with the
 * session open 09:15 IST, as Kite's candles do.
 */
export function bucketStart(epochMs: number, minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < 1) throw new Error(`invalid bucket size: ${minutes}`);
  const size = minutes * 60_000;
  // An anchor that is both an IST clock boundary and 09:15 IST: 1970-01-01T09:15+05:30 = 03:45Z.
  const anchor = 3 * 3_600_000 + 45 * 60_000;
  return Math.floor((epochMs - anchor) / size) * size + anchor;
}
