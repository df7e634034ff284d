// Pushed invalidations (main -> renderer). Services say "this topic changed"; the renderer refetches through
// react-query. Bursts (a tick storm, a busy backfill) coalesce to at most one push per topic+key per interval.
import { EventEmitter } from 'node:events';
import type { PushEvent, PushTopic } from '../../shared/api';

export class PushHub {
  private readonly emitter = new EventEmitter();
  private readonly pending = new Map<string, PushEvent>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs = 250) {
    this.emitter.setMaxListeners(100);
  }

  publish(topic: PushTopic, key?: string, message?: string): void {
    const event: PushEvent = { topic, ...(key ? { key } : {}), ...(message ? { message } : {}) };
    if (message) {
      // Alerts are not coalesced: each carries its own text.
      this.emitter.emit('push', event);
      return;
    }
    this.pending.set(`${topic}|${key ?? ''}`, event);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  private flush(): void {
    this.timer = null;
    const events = [...this.pending.values()];
    this.pending.clear();
    for (const event of events) this.emitter.emit('push', event);
  }

  subscribe(listener: (event: PushEvent) => void): () => void {
    this.emitter.on('push', listener);
    return () => this.emitter.off('push', listener);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }
}
