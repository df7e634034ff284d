// NSE calendar: IST time helpers, sessions and holidays, expiry rules. See each file for the details.
//   ist.ts       istDate, istParts, fromIstWallClock, toIstNaive, toIstOffsetString, addDays, istInstant, ...
//   holidays.ts  HolidayCalendar (load the shipped file or pass a list), sessionBounds, sessionMinuteStarts, bucketStart
//   expiry.ts    monthly / weekly expiry rules with the holiday shift, Kite tradingsymbol formats
export * from './ist';
export * from './holidays';
export * from './expiry';
