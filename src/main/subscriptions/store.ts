// The manager's per-token state and owners, kept in memory and written through to SQLite (state migration 0005)
// so ownership, failures and the queue survive a restart.
import type Database from 'better-sqlite3';
import type { StateStore } from '../state/store';

export interface TokenState {
  token: number;
  createdByUs: boolean;
  subscribedAt: number | null;
  attempts: number;
  failureKind: string | null;
  failureReason: string | null;
  nextRetryAt: number | null;
  firstRequestedAt: number | null;
  queuedRank: number | null;
  symbol: string | null;
}

export interface OwnerEntry {
  firstAt: number;
  lastAt: number;
}

const blank = (token: number): TokenState => ({
  token,
  createdByUs: false,
  subscribedAt: null,
  attempts: 0,
  failureKind: null,
  failureReason: null,
  nextRetryAt: null,
  firstRequestedAt: null,
  queuedRank: null,
  symbol: null,
});

interface TokenRow {
  token: number;
  created_by_us: number;
  subscribed_at: number | null;
  attempts: number;
  failure_kind: string | null;
  failure_reason: string | null;
  next_retry_at: number | null;
  first_requested_at: number | null;
  queued_rank: number | null;
  symbol: string | null;
}

export class SubscriptionStateStore {
  private readonly tokens = new Map<number, TokenState>();
  private readonly owners = new Map<number, Map<string, OwnerEntry>>();
  private readonly db: Database.Database;
  private readonly putToken: Database.Statement;
  private readonly deleteToken: Database.Statement;
  private readonly putOwner: Database.Statement;
  private readonly deleteOwner: Database.Statement;
  private readonly deleteOwners: Database.Statement;

  constructor(store: StateStore) {
    this.db = store.db;
    this.putToken = this.db.prepare(`
      INSERT INTO subscription_tokens (token, created_by_us, subscribed_at, attempts, failure_kind, failure_reason, next_retry_at, first_requested_at, queued_rank, symbol, updated_at)
      VALUES (@token, @created_by_us, @subscribed_at, @attempts, @failure_kind, @failure_reason, @next_retry_at, @first_requested_at, @queued_rank, @symbol, @updated_at)
      ON CONFLICT(token) DO UPDATE SET created_by_us = excluded.created_by_us, subscribed_at = excluded.subscribed_at, attempts = excluded.attempts,
        failure_kind = excluded.failure_kind, failure_reason = excluded.failure_reason, next_retry_at = excluded.next_retry_at,
        first_requested_at = excluded.first_requested_at, queued_rank = excluded.queued_rank, symbol = excluded.symbol, updated_at = excluded.updated_at`);
    this.deleteToken = this.db.prepare('DELETE FROM subscription_tokens WHERE token = ?');
    this.putOwner = this.db.prepare(`
      INSERT INTO subscription_owners (token, owner, first_at, last_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(token, owner) DO UPDATE SET last_at = excluded.last_at`);
    this.deleteOwner = this.db.prepare('DELETE FROM subscription_owners WHERE token = ? AND owner = ?');
    this.deleteOwners = this.db.prepare('DELETE FROM subscription_owners WHERE token = ?');
    for (const r of this.db.prepare('SELECT * FROM subscription_tokens').all() as TokenRow[]) {
      this.tokens.set(r.token, {
        token: r.token,
        createdByUs: r.created_by_us === 1,
        subscribedAt: r.subscribed_at,
        attempts: r.attempts,
        failureKind: r.failure_kind,
        failureReason: r.failure_reason,
        nextRetryAt: r.next_retry_at,
        firstRequestedAt: r.first_requested_at,
        queuedRank: r.queued_rank,
        symbol: r.symbol,
      });
    }
    for (const r of this.db.prepare('SELECT token, owner, first_at, last_at FROM subscription_owners').all() as {
      token: number;
      owner: string;
      first_at: number;
      last_at: number;
    }[]) {
      this.ownersOf(r.token, true).set(r.owner, { firstAt: r.first_at, lastAt: r.last_at });
    }
  }

  /** Several writes in one SQLite transaction (a chain request touches 100+ tokens). */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  get(token: number): TokenState | undefined {
    return this.tokens.get(token);
  }

  all(): IterableIterator<TokenState> {
    return this.tokens.values();
  }

  /** Changes a token's state (created blank if unknown) and writes it through. */
  update(token: number, change: Partial<Omit<TokenState, 'token'>>, now: number): TokenState {
    const next = { ...(this.tokens.get(token) ?? blank(token)), ...change };
    this.tokens.set(token, next);
    this.putToken.run({
      token,
      created_by_us: next.createdByUs ? 1 : 0,
      subscribed_at: next.subscribedAt,
      attempts: next.attempts,
      failure_kind: next.failureKind,
      failure_reason: next.failureReason,
      next_retry_at: next.nextRetryAt,
      first_requested_at: next.firstRequestedAt,
      queued_rank: next.queuedRank,
      symbol: next.symbol,
      updated_at: now,
    });
    return next;
  }

  /** Forgets a token entirely: state and owners. */
  forget(token: number): void {
    this.tokens.delete(token);
    this.owners.delete(token);
    this.deleteToken.run(token);
    this.deleteOwners.run(token);
  }

  ownersOf(token: number, create = false): Map<string, OwnerEntry> {
    let owners = this.owners.get(token);
    if (!owners) {
      owners = new Map();
      if (create) this.owners.set(token, owners);
    }
    return owners;
  }

  touchOwner(token: number, owner: string, now: number): void {
    const owners = this.ownersOf(token, true);
    const entry = owners.get(owner);
    owners.set(owner, { firstAt: entry?.firstAt ?? now, lastAt: now });
    this.putOwner.run(token, owner, entry?.firstAt ?? now, now);
  }

  dropOwner(token: number, owner: string): void {
    const owners = this.owners.get(token);
    if (!owners?.delete(owner)) return;
    if (owners.size === 0) this.owners.delete(token);
    this.deleteOwner.run(token, owner);
  }

  dropOwners(token: number): void {
    this.owners.delete(token);
    this.deleteOwners.run(token);
  }

  ownedTokens(): IterableIterator<[number, Map<string, OwnerEntry>]> {
    return this.owners.entries();
  }
}
