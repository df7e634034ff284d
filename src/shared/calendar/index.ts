// The pure NSE calendar (no file access): IST helpers, sessions and holidays, expiry rules.
//   ist.ts       istDate, istParts, fromIstWallClock, toIstNaive, toIstOffsetString, addDays, istInstant, ...
//   sessions.ts  HolidayCalendar (from a list), parseHolidayFile, mergeHolidays, sessionBounds, sessionMinuteStarts, bucketStart
//   expiry.ts    monthly / weekly expiry rules with the holiday shift, Kite tradingsymbol formats
export * from './ist';
export * from './sessions';
export * from './expiry';
export * from './holiday-files';
