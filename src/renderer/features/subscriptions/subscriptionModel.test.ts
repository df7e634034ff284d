import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SubscriptionRow, SubscriptionState } from '../../../shared/api';
import { byInstrument, groupRows, parseInstruments, sortRows, stateCounts } from './subscriptionModel';

const row = (token: number, over: Partial<SubscriptionRow> = {}): SubscriptionRow => ({
  token,
  tradingsymbol: `NIFTY${token}`,
  symbol: 'NIFTY',
  segment: 'NFO-OPT',
  expiry: '2026-12-01',
  strike: token,
  type: 'CE',
  state: 'active',
  mode: 'full',
  account: 'primary',
  owners: [],
  failureReason: null,
  nextRetryAt: null,
  attempts: 0,
  lastTickAt: null,
  lastTickAgeMs: null,
  createdAt: null,
  ...over,
});

describe('subscription list model', () => {
  it('counts failed and backing-off together as failing, as Metrics counts failed attempts', () => {
    const counts = stateCounts([row(1), row(2, { state: 'failed' }), row(3, { state: 'backing_off' }), row(4, { state: 'pending' })]);
    expect(counts).toEqual({ all: 4, active: 1, pending: 1, failing: 2, inactive: 0 });
  });

  it('sorts by last tick age, never-ticked last, and reverses exactly', () => {
    const now = Date.parse('2026-11-27T09:00:00Z');
    const rows = [row(1, { lastTickAt: '2026-11-27T08:59:00Z' }), row(2), row(3, { lastTickAt: '2026-11-27T08:59:50Z' })];
    expect(sortRows(rows, { key: 'lastTick', dir: 'asc' }, now).map((r) => r.token)).toEqual([3, 1, 2]);
    expect(sortRows(rows, { key: 'lastTick', dir: 'desc' }, now).map((r) => r.token)).toEqual([2, 1, 3]);
  });

  it('sorting is a permutation and ordered by its key (property)', () => {
    const states: SubscriptionState[] = ['active', 'pending', 'failed', 'backing_off', 'inactive'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ token: fc.integer({ min: 1, max: 1e6 }), attempts: fc.integer({ min: 0, max: 9 }), state: fc.constantFrom(...states) }), {
          maxLength: 40,
        }),
        (specs) => {
          const rows = specs.map((s, i) => row(s.token * 100 + i, { attempts: s.attempts, state: s.state }));
          const sorted = sortRows(rows, { key: 'attempts', dir: 'desc' }, 0);
          expect(sorted.map((r) => r.token).sort()).toEqual(rows.map((r) => r.token).sort());
          for (let i = 1; i < sorted.length; i += 1) expect(sorted[i - 1].attempts).toBeGreaterThanOrEqual(sorted[i].attempts);
        },
      ),
    );
  });

  it('groups by underlying and expiry with per-group counts', () => {
    const rows = [
      row(1),
      row(2, { expiry: '2026-12-08', state: 'pending' }),
      row(3),
      row(4, { symbol: 'NIFTY 50', expiry: null, tradingsymbol: 'NIFTY 50' }),
    ].sort(byInstrument);
    const groups = groupRows(rows);
    expect(groups.map((g) => g.label)).toEqual(['NIFTY · 2026-12-01', 'NIFTY · 2026-12-08', 'NIFTY 50 · no expiry']);
    expect(groups[0].rows.map((r) => r.token)).toEqual([1, 3]);
    expect(groups[1].counts.pending).toBe(1);
  });

  it('reads tokens and tradingsymbols from the subscribe box', () => {
    expect(parseInstruments('13660418, nifty26d0126000ce 13660418')).toEqual({ tokens: [13660418], symbols: ['NIFTY26D0126000CE'] });
    expect(parseInstruments('  ')).toBeNull();
    expect(parseInstruments('12;DROP')).toBeNull();
  });
});
