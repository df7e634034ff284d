import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calendarFromHolidayFiles, parseHolidayFile } from '../shared/calendar';
import { findShippedHolidayFile, loadHolidayCalendar } from './holidays';

describe('devticker holiday loader', () => {
  it('finds and loads the shipped calendar with the shared parser', () => {
    const file = findShippedHolidayFile();
    expect(file).toMatch(/resources[/\\]calendar[/\\]nse-holidays\.json$/);
    const expected = parseHolidayFile(readFileSync(file!, 'utf8'))
      .filter((e) => e.holiday)
      .map((e) => e.date)
      .sort();
    expect(
      loadHolidayCalendar()
        .entries()
        .map((e) => e.date),
    ).toEqual(expected);
    expect(loadHolidayCalendar().isHoliday('2026-01-26')).toBe(true);
  });

  it('loads an explicit file and names it when missing or invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'devticker-holidays-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ holidays: [{ date: '2030-01-02', name: 'Test day', verified: true }] }));
    const cal = loadHolidayCalendar(good);
    expect(cal.entries()).toEqual([{ date: '2030-01-02', name: 'Test day', verified: true, source: 'shipped' }]);
    expect(cal.isTradingDay('2030-01-02')).toBe(false);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ date: '2030-02-30', name: 'No such day' }]));
    expect(() => loadHolidayCalendar(bad)).toThrow(`${bad}: invalid holiday list at 0.date`);
    expect(() => loadHolidayCalendar(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot be read/);
  });

  it('returns null when no shipped file lies above the start directories', () => {
    expect(findShippedHolidayFile([mkdtempSync(join(tmpdir(), 'devticker-nocal-'))])).toBeNull();
  });
});

describe('calendarFromHolidayFiles (shared by the console and the devticker)', () => {
  it('merges the operator file over the shipped one and names the operator file in errors', () => {
    const shipped = {
      text: JSON.stringify([
        { date: '2030-01-02', name: 'A', verified: true },
        { date: '2030-01-03', name: 'B' },
      ]),
      source: '/s.json',
    };
    const operator = {
      text: JSON.stringify([
        { date: '2030-01-03', name: 'B', holiday: false },
        { date: '2030-01-04', name: 'C', verified: true },
      ]),
      source: '/home/holidays.json',
      label: 'operator holiday file /home/holidays.json',
    };
    const cal = calendarFromHolidayFiles(shipped, operator);
    expect(cal.entries().map((e) => [e.date, e.source])).toEqual([
      ['2030-01-02', 'shipped'],
      ['2030-01-04', '/home/holidays.json'],
    ]);
    expect(() => calendarFromHolidayFiles(shipped, { ...operator, text: '{ nope' })).toThrow(/^operator holiday file \/home\/holidays\.json: not valid JSON/);
  });
});
