// Issue 14: a backfill job carries its owner and a lease, so two processes on one state store never both run it
// (85 requests for 43 planned before); finished jobs and their chunks are pruned after the retention.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { StateStore } from '../state/store';
import { JobQueue, type NewJob } from './queue';

const M = 60_000;
const job = (tokens: number[]): NewJob => ({
  scope: { kind: 'subscribed' },
  label: 'scheduled',
  trigger: 'scheduled',
  windowStart: 0,
  windowEnd: 10 * M,
  considered: tokens.length,
  instruments: tokens.length,
  missingMinutes: 10 * tokens.length,
  notes: [],
  createdBy: 'test',
  chunks: tokens.map((token, i) => ({
    instrument: { token, kind: 'option', symbol: 'NIFTY', tradingsymbol: `T${token}`, expiry: '2025-11-25', strike: 25_000, side: 'CE' },
    from: 0,
    to: 10 * M,
    gaps: [[0, 10 * M]],
    missing: 10,
    unit: i,
  })),
});

describe('backfill job owner and lease', () => {
  let store: StateStore;
  const clock = new ManualClock(1_700_000_000_000);
  beforeEach(() => {
    store = new StateStore(join(mkdtempSync(join(tmpdir(), 'sd-bf-lease-')), 'state.db'));
    store.migrate();
  });
  afterEach(() => store.close());

  it('a job running under one owner is neither offered to nor taken by another until the lease lapses', () => {
    const a = new JobQueue(store.db, () => clock.now(), { owner: 'console-a', ms: 60_000 });
    const b = new JobQueue(store.db, () => clock.now(), { owner: 'console-b', ms: 60_000 });
    const id = a.create(job([1, 2]));
    expect(a.markRunning(id, true)).toBe(true);
    expect(a.get(id)).toMatchObject({ owner: 'console-a', lease_until: clock.now() + 60_000 });
    expect(b.next()).toBeUndefined();
    expect(b.markRunning(id, true)).toBe(false);
    // Every settled batch renews the lease.
    clock.advance(50_000);
    a.settle(id, [{ seq: 0, state: 'done', attempts: 1, rows: 5, error: null }], { requestsSent: 1, rows: 5, gapsFilled: 1, noTradeWindows: 0, failures: {} });
    clock.advance(50_000);
    expect(b.next()).toBeUndefined();
    // The owner died: after the lease, the other takes it over.
    clock.advance(20_000);
    expect(b.next()?.id).toBe(id);
    expect(b.markRunning(id, true)).toBe(true);
    expect(b.get(id)?.owner).toBe('console-b');
    expect(a.markRunning(id, false)).toBe(false);
  });

  it('adoptOrphans (at start, under the home lock) takes a previous run’s jobs at once', () => {
    const dead = new JobQueue(store.db, () => clock.now(), { owner: 'previous-run' });
    const id = dead.create(job([1]));
    dead.markRunning(id, true);
    const next = new JobQueue(store.db, () => clock.now(), { owner: 'this-run' });
    expect(next.next()).toBeUndefined();
    expect(next.adoptOrphans()).toBe(1);
    expect(next.next()?.id).toBe(id);
  });

  it('prunes finished jobs past the retention, with their chunks; keeps recent and active ones', () => {
    const q = new JobQueue(store.db, () => clock.now());
    const old = q.create(job([1, 2]));
    q.markRunning(old, true);
    q.finish(old, 'done', null, 10);
    const cancelled = q.create(job([3]));
    q.cancel(cancelled);
    clock.advance(15 * 86_400_000);
    const recent = q.create(job([4]));
    q.markRunning(recent, true);
    q.finish(recent, 'failed', 'x', 1);
    const active = q.create(job([5]));
    expect(q.prune(14 * 86_400_000)).toBe(2);
    const ids = (store.db.prepare('SELECT id FROM backfill_jobs ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    expect(ids).toEqual([recent, active]);
    const chunkJobs = (store.db.prepare('SELECT DISTINCT job_id FROM backfill_chunks ORDER BY job_id').all() as { job_id: number }[]).map((r) => r.job_id);
    expect(chunkJobs).toEqual([recent, active]);
  });
});
