// subscriptionOutcome against an independent statement of the rule: each token's final word is found by reading the
// calls backwards (the last report wins, "newly" sticks over a later "already", a refused token no call reported on is
// failed), and the state is stated with quantifiers over those tokens rather than with list lengths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EnsureResult, FailedToken } from './ensure';
import { noSubscriptionOutcome, subscriptionOutcome } from './outcome';

type Kind = 'already' | 'newly' | 'pending' | 'failed';
const KINDS: readonly Kind[] = ['already', 'newly', 'pending', 'failed'];

function ensureResult(parts: Partial<Pick<EnsureResult, 'already' | 'newly' | 'pending' | 'failed' | 'retryAfterMs'>>): EnsureResult {
  return { already: [], newly: [], pending: [], failed: [], dataAvailable: false, withData: [], disabled: false, retryAfterMs: null, ...parts };
}

/** One ensureSubscribed result as the manager makes them: each token of the call in exactly one list. */
const anEnsureResult = fc
  .record({
    tokens: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 12 }),
    kinds: fc.array(fc.constantFrom(...KINDS), { minLength: 12, maxLength: 12 }),
    reasons: fc.array(fc.constantFrom('HTTP 500', 'not found', 'rate limited'), { minLength: 12, maxLength: 12 }),
    retryAts: fc.array(fc.option(fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 })), { minLength: 12, maxLength: 12 }),
    retryAfterMs: fc.option(fc.integer({ min: 0, max: 120_000 })),
  })
  .map(({ tokens, kinds, reasons, retryAts, retryAfterMs }) => {
    const r = ensureResult({ retryAfterMs });
    tokens.forEach((token, i) => {
      if (kinds[i] === 'failed') r.failed.push({ token, reason: reasons[i], retryAt: retryAts[i] });
      else r[kinds[i]].push(token);
    });
    return r;
  });

const refusedTokens = fc
  .uniqueArray(fc.integer({ min: 1, max: 16 }), { maxLength: 6 })
  .map((tokens): FailedToken[] => tokens.map((token) => ({ token, reason: `refused ${token}`, retryAt: null })));

/** A token's final word, read from the last call backwards. */
function finalWord(results: readonly EnsureResult[], refused: readonly FailedToken[], token: number): { kind: Kind; failure?: FailedToken } | null {
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i];
    const failure = r.failed.find((f) => f.token === token);
    if (failure) return { kind: 'failed', failure };
    if (r.pending.includes(token)) return { kind: 'pending' };
    if (r.newly.includes(token)) return { kind: 'newly' };
    if (r.already.includes(token)) return { kind: results.some((x) => x.newly.includes(token)) ? 'newly' : 'already' };
  }
  const failure = refused.find((f) => f.token === token);
  return failure ? { kind: 'failed', failure } : null;
}

describe('subscriptionOutcome', () => {
  it('puts each token in the list of its final word, with the reason and retry time of its last failure', () => {
    fc.assert(
      fc.property(fc.array(anEnsureResult, { maxLength: 3 }), refusedTokens, (results, refused) => {
        const out = subscriptionOutcome(results, refused);
        const mentioned = new Set([
          ...results.flatMap((r) => [...r.already, ...r.newly, ...r.pending, ...r.failed.map((f) => f.token)]),
          ...refused.map((f) => f.token),
        ]);
        const listed = [...out.already, ...out.newly, ...out.pending, ...out.failed.map((f) => f.token)];
        expect(listed).toHaveLength(mentioned.size); // no token twice
        expect(new Set(listed)).toEqual(mentioned);
        for (const token of mentioned) {
          const word = finalWord(results, refused, token);
          if (word?.kind === 'failed') {
            const f = word.failure as FailedToken;
            expect(out.failed).toContainEqual({ token, reason: f.reason, retryAt: f.retryAt === null ? null : new Date(f.retryAt).toISOString() });
          } else {
            expect(out[word?.kind as Exclude<Kind, 'failed'>]).toContain(token);
          }
        }
      }),
    );
  });

  it('is complete, pending, partial or failed exactly as the tokens final words say', () => {
    fc.assert(
      fc.property(fc.array(anEnsureResult, { maxLength: 3 }), refusedTokens, (results, refused) => {
        const out = subscriptionOutcome(results, refused);
        const tokens = new Set([
          ...results.flatMap((r) => [...r.already, ...r.newly, ...r.pending, ...r.failed.map((f) => f.token)]),
          ...refused.map((f) => f.token),
        ]);
        const words = [...tokens].map((t) => finalWord(results, refused, t)?.kind);
        const active = (k: Kind | undefined) => k === 'already' || k === 'newly';
        expect(out.state === 'complete').toBe(words.every(active));
        expect(out.state === 'pending').toBe(words.every((k) => k !== 'failed') && words.some((k) => k === 'pending'));
        expect(out.state === 'failed').toBe(words.length > 0 && words.every((k) => k === 'failed'));
        expect(out.state === 'partial').toBe(words.some((k) => k === 'failed') && words.some((k) => k !== 'failed'));
      }),
    );
  });

  it('asks again after the soonest hint of any call, or not at all without one', () => {
    fc.assert(
      fc.property(fc.array(anEnsureResult, { maxLength: 3 }), (results) => {
        const hints = results.flatMap((r) => (r.retryAfterMs === null ? [] : [r.retryAfterMs]));
        expect(subscriptionOutcome(results).retry_after_ms).toBe(hints.length === 0 ? null : hints.reduce((a, b) => (b < a ? b : a)));
      }),
    );
  });

  it('keeps a chain index newly subscribed by the first call as newly, and fails the legs refused for capacity', () => {
    const index = ensureResult({ newly: [256265], retryAfterMs: 2_000 });
    const chain = ensureResult({ already: [256265], pending: [101, 102], retryAfterMs: 7_000 });
    const capacity: FailedToken[] = [103, 101].map((token) => ({ token, reason: 'account primary cannot take 3 more instruments', retryAt: null }));
    expect(subscriptionOutcome([index, chain], capacity)).toEqual({
      state: 'partial',
      already: [],
      newly: [256265],
      pending: [101, 102],
      failed: [{ token: 103, reason: 'account primary cannot take 3 more instruments', retryAt: null }],
      retry_after_ms: 2_000,
    });
  });

  it('fails an operator request of unknown tokens only, and says so per token', () => {
    const out = subscriptionOutcome([], [{ token: 999_999_999, reason: 'unknown instrument token', retryAt: null }]);
    expect(out).toEqual({
      state: 'failed',
      already: [],
      newly: [],
      pending: [],
      failed: [{ token: 999_999_999, reason: 'unknown instrument token', retryAt: null }],
      retry_after_ms: null,
    });
  });

  it('reports a request that did not subscribe with empty lists', () => {
    expect(noSubscriptionOutcome('disabled')).toEqual({ state: 'disabled', already: [], newly: [], failed: [], pending: [], retry_after_ms: null });
  });
});
