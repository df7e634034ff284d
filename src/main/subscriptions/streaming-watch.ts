// "Accepted but not streaming". At the real ticker service a 201 means only that the desired state was stored; in its
// current revision the first stream reload stops all streaming for good (and a service started with no rows never
// streams later ones), while /health keeps saying "running". The only evidence is the ticks themselves, so the watch
// judges tick age: subscriptions are active at the service, ticks are due, and no stream tick has arrived for
// `stoppedAfterMs` (default 20 s, so the verdict comes within 30 s of the last tick even with the manager's 2 s
// evaluation cadence). A reload's own gap is a few seconds and does not reach it.
//
// When are ticks due? During an NSE session. Outside one, the real service streams MOCK ticks for every subscribed
// instrument every second, but an older build or the devticker in real-clock mode streams nothing: so outside a
// session ticks are due only when the feed has shown ticks while the session was closed (its last stream tick came
// outside a session). A feed that has never ticked outside a session is not judged there.
//
// Stream ticks are the options channel's (options and futures): the service's underlying poll can keep publishing
// index levels while every stream is dead, so the underlying channel proves nothing about the streams. For the same
// reason the manager counts only non-index rows (segment other than INDICES) as "accepted" here.

export type StreamingState = 'streaming' | 'stopped' | 'waiting' | 'not_expected';

export interface StreamingView {
  state: StreamingState;
  /** Active subscriptions at the service as last listed. */
  accepted: number;
  /** Time without a stream tick while ticks were due (ms), or null when not due. */
  silentForMs: number | null;
  /** When the stop was detected (epoch ms), or null. */
  stoppedSince: number | null;
  /** Last stream tick (epoch ms), or null. */
  lastTickAt: number | null;
  /** In words, for health and the alert. */
  message: string;
}

export interface StreamingWatchOptions {
  /** Last stream tick (options channel), epoch ms, or null. */
  lastStreamTickAt: () => number | null;
  /** True while an NSE session is open (or always, with the devticker's always-open clock). */
  sessionOpen: (ms: number) => boolean;
  /** Silence while ticks are due that counts as stopped (default 20 s). */
  stoppedAfterMs?: number;
}

export const STREAMING_STOPPED_AFTER_MS = 20_000;

const secs = (ms: number): number => Math.round(ms / 1000);

export class StreamingWatch {
  readonly stoppedAfterMs: number;
  private dueSince: number | null = null;
  private stoppedAt: number | null = null;
  private last: StreamingView = { state: 'not_expected', accepted: 0, silentForMs: null, stoppedSince: null, lastTickAt: null, message: 'not evaluated yet' };

  constructor(private readonly opts: StreamingWatchOptions) {
    this.stoppedAfterMs = opts.stoppedAfterMs ?? STREAMING_STOPPED_AFTER_MS;
  }

  /** Judges now, given the active subscriptions at the service (null: unknown, nothing is judged). */
  evaluate(now: number, accepted: number | null): StreamingView {
    const lastTick = this.opts.lastStreamTickAt();
    const mockStreaming = lastTick !== null && !this.opts.sessionOpen(lastTick);
    const due = accepted !== null && accepted > 0 && (this.opts.sessionOpen(now) || mockStreaming);
    if (!due) {
      this.dueSince = null;
      this.stoppedAt = null;
      const why =
        accepted === null
          ? 'subscription list not known yet'
          : accepted === 0
            ? 'no active subscriptions'
            : 'market closed and the feed streams nothing outside sessions';
      return (this.last = {
        state: 'not_expected',
        accepted: accepted ?? 0,
        silentForMs: null,
        stoppedSince: null,
        lastTickAt: lastTick,
        message: `ticks not due: ${why}`,
      });
    }
    // Due because of mock ticks seen while closed: due since that tick, which is evidence of streaming itself.
    this.dueSince ??= mockStreaming && !this.opts.sessionOpen(now) ? Math.min(now, lastTick) : now;
    // Silence counts from the later of the last stream tick and the moment ticks became due.
    const reference = Math.max(this.dueSince, lastTick ?? Number.NEGATIVE_INFINITY);
    const silentFor = Math.max(0, now - reference);
    // Recovers by itself: a tick within the window ends the verdict.
    if (silentFor > this.stoppedAfterMs) this.stoppedAt ??= now;
    else this.stoppedAt = null;
    const silentTotal = lastTick === null ? now - this.dueSince : now - lastTick;
    if (this.stoppedAt !== null) {
      return (this.last = {
        state: 'stopped',
        accepted,
        silentForMs: silentTotal,
        stoppedSince: this.stoppedAt,
        lastTickAt: lastTick,
        message:
          `the ticker service accepted ${accepted} subscriptions but has streamed nothing for ${secs(silentTotal)} s: restart the ticker service ` +
          '(its /health may still say running; Strikedesk holds further subscribes, each of which would be another full stream reload, until ticks return)',
      });
    }
    // 'waiting': no stream tick since ticks became due (a first subscription, a session opening).
    const state: StreamingState = lastTick !== null && lastTick >= this.dueSince ? 'streaming' : 'waiting';
    return (this.last = {
      state,
      accepted,
      silentForMs: silentFor,
      stoppedSince: null,
      lastTickAt: lastTick,
      message: state === 'streaming' ? `streaming: last tick ${secs(silentFor)} s ago` : `waiting for the first ticks (${secs(silentFor)} s)`,
    });
  }

  /** The last verdict. */
  view(): StreamingView {
    return this.last;
  }

  get stopped(): boolean {
    return this.last.state === 'stopped';
  }
}
