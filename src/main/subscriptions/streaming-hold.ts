// Holding the POSTs while the service accepts subscriptions but streams nothing (streaming-watch.ts judges that from
// tick age). Each POST would be another full reload of a dead stream, so queued subscribes (and idle releases) wait
// and resume by themselves when ticks return; an operator's unsubscribe still goes out.
import type { Logger } from '../log';
import type { ActiveSnapshot } from './snapshot';
import type { StreamingView, StreamingWatch } from './streaming-watch';

export interface StreamingHoldDeps {
  /** Without a watch nothing is ever held. */
  watch?: StreamingWatch;
  snapshot(): ActiveSnapshot | null;
  now(): number;
  /** Subscribes waiting or in flight, for the log line. */
  queued(): number;
  /** The verdict changed: push it (subscriptions and health) and, when ticks are back, restart the queue. */
  changed(held: boolean): void;
  logger?: Logger;
}

export class StreamingHold {
  private isHeld = false;

  constructor(private readonly deps: StreamingHoldDeps) {}

  /** True while the last verdict is "stopped": no POST goes out. */
  get held(): boolean {
    return this.isHeld;
  }

  /** The watch's last verdict, or null without a watch. */
  view(): StreamingView | null {
    return this.deps.watch?.view() ?? null;
  }

  /** Why queued subscribes are not being sent, or null when they are. */
  reason(): string | null {
    return this.isHeld ? (this.deps.watch?.view().message ?? 'held') : null;
  }

  /** Re-judges streaming; holds or resumes the POSTs on a change of verdict. */
  judge(): void {
    const { watch, logger } = this.deps;
    if (!watch) return;
    const snapshot = this.deps.snapshot();
    // Index rows are left out: the watch judges the options channel, and an index's own ticks come elsewhere.
    let streamable = 0;
    for (const row of snapshot?.rows.values() ?? []) if (row.segment !== 'INDICES') streamable++;
    const view = watch.evaluate(this.deps.now(), snapshot ? streamable : null);
    const stopped = view.state === 'stopped';
    if (stopped === this.isHeld) return;
    this.isHeld = stopped;
    if (stopped) logger?.warn({ accepted: view.accepted, silentForMs: view.silentForMs, queued: this.deps.queued() }, `streaming stopped: ${view.message}`);
    else logger?.info({ queued: this.deps.queued() }, 'ticks are back: queued subscribes resume');
    this.deps.changed(stopped);
  }
}
