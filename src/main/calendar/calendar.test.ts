import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HolidayCalendar,
  OPERATOR_HOLIDAY_FILE,
  addDays,
  loadAppCalendar,
  bucketStart,
  findHolidayFile,
  fromIstWallClock,
  futureSymbol,
  istDate,
  istParts,
  lastWeekdayOfMonth,
  monthlyExpiry,
  monthlyOptionSymbol,
  nextMonthlyExpiries,
  nextWeeklyExpiries,
  parseHolidayFile,
  previousWeeklyExpiries,
  sessionBounds,
  sessionMinuteStarts,
  toIstNaive,
  toIstOffsetString,
  weekdayOf,
  weeklyOptionSymbol,
} from './index';

describe('IST helpers', () => {
  it('gives the IST date near midnight UTC', () => {
    // 18:29:59Z is 23:59:59 IST the same day; 18:30Z is 00:00 IST the next day.
    expect(istDate(Date.parse('2025-11-04T18:29:59Z'))).toBe('2025-11-04');
    expect(istDate(Date.parse('2025-11-04T18:30:00Z'))).toBe('2025-11-05');
    expect(istDate(Date.parse('2025-11-04T00:00:00Z'))).toBe('2025-11-04');
    expect(istDate(Date.parse('2025-12-31T20:00:00Z'))).toBe('2026-01-01');
  });

  it('converts naive IST wall-clock both ways', () => {
    const t = fromIstWallClock('2025-11-04T09:15:00');
    expect(new Date(t).toISOString()).toBe('2025-11-04T03:45:00.000Z');
    expect(toIstNaive(t)).toBe('2025-11-04T09:15:00');
    expect(toIstOffsetString(t)).toBe('2025-11-04T09:15:00+05:30');
    expect(fromIstWallClock('2025-11-04')).toBe(Date.parse('2025-11-03T18:30:00Z'));
    expect(fromIstWallClock('2025-11-04T09:15:30.5')).toBe(t + 30_500);
    expect(() => fromIstWallClock('2025-11-04T09:15:00+05:30')).toThrow();
    const p = istParts(Date.parse('2025-11-04T10:00:00Z'));
    expect(p).toMatchObject({ year: 2025, month: 11, day: 4, hour: 15, minute: 30, weekday: 2 });
  });

  it('does date arithmetic on IST dates', () => {
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(weekdayOf('2025-11-04')).toBe(2);
  });
});

