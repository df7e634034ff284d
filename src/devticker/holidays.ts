// The devticker's holiday calendar from disk: the shipped resources/calendar/nse-holidays.json (or an explicit
// --holidays-file), parsed by the same code the console uses (src/shared/calendar/holiday-files.ts). The devticker
// stands alone, so it reads the file itself rather than borrowing the console's loader.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HolidayCalendar, SHIPPED_HOLIDAY_FILE_PARTS, calendarFromHolidayFiles } from '../shared/calendar';

/** The shipped calendar file above the working directory or this module (source or built output), or null. */
export function findShippedHolidayFile(startDirs: string[] = defaultStartDirs()): string | null {
  for (const start of startDirs) {
    let dir = resolve(start);
    for (let i = 0; i < 8; i++) {
      const candidate = join(dir, ...SHIPPED_HOLIDAY_FILE_PARTS);
      if (existsSync(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return null;
}

/** Loads the holiday file at `path`, or the shipped one found by search; throws naming the file when missing or invalid. */
export function loadHolidayCalendar(path?: string): HolidayCalendar {
  const file = path ?? findShippedHolidayFile();
  if (!file) throw new Error(`holiday calendar not found (looked for ${join(...SHIPPED_HOLIDAY_FILE_PARTS)} above ${process.cwd()})`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`holiday file ${file}: cannot be read (${(err as Error).message})`, { cause: err });
  }
  return calendarFromHolidayFiles({ text, source: file });
}

function defaultStartDirs(): string[] {
  const dirs = [process.cwd()];
  try {
    dirs.push(dirname(fileURLToPath(import.meta.url)));
  } catch {
    // Bundled without import.meta.url: the working directory only; callers pass an explicit path.
  }
  return dirs;
}
