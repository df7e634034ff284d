// Time as the console sees it: "now" from an injectable clock, and the one abortable sleep that every pacing,
// backoff and cool-down waits on, so they all run on a fake scheduler in unit tests (src/testing/clock.ts) and on
// real timers everywhere else. Everything inside is UTC epoch milliseconds; IST appears only at the edges.

/** Injectable time source. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock plus a sleep on that clock's time. */
export interface Scheduler extends Clock {
  /** Resolves after `ms` of this scheduler's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Why an aborted wait rejects: the signal's own reason, else an AbortError. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

/**
 * Real time: the given clock (system by default) for "now", timers for sleeping. By default a sleeping timer does not
 * hold the process open (a stopping console need not wait for a back-off); `holdProcess` keeps it open, for work
 * that must finish (a bar write or a history chunk waiting for its retry).
 */
export function realScheduler(clock: Clock = systemClock, opts: { holdProcess?: boolean } = {}): Scheduler {
  return {
    now: () => clock.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(abortReason(signal));
          return;
        }
        const onAbort = () => {
          clearTimeout(timer);
          reject(abortReason(signal as AbortSignal));
        };
        const timer = setTimeout(
          () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          Math.max(0, ms),
        );
        if (!opts.holdProcess) (timer as { unref?: () => void }).unref?.();
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

export const systemScheduler: Scheduler = realScheduler();

/** The system scheduler whose sleeps keep the process alive until they end. */
export const workScheduler: Scheduler = realScheduler(systemClock, { holdProcess: true });
