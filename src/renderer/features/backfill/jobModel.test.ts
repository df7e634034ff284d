import { describe, expect, it } from 'vitest';
import type { BackfillJob } from '../../../shared/api';
import { durationSeconds, noteAndError, sessionMinutesBetween, triggerOf } from './jobModel';

const job = (over: Partial<BackfillJob> = {}): BackfillJob => ({
  id: 1,
  scope: { kind: 'subscribed' },
  label: 'x',
  windowStart: '2026-11-27T03:45:00Z',
  windowEnd: '2026-11-27T10:00:00Z',
  priority: 'immediate',
  state: 'done',
  requestsDone: 1,
  requestsPlanned: 1,
  rowsWritten: 1,
  instruments: 1,
  attempts: 1,
  lastError: null,
  createdBy: 'loopback',
  reason: null,
  createdAt: '2026-11-27T10:00:00Z',
  startedAt: '2026-11-27T10:00:05Z',
  finishedAt: '2026-11-27T10:01:10Z',
  etaSeconds: null,
  stopRequested: false,
  ...over,
});

describe('backfill job model', () => {
  it('tells manual from automatic jobs', () => {
    expect(triggerOf(job())).toBe('manual');
    expect(triggerOf(job({ createdBy: 'scheduler', priority: 'scheduled' }))).toBe('automatic');
    expect(triggerOf(job({ createdBy: 'event:webhook' }))).toBe('automatic');
  });
  it('keeps a done job’s notes out of the error column', () => {
    expect(noteAndError(job({ lastError: '2 contract(s) not backfillable' }))).toEqual({ note: '2 contract(s) not backfillable', error: null });
    expect(noteAndError(job({ state: 'failed', lastError: 'HTTP 502' }))).toEqual({ note: null, error: 'HTTP 502' });
  });
  it('measures duration from start to end', () => {
    expect(durationSeconds(job(), 0)).toBe(65);
    expect(durationSeconds(job({ startedAt: null }), 0)).toBeNull();
    expect(durationSeconds(job({ finishedAt: null }), Date.parse('2026-11-27T10:00:15Z'))).toBe(10);
  });
  it('counts session minutes in IST, weekdays only', () => {
    // Friday 2026-11-27 09:15-15:30 IST is 03:45-10:00 UTC: a whole session.
    expect(sessionMinutesBetween(Date.parse('2026-11-27T03:45:00Z'), Date.parse('2026-11-27T10:00:00Z'))).toBe(375);
    // Friday noon IST to Monday 10:15 IST: 210 + 60 minutes, the weekend skipped.
    expect(sessionMinutesBetween(Date.parse('2026-11-27T06:30:00Z'), Date.parse('2026-11-30T04:45:00Z'))).toBe(270);
    expect(sessionMinutesBetween(Date.parse('2026-11-28T06:30:00Z'), Date.parse('2026-11-28T08:30:00Z'))).toBe(0);
  });
});
