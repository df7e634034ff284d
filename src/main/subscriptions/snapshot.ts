// One snapshot of the ticker service's active subscriptions (every page, one pass), reused for the cache TTL and
// shared by concurrent callers (single flight): N chain requests in the same second cost one paginated listing,
// not N (the plan's sketch listed every subscription once per token).
//
// Strikedesk's own POST/DELETE results are applied to the cached snapshot as they happen. A listing that was
// already in flight when such a change happened may not include it, so changes newer than the listing's start are
// replayed on top of its result: a token we just subscribed never looks unsubscribed (which would cost a second
// POST and a second full reload at the service).
//
// The service pages by slicing an unordered re-read of every row: above 1000 rows a listing can skip a row or show it
// twice. Rows are keyed by token (a repeat is one row), and a token that was active and is missing from ONE listing
// is kept as active (its last row) until the next listing confirms the removal: a skipped row must not look like an
// unsubscribed one (that would cost a needless POST and a full reload, or drop a foreign owner).
import type { TickerSubscription } from '../ticker/types';
import type { Scheduler } from '../../shared/clock';

export interface ActiveSnapshot {
  tokens: Set<number>;
  rows: Map<number, TickerSubscription>;
  /** When the listing started (epoch ms). */
  takenAt: number;
  /** Tokens missing from this listing but present in the one before: kept until the next listing confirms. */
  unconfirmed: Set<number>;
}

interface LocalChange {
  seq: number;
  token: number;
  row: TickerSubscription | null;
}

export class SnapshotCache {
  private current: ActiveSnapshot | null = null;
  private fresh = false;
  private inFlight: Promise<ActiveSnapshot> | null = null;
  private generation = 0;
  private seq = 0;
  private changes: LocalChange[] = [];
  fetches = 0;

  constructor(
    private readonly list: () => Promise<TickerSubscription[]>,
    private readonly ttlMs: () => number,
    private readonly scheduler: Scheduler,
    private readonly onFresh?: (snapshot: ActiveSnapshot) => void,
  ) {}

  /** The cached snapshot while younger than the TTL, else one shared listing. Rejects when the listing fails. */
  get(): Promise<ActiveSnapshot> {
    const now = this.scheduler.now();
    if (this.current && this.fresh && now - this.current.takenAt < this.ttlMs()) return Promise.resolve(this.current);
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** The last snapshot, however old, or null. */
  peek(): ActiveSnapshot | null {
    return this.current;
  }

  /** The next get() lists again (an event said something changed). */
  invalidate(): void {
    this.fresh = false;
    this.generation++;
  }

  /** Our POST succeeded. */
  added(row: TickerSubscription): void {
    this.record({ seq: ++this.seq, token: row.instrument_token, row });
  }

  /** Our DELETE succeeded (or the subscription is known gone). */
  removed(token: number): void {
    this.record({ seq: ++this.seq, token, row: null });
  }

  private record(change: LocalChange): void {
    this.changes.push(change);
    if (this.current) apply(this.current, change);
    // Only changes newer than the oldest listing in flight can still be needed.
    if (!this.inFlight) this.changes = [];
  }

  private async fetch(): Promise<ActiveSnapshot> {
    const generation = this.generation;
    const startSeq = this.seq;
    const takenAt = this.scheduler.now();
    this.fetches++;
    const rows = await this.list();
    const snapshot: ActiveSnapshot = { tokens: new Set(), rows: new Map(), takenAt, unconfirmed: new Set() };
    for (const row of rows) {
      if (row.status !== 'active') continue;
      snapshot.tokens.add(row.instrument_token);
      snapshot.rows.set(row.instrument_token, row);
    }
    // One listing's absence is not a removal: carry a token seen before (and not itself unconfirmed already).
    const previous = this.current;
    if (previous) {
      for (const [token, row] of previous.rows) {
        if (snapshot.tokens.has(token) || previous.unconfirmed.has(token)) continue;
        snapshot.tokens.add(token);
        snapshot.rows.set(token, row);
        snapshot.unconfirmed.add(token);
      }
    }
    for (const change of this.changes) if (change.seq > startSeq) apply(snapshot, change);
    this.changes = [];
    this.current = snapshot;
    this.fresh = generation === this.generation;
    this.onFresh?.(snapshot);
    return snapshot;
  }
}

function apply(snapshot: ActiveSnapshot, change: LocalChange): void {
  snapshot.unconfirmed.delete(change.token);
  if (change.row) {
    snapshot.tokens.add(change.token);
    snapshot.rows.set(change.token, change.row);
  } else {
    snapshot.tokens.delete(change.token);
    snapshot.rows.delete(change.token);
  }
}
