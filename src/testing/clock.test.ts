// The fake time other tests rely on: a check that cannot fail would make theirs meaningless.
import { describe, expect, it } from 'vitest';
import { FakeScheduler, ManualClock, PacedScheduler } from './clock';

describe('FakeScheduler', () => {
  it('wakes sleepers in deadline order only as time passes them, and an abort rejects with its reason', async () => {
    const time = new FakeScheduler(1_000);
    const woke: string[] = [];
    void time.sleep(300).then(() => woke.push(`b@${time.now()}`));
    void time.sleep(100).then(() => woke.push(`a@${time.now()}`));
    const abort = new AbortController();
    const aborted = time.sleep(50, abort.signal).catch((err: unknown) => err);
    abort.abort(new Error('stopped'));
    expect(await aborted).toEqual(new Error('stopped'));
    await time.advance(99);
    expect(woke).toEqual([]);
    await time.advance(250);
    expect(woke).toEqual(['a@1100', 'b@1300']);
    expect(time.now()).toBe(1_349);
    expect(time.pending).toBe(0);
  });
});

describe('PacedScheduler', () => {
  it('follows the wall clock, stands still at a held time, and moves on when released', async () => {
    const wall = new ManualClock(10_000);
    const time = new PacedScheduler(() => wall.now(), 1);
    time.start();
    try {
      let woke = false;
      void time.sleep(500).then(() => (woke = true));
      wall.advance(200);
      await expect.poll(() => time.now()).toBe(10_200);

      time.holdAt(10_400);
      wall.advance(1_000);
      await expect.poll(() => time.now()).toBe(10_400);
      // Held short of the sleeper's deadline: it must not wake, however long the wall clock runs.
      await new Promise((r) => setImmediate(r));
      expect(woke).toBe(false);

      time.release();
      await expect.poll(() => time.now()).toBe(11_200);
      expect(woke).toBe(true);
    } finally {
      await time.stop();
    }
  });
});
