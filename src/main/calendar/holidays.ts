// The calendar files on disk: the shipped resources/calendar/nse-holidays.json and the operator's
// <home>/holidays.json merged over it (loadAppCalendar; the composition root loads it once and passes it to every
// service). The calendar itself (IST, sessions, expiries) is pure and lives in src/shared/calendar.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPERATOR_HOLIDAY_FILE, SHIPPED_HOLIDAY_FILE_PARTS, holidaysFromFiles, type HolidayFileText } from '../../shared/calendar/holiday-files';
import { HolidayCalendar as PureHolidayCalendar } from '../../shared/calendar/sessions';

export const HOLIDAY_FILE_RELATIVE = join(...SHIPPED_HOLIDAY_FILE_PARTS);
export { OPERATOR_HOLIDAY_FILE };

/** The NSE trading calendar, with loading of the shipped file. */
export class HolidayCalendar extends PureHolidayCalendar {
  /** Loads a holiday file: the explicit path, or the shipped resources/calendar/nse-holidays.json found by search. */
  static load(path?: string): HolidayCalendar {
    const file = path ?? findHolidayFile();
    if (!file) throw new Error(`holiday calendar not found (looked for ${HOLIDAY_FILE_RELATIVE} above ${process.cwd()})`);
    return new HolidayCalendar(holidaysFromFiles({ text: readFileSync(file, 'utf8'), source: file }));
  }
}

/**
 * Finds resources/calendar/nse-holidays.json: explicit path, then upwards from the given start directories
 * (default: process.cwd() and this module's directory, which covers running from source under vitest/tsx and from
 * built output inside the repo). Returns null when not found.
 */
export function findHolidayFile(startDirs?: string[]): string | null {
  const starts = startDirs ?? defaultStartDirs();
  for (const start of starts) {
    let dir = resolve(start);
    for (let i = 0; i < 8; i++) {
      const candidate = join(dir, HOLIDAY_FILE_RELATIVE);
      if (existsSync(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return null;
}

function defaultStartDirs(): string[] {
  const dirs = [process.cwd()];
  try {
    dirs.push(dirname(fileURLToPath(import.meta.url)));
  } catch {
    // Bundled into a format without import.meta.url: cwd only; callers pass an explicit path.
  }
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) dirs.push(resourcesPath, join(resourcesPath, '..'));
  return dirs;
}

/**
 * The app's calendar: the shipped file (required) with `<home>/holidays.json` merged over it when present. The
 * composition root calls this once and hands the result to every part (feed, ingest, backfill). A missing shipped
 * file or an invalid operator file is a start-up error naming the file: no silent fallback to weekends only.
 */
export function loadAppCalendar(home: string, opts: { shippedPath?: string } = {}): HolidayCalendar {
  const shippedPath = opts.shippedPath ?? findHolidayFile();
  if (!shippedPath || !existsSync(shippedPath))
    throw new Error(`holiday calendar: the shipped ${HOLIDAY_FILE_RELATIVE} was not found (looked above ${process.cwd()})`);
  const operatorPath = join(resolve(home), OPERATOR_HOLIDAY_FILE);
  const operator: HolidayFileText | undefined = existsSync(operatorPath)
    ? { text: readFileSync(operatorPath, 'utf8'), source: operatorPath, label: `operator holiday file ${operatorPath}` }
    : undefined;
  return new HolidayCalendar(holidaysFromFiles({ text: readFileSync(shippedPath, 'utf8'), source: shippedPath }, operator));
}
