// What an intake event does. created/activated: the subscription snapshot is stale now, and (flag
// backfill_immediate_on_subscribe) the new instrument gets an immediate backfill. removed/deactivated: stale snapshot,
// and the subscription manager drops its ownership/failure state for the token. A service that is not running is
// said so in the outcome, never skipped silently.
import type { BackfillJob, BackfillScope } from '../../shared/api';
import { DomainError } from '../../shared/result';
import type { InboxRow } from './inbox';

/** The part of the SubscriptionManager (issue 4) the intake uses. */
export interface SubscriptionHooks {
  invalidateSnapshot(): void;
  release(token: number, reason: string): Promise<void>;
}

/** The part of the BackfillService (issue 5) the intake uses. */
export interface BackfillHook {
  enqueueImmediate(scope: BackfillScope, createdBy: string, reason?: string): Promise<BackfillJob>;
}

export interface ActionDeps {
  subscriptions: () => SubscriptionHooks | undefined;
  backfill: () => BackfillHook | undefined;
  immediateBackfill: () => boolean;
  /** A push event (webhook/Redis) that already queued the backfill for the same change, for poll sightings. */
  handledByPush: (row: InboxRow) => { id: number; source: string } | null;
  /**
   * Whether the instrument registry knows the token (undefined: no registry running, so no judgement). A sender can
   * name any number: an unknown token is recorded with its outcome but never becomes a backfill job.
   */
  knownToken?: (token: number) => Promise<boolean | undefined>;
}

export interface ActionOutcome {
  /** Metrics label: backfill_queued | backfill_off | backfill_unavailable | already_handled | unknown_token | released | release_unavailable. */
  code: string;
  text: string;
}

/** Failures that a retry cannot fix (the token is unknown, the request is refused). */
export function isPermanent(err: unknown): boolean {
  return err instanceof DomainError && ['BAD_REQUEST', 'NOT_FOUND', 'CONFLICT', 'PINNED'].includes(err.code);
}

export async function runActions(row: InboxRow, deps: ActionDeps): Promise<ActionOutcome> {
  const parts: string[] = [];
  const subscriptions = deps.subscriptions();
  if (subscriptions) {
    subscriptions.invalidateSnapshot();
    parts.push('snapshot invalidated');
  } else {
    parts.push('subscription service not running (no snapshot to invalidate)');
  }

  if (row.type === 'removed') {
    if (!subscriptions) return { code: 'release_unavailable', text: parts.join('; ') };
    await subscriptions.release(row.token, `${row.source} event ${row.raw_type}`);
    parts.push('ownership released');
    return { code: 'released', text: parts.join('; ') };
  }

  if (!deps.immediateBackfill()) {
    parts.push('immediate backfill off (flag backfill_immediate_on_subscribe)');
    return { code: 'backfill_off', text: parts.join('; ') };
  }
  const earlier = row.source === 'poll' ? deps.handledByPush(row) : null;
  if (earlier) {
    parts.push(`immediate backfill already queued by ${earlier.source} event #${earlier.id}`);
    return { code: 'already_handled', text: parts.join('; ') };
  }
  if (deps.knownToken && (await deps.knownToken(row.token)) === false) {
    parts.push(`token ${row.token} is not in the instrument registry: recorded, no backfill queued`);
    return { code: 'unknown_token', text: parts.join('; ') };
  }
  const backfill = deps.backfill();
  if (!backfill) {
    parts.push('backfill service not running');
    return { code: 'backfill_unavailable', text: parts.join('; ') };
  }
  const job = await backfill.enqueueImmediate(
    { kind: 'instrument', token: row.token },
    `event:${row.source}`,
    `${row.source} event ${row.raw_type}${row.tradingsymbol ? ` ${row.tradingsymbol}` : ''}`,
  );
  parts.push(`immediate backfill job #${job.id} (${job.state})`);
  return { code: 'backfill_queued', text: parts.join('; ') };
}
