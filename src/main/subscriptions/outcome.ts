// What a request reports about its subscriptions: the SubscriptionOutcome of an operator's subscriptions:subscribe and
// of a chain answer's metadata. One rule for both, so the operator and the trader read the same state for the same
// situation:
// - complete: nothing failed and nothing is still queued (every token is active);
// - pending: nothing failed, something is still queued;
// - partial: something failed, something else is active or queued;
// - failed: something failed and nothing is active or queued.
// A request may make more than one ensureSubscribed call (a chain subscribes its index first, then the chain with the
// index again): a token's last report wins, except that a token newly subscribed by any call stays "newly" for the
// request. Tokens no call was asked about (unknown or expired instruments, legs refused for capacity) are failed.
import type { SubscriptionOutcome } from '../../shared/api';
import type { EnsureResult, FailedToken } from './ensure';

type Report = { kind: 'already' | 'newly' | 'pending' } | { kind: 'failed'; reason: string; retryAt: number | null };

/** The outcome of a request that did not subscribe: it did not ask ('not_requested') or smart subscription is off. */
export function noSubscriptionOutcome(state: 'not_requested' | 'disabled'): SubscriptionOutcome {
  return { state, already: [], newly: [], failed: [], pending: [], retry_after_ms: null };
}

/**
 * The outcome of a request over the results of its ensureSubscribed calls, in call order. `refused`: tokens the request
 * could not ask for, failed with their reason unless a call reported on them after all.
 */
export function subscriptionOutcome(results: readonly EnsureResult[], refused: readonly FailedToken[] = []): SubscriptionOutcome {
  const last = new Map<number, Report>();
  for (const r of results) {
    for (const t of r.already) last.set(t, { kind: 'already' });
    for (const t of r.newly) last.set(t, { kind: 'newly' });
    for (const t of r.pending) last.set(t, { kind: 'pending' });
    for (const f of r.failed) last.set(f.token, { kind: 'failed', reason: f.reason, retryAt: f.retryAt });
  }
  // A token newly subscribed by an earlier call is "already" active for a later one: it stays "newly" for the request.
  for (const r of results) for (const t of r.newly) if (last.get(t)?.kind === 'already') last.set(t, { kind: 'newly' });
  for (const f of refused) if (!last.has(f.token)) last.set(f.token, { kind: 'failed', reason: f.reason, retryAt: f.retryAt });

  const already: number[] = [];
  const newly: number[] = [];
  const pending: number[] = [];
  const failed: SubscriptionOutcome['failed'] = [];
  for (const [token, report] of last) {
    if (report.kind === 'failed')
      failed.push({ token, reason: report.reason, retryAt: report.retryAt === null ? null : new Date(report.retryAt).toISOString() });
    else ({ already, newly, pending })[report.kind].push(token);
  }
  const subscribed = already.length + newly.length;
  const state: SubscriptionOutcome['state'] =
    failed.length === 0 ? (pending.length ? 'pending' : 'complete') : subscribed + pending.length === 0 ? 'failed' : 'partial';
  const hints = results.map((r) => r.retryAfterMs).filter((v): v is number => v !== null);
  return { state, already, newly, failed, pending, retry_after_ms: hints.length ? Math.min(...hints) : null };
}
