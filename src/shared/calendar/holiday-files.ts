// The holiday files turned into a calendar, without touching the disk: the shipped file's text, with the operator's
// file text merged over it. The console (src/main/calendar/holidays.ts) and the devticker (src/devticker/holidays.ts)
// each read the files at their own edge and hand the text here, so both share one parser and one merge rule.
import { HolidayCalendar, mergeHolidays, parseHolidayFile, type HolidayFileEntry } from './sessions';

/** Where the shipped calendar lives, relative to the repository (or the packaged app's resources) root. */
export const SHIPPED_HOLIDAY_FILE_PARTS = ['resources', 'calendar', 'nse-holidays.json'] as const;
/** The operator's file in the data directory, merged over the shipped calendar. */
export const OPERATOR_HOLIDAY_FILE = 'holidays.json';

/** One holiday file's text and where it came from (kept as each operator entry's source). */
export interface HolidayFileText {
  text: string;
  /** The file's path. */
  source: string;
  /** How errors name the file (default: the path). */
  label?: string;
}

/**
 * The holiday entries of the shipped file with the operator file (when given) merged over them date by date.
 * Invalid text is an error naming the file (parseHolidayFile).
 */
export function holidaysFromFiles(shipped: HolidayFileText, operator?: HolidayFileText) {
  const shippedEntries = parseHolidayFile(shipped.text, shipped.label ?? shipped.source);
  const operatorEntries: HolidayFileEntry[] = operator ? parseHolidayFile(operator.text, operator.label ?? operator.source) : [];
  return mergeHolidays(shippedEntries, operatorEntries, operator?.source ?? '');
}

/** A calendar from the shipped file's text, with the operator file's text merged over it when given. */
export function calendarFromHolidayFiles(shipped: HolidayFileText, operator?: HolidayFileText): HolidayCalendar {
  return new HolidayCalendar(holidaysFromFiles(shipped, operator));
}