describe('HolidayCalendar and sessions', () => {
  const cal = HolidayCalendar.load();

  it('loads the shipped holiday file with verified flags', () => {
    expect(findHolidayFile()).toMatch(/resources[/\\]calendar[/\\]nse-holidays\.json$/);
    expect(cal.isHoliday('2025-11-05')).toBe(true);
    expect(cal.holiday('2025-12-25')?.name).toBe('Christmas');
    const years = new Set(cal.entries().map((e) => e.date.slice(0, 4)));
    expect([...years].sort()).toEqual(['2025', '2026', '2027']);
    expect(cal.entries().some((e) => !e.verified)).toBe(true);
    for (const e of cal.entries()) expect([0, 6]).not.toContain(weekdayOf(e.date));
  });

  it('knows weekends and holidays are not trading days', () => {
    expect(cal.isTradingDay('2025-11-04')).toBe(true); // Tuesday
    expect(cal.isTradingDay('2025-11-05')).toBe(false); // Guru Nanak Jayanti
    expect(cal.isTradingDay('2025-11-08')).toBe(false); // Saturday
    expect(cal.isTradingDay('2025-11-09')).toBe(false); // Sunday
    expect(cal.previousTradingDay('2025-11-06')).toBe('2025-11-04');
    expect(cal.nextTradingDay('2025-11-07')).toBe('2025-11-10');
    expect(cal.tradingDaysBetween('2025-11-03', '2025-11-09')).toEqual(['2025-11-03', '2025-11-04', '2025-11-06', '2025-11-07']);
  });

  it('has sessions 09:15-15:30 IST with bars 09:15..15:29', () => {
    const { open, close } = sessionBounds('2025-11-04');
    expect(new Date(open).toISOString()).toBe('2025-11-04T03:45:00.000Z');
    expect(new Date(close).toISOString()).toBe('2025-11-04T10:00:00.000Z');
    const minutes = sessionMinuteStarts('2025-11-04');
    expect(minutes).toHaveLength(375);
    expect(toIstNaive(minutes[374])).toBe('2025-11-04T15:29:00');
    expect(cal.isInSession(open)).toBe(true);
    expect(cal.isInSession(open - 1)).toBe(false);
    expect(cal.isInSession(close - 1)).toBe(true);
    expect(cal.isInSession(close)).toBe(false);
    expect(cal.isInSession(fromIstWallClock('2025-11-05T10:00:00'))).toBe(false); // holiday
    expect(cal.isInSession(fromIstWallClock('2025-11-08T10:00:00'))).toBe(false); // Saturday
  });

  it('finds the next session open across a holiday and a weekend', () => {
    expect(toIstNaive(cal.nextSessionOpen(fromIstWallClock('2025-11-04T16:00:00')))).toBe('2025-11-06T09:15:00');
    expect(toIstNaive(cal.nextSessionOpen(fromIstWallClock('2025-11-07T15:30:00')))).toBe('2025-11-10T09:15:00');
    expect(toIstNaive(cal.nextSessionOpen(fromIstWallClock('2025-11-10T09:15:00')))).toBe('2025-11-10T09:15:00');
    expect(toIstNaive(cal.nextSessionOpen(fromIstWallClock('2025-11-10T09:15:01')))).toBe('2025-11-11T09:15:00');
  });

  it('enumerates session minutes between two instants', () => {
    const from = fromIstWallClock('2025-11-04T15:25:00');
    const to = fromIstWallClock('2025-11-06T09:17:00');
    expect(cal.sessionMinutesBetween(from, to).map(toIstNaive)).toEqual([
      '2025-11-04T15:25:00',
      '2025-11-04T15:26:00',
      '2025-11-04T15:27:00',
      '2025-11-04T15:28:00',
      '2025-11-04T15:29:00',
      '2025-11-06T09:15:00',
      '2025-11-06T09:16:00',
    ]);
  });

  it('aligns buckets to IST boundaries', () => {
    const t = fromIstWallClock('2025-11-04T09:37:42');
    expect(toIstNaive(bucketStart(t, 1))).toBe('2025-11-04T09:37:00');
    expect(toIstNaive(bucketStart(t, 5))).toBe('2025-11-04T09:35:00');
    expect(toIstNaive(bucketStart(t, 15))).toBe('2025-11-04T09:30:00');
    expect(toIstNaive(bucketStart(t, 60))).toBe('2025-11-04T09:15:00');
    expect(toIstNaive(bucketStart(fromIstWallClock('2025-11-04T10:14:59'), 60))).toBe('2025-11-04T09:15:00');
  });

  it('accepts an explicit list or file, and rejects a bad one', () => {
    const custom = new HolidayCalendar(['2025-11-04']);
    expect(custom.isTradingDay('2025-11-04')).toBe(false);
    expect(custom.isTradingDay('2025-11-05')).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'cal-'));
    const file = join(dir, 'h.json');
    writeFileSync(file, JSON.stringify([{ date: '2026-01-26', name: 'Republic Day', verified: true }]));
    expect(HolidayCalendar.load(file).isHoliday('2026-01-26')).toBe(true);
    expect(() => parseHolidayFile('{"holidays":[{"date":"26-01-2026","name":"x"}]}')).toThrow(/invalid holiday list/);
    expect(() => parseHolidayFile('nope')).toThrow(/not valid JSON/);
  });
});

