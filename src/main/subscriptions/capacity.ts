// Kite's capacity per account, as the ticker service lives with it: 3000 instruments on each of 3 connections. Above
// 9000 the service's stream task for the account fails and NOTHING streams for it, so the limit is checked twice:
// before anything is queued (a request that would cross it is refused with a CAPACITY error) and again before each
// POST (the service's strike rebalancer adds rows of its own meanwhile; the POST is deferred, not sent).
// A row without an account (null or "", how the service stores Strikedesk's own POSTs) counts against the service's
// default account, 'primary'.
import { DomainError } from '../../shared/result';
import type { ActiveSnapshot } from './snapshot';

export const INSTRUMENTS_PER_CONNECTION = 3000;
export const CONNECTIONS_PER_ACCOUNT = 3;
/** The account a row without one (null or "") counts against: the service's default. */
export const DEFAULT_SERVICE_ACCOUNT = 'primary';
/** Kite's limit per account; above it the service's stream task for the account fails and nothing streams. */
export const ACCOUNT_CAPACITY = INSTRUMENTS_PER_CONNECTION * CONNECTIONS_PER_ACCOUNT;

/** The account a subscription row counts against. */
export const accountOf = (row: { account_id: string | null }, defaultAccount = DEFAULT_SERVICE_ACCOUNT): string => row.account_id || defaultAccount;

/** The account Strikedesk's new subscriptions count against (no configured account: the service's default). */
export const ourAccount = (accountId: string | undefined): string => accountId || DEFAULT_SERVICE_ACCOUNT;

/** Active rows at the service counted against our account (null/"" rows count against the default account). */
export function accountUsed(snapshot: ActiveSnapshot | null, accountId: string | undefined): number {
  const account = ourAccount(accountId);
  let used = 0;
  for (const row of snapshot?.rows.values() ?? []) if (accountOf(row) === account) used++;
  return used;
}

/**
 * Refuses a request whose new instruments, on top of the active and already queued ones, would cross the account's
 * capacity: one row too many stops every stream of the account, so nothing of the request is queued.
 */
export function checkCapacity(snapshot: ActiveSnapshot, req: { accountId: string | undefined; queued: number; adding: number }): void {
  const { queued, adding } = req;
  if (adding === 0) return;
  const account = ourAccount(req.accountId);
  const used = accountUsed(snapshot, req.accountId);
  const limit = ACCOUNT_CAPACITY;
  if (used + queued + adding > limit) {
    throw new DomainError(
      'CAPACITY',
      `account ${account} cannot take ${adding} more instruments: ${used} active + ${queued} queued of ${limit} (${CONNECTIONS_PER_ACCOUNT} connections x ${INSTRUMENTS_PER_CONNECTION})`,
      undefined,
      { account, used, queued, requested: adding, limit, perConnection: INSTRUMENTS_PER_CONNECTION, connections: CONNECTIONS_PER_ACCOUNT },
    );
  }
}

/** Why one more POST must wait (the account is full), or null when there is room for it. */
export function accountFull(snapshot: ActiveSnapshot | null, accountId: string | undefined): string | null {
  const used = accountUsed(snapshot, accountId);
  if (used < ACCOUNT_CAPACITY) return null;
  return `account ${ourAccount(accountId)} is at its ${ACCOUNT_CAPACITY}-instrument capacity (${used} active): above it the ticker service streams nothing for the account`;
}
