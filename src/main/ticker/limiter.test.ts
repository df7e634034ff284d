// The limiter on a fake clock: sliding-window budgets, FIFO order, the hold after a 429, abort, and the wait estimate.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './limiter';
import { FakeScheduler, settle } from './time';

const T0 = 1_700_000_000_000;

describe('RateLimiter', () => {
  it('grants up to the limit per sliding window, then in FIFO order as the window slides', async () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, { mutate: { limit: 3, windowMs: 60_000 } }, 0);
    const order: number[] = [];
    for (let i = 0; i < 5; i++) void limiter.acquire('mutate').then(() => order.push(i));
    await settle();
    expect(order).toEqual([0, 1, 2]);
    expect(limiter.estimateWaitMs('mutate')).toBe(60_000); // behind the two queued ones, still in the next window
    expect(limiter.estimateWaitMs('mutate', 1)).toBe(120_000);
    await time.advance(59_999);
    expect(order).toEqual([0, 1, 2]);
    await time.advance(1);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('holds the whole bucket after a 429 until the hold ends', async () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, {}, 0);
    limiter.penalize('list', T0 + 60_000);
    let granted = false;
    void limiter.acquire('list').then(() => (granted = true));
    await time.advance(59_000);
    expect(granted).toBe(false);
    await time.advance(1_000);
    expect(granted).toBe(true);
    expect(limiter.view().find((b) => b.bucket === 'list')?.blockedUntil).toBeNull();
  });

  it('lets history run at 3 per second', async () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, {}, 0);
    const at: number[] = [];
    const all = Array.from({ length: 7 }, () => limiter.acquire('history').then(() => at.push(time.now() - T0)));
    await time.advance(2_000);
    await Promise.all(all);
    expect(at).toEqual([0, 0, 0, 1_000, 1_000, 1_000, 2_000]);
  });

  it('drops an aborted waiter without blocking the others', async () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, { mutate: { limit: 1, windowMs: 1_000 } }, 0);
    await limiter.acquire('mutate');
    const ac = new AbortController();
    const aborted = limiter.acquire('mutate', ac.signal).then(() => 'granted', () => 'aborted');
    let next = false;
    void limiter.acquire('mutate').then(() => (next = true));
    ac.abort();
    expect(await aborted).toBe('aborted');
    await time.advance(1_000);
    expect(next).toBe(true);
  });
});
