// The limiter on a fake clock: sliding-window budgets, FIFO order, the hold after a 429, abort, and the wait estimate.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './limiter';
import { FakeScheduler, settle } from '../../testing/clock';

const T0 = 1_700_000_000_000;

describe('RateLimiter', () => {
  it('grants up to the limit per sliding window, then in FIFO order as the window slides', async () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, { create: { limit: 3, windowMs: 60_000 } }, 0);
    const order: number[] = [];
    for (let i = 0; i < 5; i++) void limiter.acquire('create').then(() => order.push(i));
    await settle();
    expect(order).toEqual([0, 1, 2]);
    expect(limiter.estimateWaitMs('create')).toBe(60_000); // behind the two queued ones, still in the next window
    expect(limiter.estimateWaitMs('create', 1)).toBe(120_000);
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
    const limiter = new RateLimiter(time, { create: { limit: 1, windowMs: 1_000 } }, 0);
    await limiter.acquire('create');
    const ac = new AbortController();
    const aborted = limiter.acquire('create', ac.signal).then(
      () => 'granted',
      () => 'aborted',
    );
    let next = false;
    void limiter.acquire('create').then(() => (next = true));
    ac.abort();
    expect(await aborted).toBe('aborted');
    await time.advance(1_000);
    expect(next).toBe(true);
  });

  it('keys DELETE budgets by token path: 40 distinct deletes go at once, a 31st delete of one token waits a window', async () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, {}, 0);
    const granted: string[] = [];
    for (let t = 1; t <= 40; t++) void limiter.acquire('delete', undefined, String(t)).then(() => granted.push(`d${t}`));
    for (let i = 0; i < 31; i++) void limiter.acquire('delete', undefined, '7').then(() => granted.push(`again${i}`));
    // POSTs have their one budget of their own, untouched by the deletes.
    for (let i = 0; i < 31; i++) void limiter.acquire('create').then(() => granted.push(`post${i}`));
    await settle();
    expect(granted.filter((g) => g.startsWith('d'))).toHaveLength(40);
    // token 7 already took one of its 30 in the first loop: 29 more now, the 30th and 31st wait for the window
    expect(granted.filter((g) => g.startsWith('again'))).toHaveLength(29);
    expect(granted.filter((g) => g.startsWith('post'))).toHaveLength(30);
    expect(limiter.estimateWaitMs('delete', 0, '8')).toBe(0);
    expect(limiter.estimateWaitMs('delete', 0, '7')).toBe(60_000); // behind the two queued, in the next window
    expect(limiter.estimateWaitMs('create')).toBe(60_000);
    await time.advance(60_000);
    expect(granted.filter((g) => g.startsWith('again'))).toHaveLength(31);
    expect(granted.filter((g) => g.startsWith('post'))).toHaveLength(31);
    const views = limiter.view().filter((b) => b.bucket === 'delete');
    expect(views.find((v) => v.key === '7')?.usedInWindow).toBe(2);
  });

  it('gives back the grant of a request the service did not count (422), and the next waiter goes at once', async () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, { create: { limit: 2, windowMs: 60_000 } }, 0);
    const first = await limiter.acquire('create');
    await limiter.acquire('create');
    let third = false;
    void limiter.acquire('create').then(() => (third = true));
    await settle();
    expect(third).toBe(false);
    expect(limiter.estimateWaitMs('create')).toBe(60_000);
    limiter.refund('create', first);
    await settle();
    expect(third).toBe(true);
    expect(limiter.view().find((b) => b.bucket === 'create')?.usedInWindow).toBe(2);
  });

  it('holds one token path after its 429 without holding another', () => {
    const time = new FakeScheduler(T0);
    const limiter = new RateLimiter(time, {}, 0);
    limiter.penalize('delete', T0 + 60_000, '11');
    expect(limiter.heldUntil('delete', '11')).toBe(T0 + 60_000);
    expect(limiter.heldUntil('delete', '12')).toBeNull();
    expect(limiter.heldUntil('create')).toBeNull();
  });
});
