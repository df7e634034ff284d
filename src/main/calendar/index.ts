// NSE calendar for the main process: the pure calendar of src/shared/calendar (IST, sessions, expiries) plus
// loading the holiday files from disk (holidays.ts: HolidayCalendar.load, loadAppCalendar).
export * from '../../shared/calendar/ist';
export * from '../../shared/calendar/expiry';
export {
  SESSION_CLOSE_MINUTE,
  SESSION_MINUTES,
  SESSION_OPEN_MINUTE,
  bucketStart,
  isInSession,
  isTradingDay,
  mergeHolidays,
  nextSessionOpen,
  parseHolidayFile,
  sessionBounds,
  sessionMinuteStarts,
  type HolidayEntry,
  type HolidayFileEntry,
} from '../../shared/calendar/sessions';
export * from './holidays';
