// Crash after the 202: a child console accepts signed events and is killed -9 before (or while) processing them;
// a console restarted on the same SQLite file processes each exactly once. Rows are counted in SQLite.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { planBody, postEvent, startTestIntake, tempStatePath } from './testing/support';

const CHILD = fileURLToPath(new URL('./testing/crash-child.ts', import.meta.url));

interface Child {
  proc: ChildProcess;
  url: string;
  enqueued: number[];
}

async function startChild(statePath: string, mode: 'pause' | 'hang'): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, statePath, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, STRIKEDESK_LOG_LEVEL: 'silent' },
  });
  const child: Child = { proc, url: '', enqueued: [] };
  const lines = createInterface({ input: proc.stdout! });
  lines.on('line', (line) => {
    const msg = JSON.parse(line) as { url?: string; enqueue?: number };
    if (msg.url) child.url = msg.url;
    if (msg.enqueue !== undefined) child.enqueued.push(msg.enqueue);
  });
  await expect.poll(() => child.url || proc.exitCode !== null, { message: 'child listening', timeout: 20_000 }).toBeTruthy();
  if (!child.url) throw new Error(`crash child exited with ${proc.exitCode}`);
  return child;
}

async function kill9(child: Child): Promise<void> {
  const exited = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill('SIGKILL');
  await exited;
}

const inspect = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT token, state, attempts FROM event_inbox ORDER BY id').all() as { token: number; state: string; attempts: number }[];
  } finally {
    db.close();
  }
};

describe('crash after the 202', () => {
  it('loses nothing when killed -9 before processing: the restart processes each event exactly once', async () => {
    const path = tempStatePath();
    const child = await startChild(path, 'pause');
    const tokens = Array.from({ length: 20 }, (_, i) => 880_000 + i);
    for (const token of tokens) {
      const res = await postEvent(child.url, { body: planBody(token, 'created', '2025-11-04T09:30:00Z') });
      expect(res.status).toBe(202);
    }
    await kill9(child);
    // Written before each answer: all there, none processed.
    expect(inspect(path).map((r) => [r.token, r.state])).toEqual(tokens.map((t) => [t, 'queued']));

    const restarted = await startTestIntake({ statePath: path });
    try {
      await expect.poll(() => restarted.intake.inbox.pending(), { message: 'restart drains the inbox' }).toBe(0);
      expect(restarted.backfill.calls.map((c) => (c.scope.kind === 'instrument' ? c.scope.token : 0)).sort()).toEqual(tokens);
      const after = inspect(path);
      expect(after).toHaveLength(20);
      expect(after.every((r) => r.state === 'done' && r.attempts === 1)).toBe(true);
      // The sender retrying after the crash (a new delivery, so newly signed) gets "duplicate", not a second processing.
      const retry = await postEvent(restarted.url, {
        body: planBody(tokens[0], 'created', '2025-11-04T09:30:00Z'),
        timestamp: Math.floor(Date.now() / 1000) - 5,
      });
      expect(retry.body).toMatchObject({ duplicate: true });
      expect(restarted.backfill.calls).toHaveLength(20);
    } finally {
      await restarted.close();
    }
  }, 60_000);

  it('resumes an event that was being processed when killed -9', async () => {
    const path = tempStatePath();
    const child = await startChild(path, 'hang');
    const res = await postEvent(child.url, { body: planBody(990_001, 'created', '2025-11-04T09:31:00Z') });
    expect(res.status).toBe(202);
    await expect.poll(() => child.enqueued.includes(990_001), { message: 'the child started the action' }).toBeTruthy();
    await kill9(child);
    expect(inspect(path)).toEqual([{ token: 990_001, state: 'processing', attempts: 1 }]);

    const restarted = await startTestIntake({ statePath: path });
    try {
      await expect.poll(() => restarted.intake.inbox.pending(), { message: 'restart finishes the event' }).toBe(0);
      expect(restarted.backfill.calls).toHaveLength(1);
      expect(inspect(path)).toEqual([{ token: 990_001, state: 'done', attempts: 2 }]);
    } finally {
      await restarted.close();
    }
  }, 60_000);
});
