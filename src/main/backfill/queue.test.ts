// The durable queue on a real SQLite file: order (immediate before scheduled, a resumed job first), settled chunks
// and progress, cancel (queued at once, running by request), retry (failed chunks only), a stop that outlived its
// console, ETAs counting the work ahead, and everything still there after reopening the file.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { StateStore } from '../state/store';
import { JobQueue, type NewJob } from './queue';
import type { PlannedChunk, PlannedInstrument } from './types';

const M = 60_000;
const leg = (token: number): PlannedInstrument => ({
  token,
  kind: 'option',
  symbol: 'NIFTY',
  tradingsymbol: `T${token}`,
  expiry: '2025-11-25',
  strike: 25_000,
  side: 'CE',
});
const chunk = (token: number, unit: number): PlannedChunk => ({ instrument: leg(token), from: 0, to: 10 * M, gaps: [[0, 10 * M]], missing: 10, unit });
const job = (trigger: NewJob['trigger'], tokens: number[]): NewJob => ({
  scope: { kind: 'subscribed' },
  label: trigger,
  trigger,
  windowStart: 0,
  windowEnd: 10 * M,
  considered: tokens.length,
  instruments: tokens.length,
  missingMinutes: 10 * tokens.length,
  notes: [],
  createdBy: 'test',
  chunks: tokens.map((t, i) => chunk(t, i)),
});

describe('JobQueue', () => {
  let path: string;
  let store: StateStore;
  let queue: JobQueue;
  const clock = new ManualClock(1_700_000_000_000);

  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'sd-bf-queue-')), 'state.db');
    store = new StateStore(path);
    store.migrate();
    queue = new JobQueue(store.db, () => clock.now());
  });
  afterEach(() => store.close());

  it('runs immediate work before scheduled work, and a resumed job of the same priority first', () => {
    const scheduled = queue.create(job('scheduled', [1, 2]));
    const manual = queue.create(job('manual', [3]));
    const immediate = queue.create(job('immediate', [4]));
    expect(queue.next()?.id).toBe(manual);
    queue.markRunning(immediate, true); // e.g. left running by a crash
    expect(queue.next()?.id).toBe(immediate);
    expect(queue.hasWaitingAbove(1)).toBe(true);
    expect(queue.hasWaitingAbove(0)).toBe(false);
    expect([...queue.activeTokens()].map(([t, j]) => [t, j.jobId])).toEqual(
      expect.arrayContaining([
        [1, scheduled],
        [3, manual],
        [4, immediate],
      ]),
    );
    // ETAs: pending requests of every job ahead, at 3/s.
    const views = queue.views(queue.list('all', 10));
    expect(Object.fromEntries(views.map((v) => [v.id, v.etaSeconds]))).toEqual({ [immediate]: 1, [manual]: 1, [scheduled]: 2 });
  });

  it('records settled chunks and progress; a job with nothing to do is stored done', () => {
    const id = queue.create(job('immediate', [1, 2, 3]));
    queue.markRunning(id, true);
    queue.settle(
      id,
      [
        { seq: 0, state: 'done', attempts: 1, rows: 7, error: null },
        { seq: 1, state: 'covered', attempts: 0, rows: 0, error: null },
      ],
      {
        requestsSent: 2,
        rows: 7,
        gapsFilled: 7,
        noTradeWindows: 1,
        failures: { server: 1 },
      },
    );
    // Settling the same chunk twice (a crash between write and record, then a rerun) counts it once.
    queue.settle(id, [{ seq: 0, state: 'done', attempts: 1, rows: 7, error: null }], {
      requestsSent: 0,
      rows: 0,
      gapsFilled: 0,
      noTradeWindows: 0,
      failures: {},
    });
    expect(queue.mustGet(id)).toMatchObject({
      requests_done: 2,
      requests_sent: 2,
      rows_written: 7,
      gaps_filled: 7,
      no_trade_windows: 1,
      failures: '{"server":1}',
      attempts: 1,
    });
    expect(queue.pendingChunks(id).map((c) => c.instrument.token)).toEqual([3]);
    const empty = queue.create({ ...job('immediate', []), doneNote: 'no gaps' });
    expect(queue.mustGet(empty)).toMatchObject({ state: 'done', last_error: 'no gaps', requests_planned: 0 });
  });

  it('cancels a queued job at once and asks a running one to stop; only a failed job can be retried, for its failed chunks', () => {
    const queued = queue.create(job('manual', [1]));
    expect(queue.cancel(queued)).toMatchObject({ state: 'cancelled' });
    expect(() => queue.cancel(queued)).toThrow(/only a queued or running job/);

    const running = queue.create(job('manual', [2, 3]));
    queue.markRunning(running, true);
    expect(queue.cancel(running)).toMatchObject({ state: 'running', stop_requested: 1 });
    expect(queue.next()).toBeUndefined();

    const failed = queue.create(job('manual', [4, 5, 6]));
    queue.markRunning(failed, true);
    queue.settle(
      failed,
      [
        { seq: 0, state: 'done', attempts: 1, rows: 3, error: null },
        { seq: 1, state: 'failed', attempts: 2, rows: 0, error: 'server' },
        { seq: 2, state: 'not_backfillable', attempts: 1, rows: 0, error: 'expired' },
      ],
      { requestsSent: 4, rows: 3, gapsFilled: 3, noTradeWindows: 0, failures: { server: 1, expired: 1 } },
    );
    queue.finish(failed, 'failed', '1 of 3 requests failed', 1000);
    expect(() => queue.retry(running)).toThrow(/only a failed job/);
    expect(queue.retry(failed)).toMatchObject({ state: 'queued', requests_done: 2, last_error: null, started_at: null });
    expect(queue.pendingChunks(failed).map((c) => c.instrument.token)).toEqual([5]);
  });

  it('keeps everything across a reopen; a stop requested before the console went down ends cancelled', () => {
    const a = queue.create(job('scheduled', [1, 2]));
    const b = queue.create(job('manual', [3]));
    queue.markRunning(a, true);
    queue.markRunning(b, true);
    queue.cancel(b);
    store.close();

    store = new StateStore(path);
    store.migrate();
    queue = new JobQueue(store.db, () => clock.now());
    expect(queue.settleStopped()).toEqual([b]);
    expect(queue.mustGet(b).state).toBe('cancelled');
    // The previous run's lease still holds the running job until this run adopts it (the service does at start).
    expect(queue.next()).toBeUndefined();
    expect(queue.adoptOrphans()).toBe(1);
    expect(queue.next()).toMatchObject({ id: a, state: 'running' });
    expect(queue.pendingChunks(a)).toHaveLength(2);
  });
});
