// The planner's time arithmetic against hand-computed IST windows (holiday calendar 2025: 2025-11-05 is a holiday).
import { describe, expect, it } from 'vitest';
import { HolidayCalendar, fromIstWallClock } from '../calendar';
import { DAY_MS } from '../calendar/ist';
import { chunkRuns, expectedMinutes, isExpired, lookbackWindow, toRuns, TokenCoverage } from './window';

const cal = new HolidayCalendar(['2025-11-05']);
const ist = fromIstWallClock;
const M = 60_000;

describe('lookbackWindow (session minutes back from the current minute)', () => {
  it('crosses a holiday into the previous trading session', () => {
    // Thu 2025-11-06 10:15:40: 60 minutes today (09:15..10:14), Wed 11-05 is a holiday, so 315 from Tue 11-04 10:15.
    const w = lookbackWindow(cal, ist('2025-11-06T10:15:40'), 375);
    expect(w.end).toBe(ist('2025-11-06T10:15'));
    expect(w.start).toBe(ist('2025-11-04T10:15'));
    expect(cal.sessionMinutesBetween(w.start, w.end)).toHaveLength(375);
  });

  it('outside a session covers the last sessions before it, across a weekend, and ends at the last close', () => {
    // Mon 2025-11-10 08:00: the last 750 session minutes are Thu 11-06 and Fri 11-07 in full.
    const w = lookbackWindow(cal, ist('2025-11-10T08:00'), 750);
    expect(w.start).toBe(ist('2025-11-06T09:15'));
    expect(w.end).toBe(ist('2025-11-07T15:30'));
    expect(cal.sessionMinutesBetween(w.start, w.end)).toHaveLength(750);
  });

  it('in the first minute of a session reaches back only into earlier sessions', () => {
    const w = lookbackWindow(cal, ist('2025-11-07T09:15:30'), 15);
    expect(w).toEqual({ start: ist('2025-11-06T15:15'), end: ist('2025-11-06T15:30') });
  });
});

describe('expected minutes of an instrument', () => {
  it('stop at 15:30 IST of the expiry date (the contract life)', () => {
    const from = ist('2025-11-10T09:15');
    const to = ist('2025-11-12T10:00');
    expect(expectedMinutes(cal, { expiry: null }, from, to)).toHaveLength(375 * 2 + 45);
    const life = expectedMinutes(cal, { expiry: '2025-11-11' }, from, to);
    expect(life).toHaveLength(750);
    expect(life[life.length - 1]).toBe(ist('2025-11-11T15:29'));
  });

  it('a contract is expired the IST day after its expiry date, not on it', () => {
    expect(isExpired({ expiry: '2025-11-11' }, ist('2025-11-11T15:29'))).toBe(false);
    expect(isExpired({ expiry: '2025-11-11' }, ist('2025-11-12T00:00'))).toBe(true);
    expect(isExpired({ expiry: null }, ist('2030-01-01T00:00'))).toBe(false);
  });
});

describe('gaps and chunks', () => {
  it('one live strike minute does not hide the gap around it; no-trade windows count as covered', () => {
    const minutes = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ist('2025-11-06T09:15') + i * M);
    const cov = new TokenCoverage(new Set([minutes[2]]), [[minutes[5], minutes[7]]]);
    expect(cov.gaps(minutes)).toEqual([
      [minutes[0], minutes[2]],
      [minutes[3], minutes[5]],
      [minutes[7], minutes[7] + M],
    ]);
  });

  it('runs never join across sessions', () => {
    const a = ist('2025-11-06T15:29');
    const b = ist('2025-11-07T09:15');
    expect(toRuns([a, b])).toEqual([
      [a, a + M],
      [b, b + M],
    ]);
  });

  it('chunks to at most 60 days per request, the fewest requests covering every gap', () => {
    const day = (d: string) => [ist(`${d}T09:15`), ist(`${d}T15:30`)] as [number, number];
    const runs = [day('2025-08-01'), day('2025-09-01'), day('2025-09-29'), day('2025-09-30'), day('2025-11-03')];
    const chunks = chunkRuns(runs);
    // 08-01 09:15 .. 09-29 15:30 is 59.26 days; adding 09-30 15:30 would be 60.26 days.
    expect(chunks.map((c) => [c.from, c.to])).toEqual([
      [runs[0][0], runs[2][1]],
      [runs[3][0], runs[4][1]],
    ]);
    for (const c of chunks) expect(c.to - c.from).toBeLessThanOrEqual(60 * DAY_MS);
    expect(chunks.flatMap((c) => c.gaps)).toEqual(runs);
  });
});
