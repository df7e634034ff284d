// Instants arrive as UTC ISO strings; traders read IST (Asia/Kolkata, UTC+05:30, no DST), never the machine's zone.
import { useEffect, useState } from 'react';

const IST = 'Asia/Kolkata';
const timeFmt = new Intl.DateTimeFormat('en-IN', { timeZone: IST, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const hmFmt = new Intl.DateTimeFormat('en-IN', { timeZone: IST, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dateTimeFmt = new Intl.DateTimeFormat('en-IN', {
  timeZone: IST,
  day: '2-digit',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const expiryFmt = new Intl.DateTimeFormat('en-IN', { timeZone: 'UTC', day: '2-digit', month: 'short', year: '2-digit' });

const toDate = (at: string | number | Date): Date => (at instanceof Date ? at : new Date(at));

export const istTime = (at: string | number | Date | null | undefined): string => (at == null ? '–' : timeFmt.format(toDate(at)));
export const istHourMinute = (at: string | number | Date): string => hmFmt.format(toDate(at));

const dayFmt = new Intl.DateTimeFormat('en-IN', { timeZone: IST, day: '2-digit', month: 'short' });
/** "27 Nov 09:15–15:30" within one IST day, "26 Nov 09:15 – 27 Nov 03:20" across days. */
export function istRange(from: string | number | Date, to: string | number | Date): string {
  const a = toDate(from);
  const b = toDate(to);
  if (dayFmt.format(a) === dayFmt.format(b)) return `${dayFmt.format(a)} ${hmFmt.format(a)}–${hmFmt.format(b)}`;
  return `${dayFmt.format(a)} ${hmFmt.format(a)} – ${dayFmt.format(b)} ${hmFmt.format(b)}`;
}
export const istDateTime = (at: string | number | Date | null | undefined): string => (at == null ? '–' : `${dateTimeFmt.format(toDate(at))} IST`);

/** '2025-11-25' -> "25 Nov 25" (a calendar date, so formatted in UTC to keep the day). */
export const fmtExpiry = (isoDate: string): string => expiryFmt.format(new Date(`${isoDate}T00:00:00Z`));

export const ageMs = (at: string | null | undefined, now: number): number | null => (at ? Math.max(0, now - Date.parse(at)) : null);

/** A slow clock for ages and countdowns (not for live data: pushes drive those). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