describe('the app calendar: shipped file plus the operator file', () => {
  it('ships 2026-01-15 (added by a later exchange circular) as a holiday, with its source', () => {
    const cal = loadAppCalendar(mkdtempSync(join(tmpdir(), 'cal-home-')));
    expect(cal.isTradingDay('2026-01-15')).toBe(false);
    expect(cal.holiday('2026-01-15')).toMatchObject({ verified: true, source: 'shipped' });
    // The weekly NIFTY expiry of that week moves to the trading day before.
    expect(cal.tradingDayOnOrBefore('2026-01-15')).toBe('2026-01-14');
  });

  it('merges an operator file over the shipped one date by date, each date saying where it came from', () => {
    const home = mkdtempSync(join(tmpdir(), 'cal-home-'));
    const operatorFile = join(home, OPERATOR_HOLIDAY_FILE);
    writeFileSync(
      operatorFile,
      JSON.stringify({
        holidays: [
          { date: '2026-02-02', name: 'Special closure (circular NSE/CMTR/12345)', verified: true },
          { date: '2026-03-03', name: 'Holi', holiday: false },
          { date: '2026-03-26', name: 'Shri Ram Navami', verified: true },
        ],
      }),
    );
    const cal = loadAppCalendar(home);
    expect(cal.holiday('2026-02-02')).toEqual({ date: '2026-02-02', name: 'Special closure (circular NSE/CMTR/12345)', verified: true, source: operatorFile });
    expect(cal.isTradingDay('2026-03-03')).toBe(true); // cancelled by the operator
    expect(cal.holiday('2026-03-26')).toMatchObject({ verified: true, source: operatorFile });
    expect(cal.holiday('2026-01-26')).toMatchObject({ source: 'shipped' });
    const shipped = HolidayCalendar.load().entries().length;
    expect(cal.entries()).toHaveLength(shipped + 1 - 1);
  });

  it('refuses a bad operator file at start-up with an error naming the file and the entry', () => {
    const home = mkdtempSync(join(tmpdir(), 'cal-home-'));
    const operatorFile = join(home, OPERATOR_HOLIDAY_FILE);
    writeFileSync(operatorFile, JSON.stringify([{ date: '2026-02-30', name: 'no such day' }]));
    expect(() => loadAppCalendar(home)).toThrow(`operator holiday file ${operatorFile}: invalid holiday list at 0.date: a real date YYYY-MM-DD`);
    const broken = mkdtempSync(join(tmpdir(), 'cal-home-'));
    writeFileSync(join(broken, OPERATOR_HOLIDAY_FILE), '{ not json');
    expect(() => loadAppCalendar(broken)).toThrow(new RegExp(`${join(broken, OPERATOR_HOLIDAY_FILE).replace(/[/.]/g, '\\$&')}: not valid JSON`));
    expect(() => loadAppCalendar(home, { shippedPath: join(home, 'missing.json') })).toThrow(/shipped .* was not found/);
    for (const bad of ['2026-13-01', '2026-1-5', '20260105'])
      expect(() => parseHolidayFile(JSON.stringify([{ date: bad, name: 'x' }]), 'f')).toThrow('f: invalid holiday list at 0.date: a real date YYYY-MM-DD');
  });
});

describe('expiry rules', () => {
  const cal = HolidayCalendar.load();

  it('puts the monthly expiry on the last configured weekday', () => {
    expect(lastWeekdayOfMonth(2025, 11, 2)).toBe('2025-11-25');
    expect(lastWeekdayOfMonth(2025, 11, 4)).toBe('2025-11-27');
    expect(monthlyExpiry(2025, 12, 2, cal)).toBe('2025-12-30');
  });

  it('moves an expiry on a holiday to the previous trading day', () => {
    // Tuesday 2026-03-31 (Mahavir Jayanti in the file) -> Monday 2026-03-30.
    expect(monthlyExpiry(2026, 3, 2, cal)).toBe('2026-03-30');
    const synthetic = new HolidayCalendar(['2025-11-25', '2025-11-24']);
    expect(monthlyExpiry(2025, 11, 2, synthetic)).toBe('2025-11-21');
  });

  it('lists weekly and monthly expiries from a date, the expiry day itself included', () => {
    expect(nextWeeklyExpiries('2025-11-04', 4, 2, cal)).toEqual(['2025-11-04', '2025-11-11', '2025-11-18', '2025-11-25']);
    expect(nextWeeklyExpiries('2025-11-05', 2, 2, cal)).toEqual(['2025-11-11', '2025-11-18']);
    expect(nextMonthlyExpiries('2025-11-26', 3, 2, cal)).toEqual(['2025-12-30', '2026-01-27', '2026-02-24']);
    expect(previousWeeklyExpiries('2025-11-04', 2, 2, cal)).toEqual(['2025-10-28', '2025-10-20']); // 10-21 holiday
  });

  it('formats Kite tradingsymbols', () => {
    expect(monthlyOptionSymbol('NIFTY', '2025-11-25', 24500, 'CE')).toBe('NIFTY25NOV24500CE');
    expect(weeklyOptionSymbol('NIFTY', '2025-11-04', 25100, 'CE')).toBe('NIFTY25N0425100CE');
    expect(weeklyOptionSymbol('NIFTY', '2026-01-06', 26000, 'PE')).toBe('NIFTY2610626000PE');
    expect(weeklyOptionSymbol('NIFTY', '2025-10-07', 25000, 'PE')).toBe('NIFTY25O0725000PE');
    expect(weeklyOptionSymbol('NIFTY', '2025-12-09', 25000, 'PE')).toBe('NIFTY25D0925000PE');
    expect(futureSymbol('BANKNIFTY', '2025-11-25')).toBe('BANKNIFTY25NOVFUT');
  });
});
