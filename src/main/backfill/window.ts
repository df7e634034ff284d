// Time arithmetic of the planner: the look-back window in session minutes, each instrument's expected minutes
// (sessions on trading days, clipped to the contract's life), the gap runs and the Kite-sized request chunks.
// Pure functions over UTC epoch ms; IST only through the calendar.
import { addDays, istDate, sessionBounds, sessionMinuteStarts, type HolidayCalendar } from '../calendar';
import { DAY_MS } from '../calendar/ist';
import { KITE_MAX_DAYS_MINUTE, MINUTE_MS, type GapRun, type PlannedInstrument } from './types';

/** Start of the minute containing `ms`. */
export const minuteFloor = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/**
 * The planner's window: the last `sessionMinutes` finished session minutes before `nowMs` (the current minute is not
 * finished), across sessions, weekends and holidays. Both ends are clipped to sessions: outside market hours the
 * window ends at the last close.
 */
export function lookbackWindow(cal: HolidayCalendar, nowMs: number, sessionMinutes: number): { start: number; end: number } {
  const now = minuteFloor(nowMs);
  let remaining = Math.max(1, Math.floor(sessionMinutes));
  let start = now;
  let end: number | null = null;
  let date = istDate(now);
  // A generous bound on calendar days walked back (43200 session minutes is ~115 sessions).
  for (let i = 0; i < 400 && remaining > 0; i++, date = addDays(date, -1)) {
    if (!cal.isTradingDay(date)) continue;
    const minutes = sessionMinuteStarts(date);
    for (let k = minutes.length - 1; k >= 0 && remaining > 0; k--) {
      if (minutes[k] >= now) continue;
      end ??= minutes[k] + MINUTE_MS;
      start = minutes[k];
      remaining--;
    }
  }
  return { start, end: end ?? now };
}

/** The instant a contract stops trading: 15:30 IST on its expiry date; indices never. */
export function contractEnd(inst: Pick<PlannedInstrument, 'expiry'>): number {
  return inst.expiry ? sessionBounds(inst.expiry).close : Number.POSITIVE_INFINITY;
}

/** Expired before the IST date of `nowMs`: Kite has no intraday history for it. */
export function isExpired(inst: Pick<PlannedInstrument, 'expiry'>, nowMs: number): boolean {
  return inst.expiry !== null && inst.expiry < istDate(nowMs);
}

/** The session minutes of [from, to) that the instrument can have bars for (its life clipped). */
export function expectedMinutes(cal: HolidayCalendar, inst: Pick<PlannedInstrument, 'expiry'>, from: number, to: number): number[] {
  const end = Math.min(to, contractEnd(inst));
  return end > from ? cal.sessionMinutesBetween(from, end) : [];
}

/** Consecutive minutes (each one minute after the previous) grouped into [from, to) runs. Input ascending. */
export function toRuns(minutes: readonly number[]): GapRun[] {
  const runs: GapRun[] = [];
  for (const m of minutes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === m) last[1] = m + MINUTE_MS;
    else runs.push([m, m + MINUTE_MS]);
  }
  return runs;
}

export const runMinutes = (runs: readonly GapRun[]): number => runs.reduce((n, [a, b]) => n + (b - a) / MINUTE_MS, 0);

/**
 * Groups gap runs into requests of at most `maxDays` (Kite: 60 days of minute data per request). Each request spans
 * from its first run's start to its last run's end: the fewest requests that cover every gap.
 */
export function chunkRuns(runs: readonly GapRun[], maxDays = KITE_MAX_DAYS_MINUTE): { from: number; to: number; gaps: GapRun[] }[] {
  const limit = maxDays * DAY_MS;
  const out: { from: number; to: number; gaps: GapRun[] }[] = [];
  for (const run of runs) {
    const current = out[out.length - 1];
    if (current && run[1] - current.from <= limit) {
      current.gaps.push([run[0], run[1]]);
      current.to = run[1];
      continue;
    }
    // A single run never exceeds one session, far below any Kite limit.
    out.push({ from: run[0], to: run[1], gaps: [[run[0], run[1]]] });
  }
  return out;
}

/** The minutes of `runs` (ascending). */
export function runsToMinutes(runs: readonly GapRun[]): number[] {
  const out: number[] = [];
  for (const [a, b] of runs) for (let m = a; m < b; m += MINUTE_MS) out.push(m);
  return out;
}

/** Per instrument: minutes with a complete bar, and no-trade ranges. */
export class TokenCoverage {
  constructor(
    readonly filled: ReadonlySet<number> = new Set(),
    readonly noTrades: readonly GapRun[] = [],
    /** Failed windows are recorded in the range read. */
    readonly hasFailed = false,
  ) {}

  covers(minute: number): boolean {
    if (this.filled.has(minute)) return true;
    for (const [a, b] of this.noTrades) if (minute >= a && minute < b) return true;
    return false;
  }

  /** The runs of `expected` not covered. */
  gaps(expected: readonly number[]): GapRun[] {
    return toRuns(expected.filter((m) => !this.covers(m)));
  }
}
