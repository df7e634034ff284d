// DataWaits ends a wait by evidence or by the caller: an already-aborted signal must not hold the caller until the
// deadline (it never fires 'abort' again).
import { describe, expect, it } from 'vitest';
import { DataSignals } from '../market/data-signals';
import { FakeScheduler } from '../../testing/clock';
import { DataWaits } from './data-waits';

const T0 = Date.UTC(2025, 10, 12, 5, 0);

function waits(scheduler: FakeScheduler, signals = new DataSignals()) {
  return new DataWaits({
    signals,
    scheduler,
    stop: new AbortController().signal,
    queue: { inFlight: null, has: () => false, position: () => -1, etaMs: () => 0 } as never,
    held: () => false,
    active: () => true,
  });
}

describe('DataWaits.until', () => {
  it('returns at once for a signal that was aborted before the wait began', async () => {
    const scheduler = new FakeScheduler(T0);
    const aborted = AbortSignal.abort();
    let done = false;
    const wait = waits(scheduler)
      .until([101], T0 + 10_000, aborted)
      .then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toBe(true);
    expect(scheduler.now()).toBe(T0);
    await wait;
  });

  it('waits for the evidence otherwise, and ends when the token gets its first data', async () => {
    const scheduler = new FakeScheduler(T0);
    const signals = new DataSignals();
    let done = false;
    const wait = waits(scheduler, signals)
      .until([101], T0 + 10_000)
      .then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    signals.stored([101], T0 + 1_000);
    await wait;
    expect(done).toBe(true);
    expect(scheduler.now()).toBe(T0);
  });
});
