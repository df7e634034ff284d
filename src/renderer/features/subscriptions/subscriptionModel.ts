// Pure shaping of the subscription list: counts per state, the "failing" bucket (failed and backing off, the way
// Metrics counts failed attempts), sorting by column and grouping by underlying and expiry. Tested without React.
import type { SubscriptionRow, SubscriptionState } from '../../../shared/api';

export type StateBucket = 'all' | 'active' | 'pending' | 'failing' | 'inactive';
export const BUCKETS: StateBucket[] = ['all', 'active', 'pending', 'failing', 'inactive'];

export const bucketOf = (state: SubscriptionState): Exclude<StateBucket, 'all'> => (state === 'failed' || state === 'backing_off' ? 'failing' : state);

export function stateCounts(rows: SubscriptionRow[]): Record<StateBucket, number> {
  const counts: Record<StateBucket, number> = { all: rows.length, active: 0, pending: 0, failing: 0, inactive: 0 };
  for (const row of rows) counts[bucketOf(row.state)] += 1;
  return counts;
}

export const inBucket =
  (bucket: StateBucket) =>
  (row: SubscriptionRow): boolean =>
    bucket === 'all' || bucketOf(row.state) === bucket;

export type SortKey = 'instrument' | 'state' | 'owner' | 'lastTick' | 'attempts';
export interface Sort {
  key: SortKey;
  dir: 'asc' | 'desc';
}

/** Chain order: underlying, expiry, strike, CE before PE; indices and futures first. */
export const byInstrument = (a: SubscriptionRow, b: SubscriptionRow): number =>
  (a.symbol ?? a.tradingsymbol).localeCompare(b.symbol ?? b.tradingsymbol) ||
  (a.expiry ?? '').localeCompare(b.expiry ?? '') ||
  (a.strike ?? 0) - (b.strike ?? 0) ||
  (a.type ?? '').localeCompare(b.type ?? '') ||
  a.token - b.token;

const STATE_ORDER: Record<SubscriptionState, number> = { failed: 0, backing_off: 1, pending: 2, active: 3, inactive: 4 };

/** Age of the last tick at `now`; a row that never ticked sorts as the oldest. */
const tickAge = (row: SubscriptionRow, now: number): number =>
  row.lastTickAt ? now - Date.parse(row.lastTickAt) : (row.lastTickAgeMs ?? Number.POSITIVE_INFINITY);

export function sortRows(rows: SubscriptionRow[], sort: Sort, now: number): SubscriptionRow[] {
  const compare: Record<SortKey, (a: SubscriptionRow, b: SubscriptionRow) => number> = {
    instrument: byInstrument,
    state: (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || byInstrument(a, b),
    owner: (a, b) => a.owners.join(',').localeCompare(b.owners.join(',')) || byInstrument(a, b),
    lastTick: (a, b) => {
      const x = tickAge(a, now);
      const y = tickAge(b, now);
      return x === y ? byInstrument(a, b) : x < y ? -1 : 1;
    },
    attempts: (a, b) => a.attempts - b.attempts || byInstrument(a, b),
  };
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => sign * compare[sort.key](a, b));
}

export interface RowGroup {
  key: string;
  /** "NIFTY · 2026-12-01", "NIFTY · no expiry" (index, equity). */
  label: string;
  rows: SubscriptionRow[];
  counts: Record<StateBucket, number>;
}

/** Groups by underlying and expiry, in the order the sorted rows first name them. */
export function groupRows(rows: SubscriptionRow[]): RowGroup[] {
  const groups = new Map<string, RowGroup>();
  for (const row of rows) {
    const underlying = row.symbol ?? row.tradingsymbol;
    const key = `${underlying}|${row.expiry ?? ''}`;
    let group = groups.get(key);
    if (!group) {
      group = { key, label: `${underlying} · ${row.expiry ?? 'no expiry'}`, rows: [], counts: { all: 0, active: 0, pending: 0, failing: 0, inactive: 0 } };
      groups.set(key, group);
    }
    group.rows.push(row);
  }
  for (const group of groups.values()) group.counts = stateCounts(group.rows);
  return [...groups.values()];
}

/** Splits the manual-subscribe box into tokens and tradingsymbols ("13660418, NIFTY26D0126000CE"). */
export function parseInstruments(text: string): { tokens: number[]; symbols: string[] } | null {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) return null;
  const tokens: number[] = [];
  const symbols: string[] = [];
  for (const part of parts) {
    if (/^\d+$/.test(part)) {
      const n = Number(part);
      if (!Number.isSafeInteger(n) || n <= 0) return null;
      tokens.push(n);
    } else if (/^[A-Z0-9&_-]{2,40}$/i.test(part)) symbols.push(part.toUpperCase());
    else return null;
  }
  return { tokens: [...new Set(tokens)], symbols: [...new Set(symbols)] };
}
