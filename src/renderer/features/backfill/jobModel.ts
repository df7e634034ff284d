// Pure helpers of the backfill screen: who started a job (an operator or the console itself), its notes vs its
// error, its duration, and the look-back that resumes a cancelled job over the same window.
import type { BackfillJob } from '../../../shared/api';

export type Trigger = 'manual' | 'automatic';

/** The scheduler and subscription events start jobs by themselves; anything else is a person or a token. */
export const triggerOf = (job: BackfillJob): Trigger =>
  job.createdBy === 'scheduler' || job.createdBy.startsWith('event:') || job.priority === 'scheduled' ? 'automatic' : 'manual';

/** A done job's lastError holds notes (contracts not backfillable), not a failure: shown apart, not in red. */
export function noteAndError(job: BackfillJob): { note: string | null; error: string | null } {
  if (!job.lastError) return { note: null, error: null };
  return job.state === 'failed' ? { note: null, error: job.lastError } : { note: job.lastError, error: null };
}

/** Seconds from start to end (or to now while running); null before it started. */
export function durationSeconds(job: BackfillJob, now: number): number | null {
  if (!job.startedAt) return null;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  return Math.max(0, (end - Date.parse(job.startedAt)) / 1000);
}

const IST_OFFSET_MS = 330 * 60_000;
const OPEN = 9 * 60 + 15;
const CLOSE = 15 * 60 + 30;

/**
 * Session minutes (09:15-15:30 IST, Monday to Friday) from `fromMs` to `toMs`: the look-back that plans the same
 * window again. Holidays are counted as sessions, which only reaches a little further back; a plan fetches only
 * what is missing, so a resumed job repeats nothing already written.
 */
export function sessionMinutesBetween(fromMs: number, toMs: number): number {
  let total = 0;
  const dayMs = 86_400_000;
  const firstDay = Math.floor((fromMs + IST_OFFSET_MS) / dayMs);
  const lastDay = Math.floor((toMs + IST_OFFSET_MS) / dayMs);
  for (let day = firstDay; day <= lastDay; day += 1) {
    const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday (4)
    if (weekday === 0 || weekday === 6) continue;
    const open = day * dayMs - IST_OFFSET_MS + OPEN * 60_000;
    const close = day * dayMs - IST_OFFSET_MS + CLOSE * 60_000;
    const a = Math.max(open, fromMs);
    const b = Math.min(close, toMs);
    if (b > a) total += Math.ceil((b - a) / 60_000);
  }
  return total;
}

export const resumable = (job: BackfillJob): boolean => job.state === 'cancelled';
