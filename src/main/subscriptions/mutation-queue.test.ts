// The mutation queue on a fake clock, with a stand-in for the ticker client's limiter (30 mutations per fixed minute
// window) and a sender that records what went out: the order mutations leave in, waiting for budget before choosing,
// the hold while the service streams nothing, spare budget for idle releases, a 429 keeping its place.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeScheduler, settle } from '../../testing/clock';
import { MutationQueue, type Mutation, type MutationResult } from './mutation-queue';

const T0 = Date.UTC(2025, 10, 4, 5, 30);
const WINDOW_MS = 60_000;
const PER_WINDOW = 30;

let time: FakeScheduler;
let stop: AbortController;
let queue: MutationQueue;
let sent: string[];
let used: number;
let windowEnd: number;
let held: boolean;
let answer: (item: Mutation) => MutationResult;

/** The limiter's eta for the mutation at `position`: 0 while the window has room for it, else until the window ends. */
function etaMs(position: number): number {
  if (time.now() >= windowEnd) {
    used = 0;
    windowEnd = time.now() + WINDOW_MS;
  }
  return used + position < PER_WINDOW ? 0 : windowEnd - time.now();
}

beforeEach(() => {
  time = new FakeScheduler(T0);
  stop = new AbortController();
  sent = [];
  used = 0;
  windowEnd = T0 + WINDOW_MS;
  held = false;
  answer = () => null;
  queue = new MutationQueue({
    scheduler: time,
    stop: stop.signal,
    etaMs,
    held: () => held,
    judgeStreaming: () => undefined,
    send: async (item) => {
      used++;
      sent.push(`${item.op === 'subscribe' ? '+' : '-'}${item.token}`);
      const result = answer(item);
      if (result === 'requeued') queue.requeue(item);
      return result;
    },
    settled: () => undefined,
  });
});

afterEach(() => {
  stop.abort();
});

/** Settles with the error each mutation was settled with. */
const outcomeOf = (item: Mutation): Promise<string | null> => new Promise((resolve) => item.done.push(resolve));

describe('MutationQueue', () => {
  it('sends the lowest rank (nearest ATM) first, then first come', async () => {
    for (const [token, rank] of [
      [11, 3],
      [12, 1],
      [13, 2],
      [14, 1],
      [15, 0],
    ])
      queue.enqueue(token, 'subscribe', rank, 'request');
    queue.kick();
    await settle();
    expect(sent).toEqual(['+15', '+12', '+14', '+13', '+11']);
  });

  it('waits for budget before choosing, so an ATM request that arrives meanwhile goes first', async () => {
    used = PER_WINDOW;
    queue.enqueue(21, 'subscribe', 5, 'request');
    queue.kick();
    await time.advance(30_000);
    expect(sent).toEqual([]);
    expect(queue.position(22)).toBe(1); // not queued: behind everything waiting
    queue.enqueue(22, 'subscribe', 0, 'request');
    expect(queue.position(22)).toBe(0);
    await time.advance(30_000);
    expect(sent).toEqual(['+22', '+21']);
  });

  it('while the service streams nothing sends only an operator unsubscribe, and resumes the rest when kicked', async () => {
    held = true;
    queue.enqueue(31, 'subscribe', 0, 'request');
    queue.enqueue(32, 'unsubscribe', Number.POSITIVE_INFINITY, 'idle');
    const manual = outcomeOf(queue.enqueue(33, 'unsubscribe', -1, 'manual'));
    queue.kick();
    expect(await manual).toBeNull();
    await settle();
    expect(sent).toEqual(['-33']);
    expect(queue.subscribing(31)).toBe(true);

    held = false;
    queue.kick();
    await settle();
    expect(sent).toEqual(['-33', '+31', '-32']);
  });

  it('releases idle subscriptions on spare budget only: at least half of the window free', async () => {
    used = PER_WINDOW - 14;
    queue.enqueue(41, 'unsubscribe', Number.POSITIVE_INFINITY, 'idle');
    queue.kick();
    await settle();
    expect(sent).toEqual([]);
    await time.advance(WINDOW_MS);
    queue.kick();
    await settle();
    expect(sent).toEqual(['-41']);
  });

  it('keeps a rate-limited mutation in its place and settles it once, when it is done', async () => {
    let first = true;
    answer = (item) => (item.token === 51 && first ? ((first = false), 'requeued') : null);
    const outcome = outcomeOf(queue.enqueue(51, 'subscribe', 0, 'request'));
    queue.enqueue(52, 'subscribe', 1, 'request');
    queue.kick();
    expect(await outcome).toBeNull();
    expect(sent).toEqual(['+51', '+51', '+52']);
  });

  it('merges a repeated mutation (better rank wins) and supersedes the opposite one', async () => {
    const first = queue.enqueue(61, 'subscribe', 5, 'request');
    expect(queue.enqueue(61, 'subscribe', 2, 'retry')).toBe(first);
    expect(first.rank).toBe(2);
    const superseded = outcomeOf(first);
    queue.enqueue(61, 'unsubscribe', -1, 'manual');
    expect(await superseded).toBe('superseded by unsubscribe');
    expect(queue.unsubscribing(61)).toBe(true);
    expect(queue.subscribing(61)).toBe(false);
  });

  it('settles what waits with "stopped" and sends nothing after a stop', async () => {
    used = PER_WINDOW;
    const waiting = outcomeOf(queue.enqueue(71, 'subscribe', 0, 'request'));
    queue.kick();
    stop.abort();
    queue.stopped();
    expect(await waiting).toBe('stopped');
    await time.advance(WINDOW_MS);
    queue.kick();
    await settle();
    expect(sent).toEqual([]);
  });

  it('settles a mutation whose send throws with the error, reports it, and goes on with the next', async () => {
    const errors: string[] = [];
    const failing = new MutationQueue({
      scheduler: time,
      stop: stop.signal,
      etaMs,
      held: () => false,
      judgeStreaming: () => undefined,
      send: async (item) => {
        sent.push(`+${item.token}`);
        if (item.token === 81) throw new Error('state store: database is locked');
        return null;
      },
      settled: () => undefined,
      onError: (err, item) => errors.push(`${item?.token}: ${(err as Error).message}`),
    });
    const broken = outcomeOf(failing.enqueue(81, 'subscribe', 0, 'request'));
    const next = outcomeOf(failing.enqueue(82, 'subscribe', 1, 'request'));
    failing.kick();
    expect(await broken).toBe('internal error: state store: database is locked');
    expect(await next).toBeNull();
    expect(sent).toEqual(['+81', '+82']);
    expect(errors).toEqual(['81: state store: database is locked']);
  });

  it('a throw outside a send ends the run, reported, without an unhandled rejection; the next kick runs again', async () => {
    const errors: unknown[] = [];
    let judgeFails = true;
    const judged = new MutationQueue({
      scheduler: time,
      stop: stop.signal,
      etaMs,
      held: () => false,
      judgeStreaming: () => {
        if (judgeFails) throw new Error('streaming verdict unavailable');
      },
      send: async (item) => {
        sent.push(`+${item.token}`);
        return null;
      },
      settled: () => undefined,
      onError: (err, item) => errors.push([(err as Error).message, item]),
    });
    const waiting = outcomeOf(judged.enqueue(91, 'subscribe', 0, 'request'));
    judged.kick();
    await settle();
    expect(errors).toEqual([['streaming verdict unavailable', null]]);
    expect(sent).toEqual([]);
    judgeFails = false;
    judged.kick();
    expect(await waiting).toBeNull();
    expect(sent).toEqual(['+91']);
  });
});
