// Expiry date rules of NSE index derivatives, as the devticker generates them. Consumers of a real registry must take
// expiries from the registry instead (market-data.md): these helpers exist to generate and to test.
import type { HolidayCalendar } from './sessions';
import { type IstDate, addDays, istDayNumber, weekdayOf } from './ist';

/** 0 = Sunday .. 6 = Saturday. NSE index derivatives expire on Tuesday since September 2025. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;
export const DEFAULT_EXPIRY_WEEKDAY: Weekday = 2;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKLY_MONTH_CODES = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'O', 'N', 'D'];

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** The last `weekday` of a month (month 1..12), unadjusted. */
export function lastWeekdayOfMonth(year: number, month: number, weekday: Weekday): IstDate {
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  let date = `${year}-${pad2(month)}-${pad2(lastDay)}`;
  while (weekdayOf(date) !== weekday) date = addDays(date, -1);
  return date;
}

/** Moves an expiry that falls on a non-trading day to the previous trading day. */
export function adjustExpiry(date: IstDate, cal: HolidayCalendar): IstDate {
  return cal.tradingDayOnOrBefore(date);
}

/** The holiday-adjusted monthly expiry of a month (the last `weekday`, moved earlier over holidays). */
export function monthlyExpiry(year: number, month: number, weekday: Weekday, cal: HolidayCalendar): IstDate {
  return adjustExpiry(lastWeekdayOfMonth(year, month, weekday), cal);
}

/** The next `count` monthly expiries on or after `from` (an expiry on `from` itself is still live that day). */
export function nextMonthlyExpiries(from: IstDate, count: number, weekday: Weekday, cal: HolidayCalendar): IstDate[] {
  const out: IstDate[] = [];
  let year = +from.slice(0, 4);
  let month = +from.slice(5, 7);
  while (out.length < count) {
    const e = monthlyExpiry(year, month, weekday, cal);
    if (e >= from) out.push(e);
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return out;
}

/** Monthly expiries strictly before `before`, most recent first. */
export function previousMonthlyExpiries(before: IstDate, count: number, weekday: Weekday, cal: HolidayCalendar): IstDate[] {
  const out: IstDate[] = [];
  let year = +before.slice(0, 4);
  let month = +before.slice(5, 7);
  while (out.length < count) {
    const e = monthlyExpiry(year, month, weekday, cal);
    if (e < before) out.push(e);
    month -= 1;
    if (month < 1) {
      month = 12;
      year -= 1;
    }
  }
  return out;
}

/** The next `count` weekly expiries on or after `from`: each week's `weekday`, moved to the previous trading day. */
export function nextWeeklyExpiries(from: IstDate, count: number, weekday: Weekday, cal: HolidayCalendar): IstDate[] {
  const out: IstDate[] = [];
  // Start at the week's nominal expiry day on or after `from - 6` so a holiday-shifted expiry of this week is seen.
  let nominal = addDays(from, -6);
  while (weekdayOf(nominal) !== weekday) nominal = addDays(nominal, 1);
  while (out.length < count) {
    const e = adjustExpiry(nominal, cal);
    if (e >= from && out[out.length - 1] !== e) out.push(e);
    nominal = addDays(nominal, 7);
  }
  return out;
}

/** Weekly expiries strictly before `before`, most recent first. */
export function previousWeeklyExpiries(before: IstDate, count: number, weekday: Weekday, cal: HolidayCalendar): IstDate[] {
  const out: IstDate[] = [];
  let nominal = addDays(before, 6);
  while (weekdayOf(nominal) !== weekday) nominal = addDays(nominal, -1);
  while (out.length < count) {
    const e = adjustExpiry(nominal, cal);
    if (e < before && out[out.length - 1] !== e) out.push(e);
    nominal = addDays(nominal, -7);
  }
  return out;
}

/** True when `expiry` is the monthly expiry of its month for the given weekday rule. */
export function isMonthlyExpiry(expiry: IstDate, weekday: Weekday, cal: HolidayCalendar): boolean {
  return monthlyExpiry(+expiry.slice(0, 4), +expiry.slice(5, 7), weekday, cal) === expiry;
}

/** Strike text as Kite prints it in tradingsymbols: 24500, or 24512.5 for a fractional strike. */
export function strikeText(strike: number): string {
  return String(strike);
}

/** Monthly option: NIFTY25NOV24500CE. */
export function monthlyOptionSymbol(name: string, expiry: IstDate, strike: number, type: 'CE' | 'PE'): string {
  return `${name}${expiry.slice(2, 4)}${MONTHS[+expiry.slice(5, 7) - 1]}${strikeText(strike)}${type}`;
}

/** Weekly option: NIFTY25N0425100CE (YY + month code 1-9/O/N/D + DD + strike + type). */
export function weeklyOptionSymbol(name: string, expiry: IstDate, strike: number, type: 'CE' | 'PE'): string {
  return `${name}${expiry.slice(2, 4)}${WEEKLY_MONTH_CODES[+expiry.slice(5, 7) - 1]}${expiry.slice(8, 10)}${strikeText(strike)}${type}`;
}

/** Monthly future: NIFTY25NOVFUT. */
export function futureSymbol(name: string, expiry: IstDate): string {
  return `${name}${expiry.slice(2, 4)}${MONTHS[+expiry.slice(5, 7) - 1]}FUT`;
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: IstDate, to: IstDate): number {
  return istDayNumber(to) - istDayNumber(from);
}
