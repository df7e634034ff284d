// The first-data signal: writers (live ingestion, backfill) report the tokens whose bars or ticks they stored;
// the subscription manager's wait for data ends on this evidence, and time to data is measured from it.
import { EventEmitter } from 'node:events';

export class DataSignals {
  private readonly firstSeen = new Map<number, number>();
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Record that data for these tokens was stored at `atMs`. Emits 'first' once per token. */
  stored(tokens: Iterable<number>, atMs: number): void {
    for (const token of tokens) {
      if (this.firstSeen.has(token)) continue;
      this.firstSeen.set(token, atMs);
      this.emitter.emit('first', token, atMs);
    }
  }

  firstDataAt(token: number): number | undefined {
    return this.firstSeen.get(token);
  }

  /** Forget a token (unsubscribed), so a later subscription waits for fresh evidence. */
  forget(token: number): void {
    this.firstSeen.delete(token);
  }

  onFirst(listener: (token: number, atMs: number) => void): () => void {
    this.emitter.on('first', listener);
    return () => this.emitter.off('first', listener);
  }

  /** Resolves with the tokens that had data within `timeoutMs` (possibly fewer than asked). */
  waitFor(tokens: readonly number[], timeoutMs: number): Promise<Set<number>> {
    const seen = new Set(tokens.filter((t) => this.firstSeen.has(t)));
    if (seen.size === tokens.length || timeoutMs <= 0) return Promise.resolve(seen);
    const wanted = new Set(tokens);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        resolve(seen);
      };
      const off = this.onFirst((token) => {
        if (!wanted.has(token)) return;
        seen.add(token);
        if (seen.size === wanted.size) done();
      });
      const timer = setTimeout(done, timeoutMs);
    });
  }
}
