import { describe, expect, it } from 'vitest';
import { isAffectedBy, queryKey } from './keys';

describe('push topics to query keys', () => {
  it('a domain topic refreshes every query of that domain only', () => {
    const event = { topic: 'backfill:changed' as const };
    expect(isAffectedBy(event, queryKey('backfill:jobs', { state: 'all' }))).toBe(true);
    expect(isAffectedBy(event, queryKey('backfill:coverage', { symbol: 'NIFTY', expiry: '2025-11-25' }))).toBe(true);
    expect(isAffectedBy(event, queryKey('flags:list', {}))).toBe(false);
  });

  it('chain:changed with a key refreshes that symbol’s chain only', () => {
    const event = { topic: 'chain:changed' as const, key: 'NIFTY' };
    expect(isAffectedBy(event, queryKey('chain:distribution', { symbol: 'nifty' }))).toBe(true);
    expect(isAffectedBy(event, queryKey('chain:distribution', { symbol: 'BANKNIFTY' }))).toBe(false);
    expect(isAffectedBy(event, queryKey('chain:underlyings', {}))).toBe(false);
    expect(isAffectedBy({ topic: 'chain:changed' }, queryKey('chain:underlyings', {}))).toBe(true);
  });
});
