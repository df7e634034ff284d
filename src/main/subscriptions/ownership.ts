// Who wants each token: owners per requester ('auto:NIFTY 2025-11-25' for a chain screen, 'manual' for an operator,
// 'external' for a row somebody else made). An auto owner lapses after the idle TTL; manual and external ones never
// do. A subscription Strikedesk made and nobody wants any more is released (DELETE), never one somebody else made:
// the service's strike rebalancer and other clients own their rows.
import type { ActiveSnapshot } from './snapshot';
import type { SubscriptionStateStore, TokenState } from './store';

export interface OwnershipDeps {
  store: SubscriptionStateStore;
  /** Auto owners lapse after this long without a request (config subscriptionIdleMinutes). */
  idleMs: () => number;
  /** When the manager started: every auto owner gets one idle period of grace from then. */
  startedAt: number;
}

/** What becomes of a token nobody wants any more. */
export type Unwanted = 'release' | 'forget';

export class Ownership {
  constructor(private readonly deps: OwnershipDeps) {}

  /** Someone still asks for the token: a manual or external owner, or an auto owner within the idle TTL. */
  wanted(token: number, now: number): boolean {
    for (const [owner, entry] of this.deps.store.ownersOf(token)) if (this.live(owner, entry.lastAt, now)) return true;
    return false;
  }

  /** A token subscribed by someone else: never released by Strikedesk. */
  noteExternal(token: number, now: number): void {
    if (this.deps.store.get(token)?.createdByUs) return;
    this.deps.store.touchOwner(token, 'external', now);
  }

  /**
   * After each listing: an active row nobody here made is somebody else's ('external'), so it is never released by
   * us; an external owner whose row is gone from the listing is dropped. Tokens we are subscribing are skipped (the
   * row may be ours, just not yet recorded).
   */
  followListing(snapshot: ActiveSnapshot, subscribing: (token: number) => boolean, now: number): void {
    const { store } = this.deps;
    store.batch(() => {
      for (const token of snapshot.tokens) {
        if (subscribing(token)) continue;
        if (store.get(token)?.createdByUs) continue;
        if (!store.ownersOf(token).has('external')) store.touchOwner(token, 'external', now);
      }
      for (const [token, owners] of [...store.ownedTokens()]) {
        if (owners.has('external') && !snapshot.tokens.has(token)) store.dropOwner(token, 'external');
      }
    });
  }

  /** Drops every auto owner past the idle TTL. */
  lapseIdleOwners(now: number): void {
    const { store } = this.deps;
    const lapsed: [number, string][] = [];
    for (const [token, owners] of store.ownedTokens()) {
      for (const [owner, entry] of owners) if (!this.live(owner, entry.lastAt, now)) lapsed.push([token, owner]);
    }
    if (lapsed.length) store.batch(() => lapsed.forEach(([t, o]) => store.dropOwner(t, o)));
  }

  /**
   * A token nobody wants: released at the ticker when Strikedesk made it and it is still active, otherwise its state
   * is forgotten (somebody else's row, or already gone).
   */
  unwanted(st: TokenState, active: boolean): Unwanted {
    return st.createdByUs && active ? 'release' : 'forget';
  }

  private live(owner: string, lastAt: number, now: number): boolean {
    if (!owner.startsWith('auto:')) return true;
    // Right after a start every auto owner gets one idle period of grace: clients reconnect and ask again, and a
    // release followed by a re-subscribe would cost two full reloads at the service.
    return Math.max(lastAt, this.deps.startedAt) > now - this.deps.idleMs();
  }
}
