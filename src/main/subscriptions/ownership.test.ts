// Ownership over a real SQLite state file: who keeps a token wanted, when an auto owner lapses (with one idle period
// of grace after a start), what a listing says about rows somebody else made, and that ours are never called external.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from '../state/store';
import type { TickerSubscription } from '../ticker/types';
import { Ownership } from './ownership';
import type { ActiveSnapshot } from './snapshot';
import { SubscriptionStateStore } from './store';

const T0 = Date.UTC(2025, 10, 4, 5, 30);
const IDLE_MS = 30 * 60_000;

let state: StateStore;
let statePath: string;
let store: SubscriptionStateStore;
let owners: Ownership;

function listing(tokens: number[]): ActiveSnapshot {
  return {
    tokens: new Set(tokens),
    rows: new Map(
      tokens.map((token): [number, TickerSubscription] => [
        token,
        {
          instrument_token: token,
          tradingsymbol: String(token),
          segment: 'NFO-OPT',
          status: 'active',
          requested_mode: 'FULL',
          account_id: null,
          created_at: '',
          updated_at: '',
        },
      ]),
    ),
    takenAt: T0,
    unconfirmed: new Set(),
  };
}

beforeEach(() => {
  statePath = join(mkdtempSync(join(tmpdir(), 'sd-owners-')), 'state.db');
  state = new StateStore(statePath);
  state.migrate();
  store = new SubscriptionStateStore(state);
  owners = new Ownership({ store, idleMs: () => IDLE_MS, startedAt: T0 });
});

afterEach(() => {
  state.close();
});

describe('Ownership', () => {
  it('keeps a token wanted while an auto owner asked within the idle TTL, and for good with a manual owner', () => {
    const asked = T0 + 60 * 60_000;
    store.touchOwner(1, 'auto:NIFTY 2025-11-25', asked);
    store.touchOwner(2, 'auto:NIFTY 2025-11-25', asked);
    store.touchOwner(2, 'manual', asked);
    expect(owners.wanted(1, asked + IDLE_MS - 1)).toBe(true);
    expect(owners.wanted(1, asked + IDLE_MS)).toBe(false);
    expect(owners.wanted(2, asked + 10 * IDLE_MS)).toBe(true);
    expect(owners.wanted(3, asked)).toBe(false); // nobody ever asked
  });

  it('gives every auto owner one idle period of grace after a start, then lets idle ones lapse (and they stay lapsed after a restart)', () => {
    // Asked long before this start: the owner was restored from the state file.
    store.touchOwner(1, 'auto:BANKNIFTY 2025-11-25', T0 - 5 * IDLE_MS);
    store.touchOwner(1, 'external', T0 - 5 * IDLE_MS);
    store.touchOwner(2, 'auto:BANKNIFTY 2025-11-25', T0 - 5 * IDLE_MS);
    expect(owners.wanted(2, T0 + IDLE_MS - 1)).toBe(true);

    owners.lapseIdleOwners(T0 + IDLE_MS - 1);
    expect([...store.ownersOf(2).keys()]).toEqual(['auto:BANKNIFTY 2025-11-25']);
    owners.lapseIdleOwners(T0 + IDLE_MS);
    expect([...store.ownersOf(1).keys()]).toEqual(['external']);
    expect(store.ownersOf(2).size).toBe(0);

    const reopened = new SubscriptionStateStore(state);
    expect([...reopened.ownersOf(1).keys()]).toEqual(['external']);
    expect(reopened.ownersOf(2).size).toBe(0);
  });

  it('marks listed rows nobody here made as external, never ours or ones being subscribed, and drops external owners of rows gone', () => {
    store.update(10, { createdByUs: true, subscribedAt: T0 }, T0);
    store.touchOwner(30, 'external', T0);
    owners.followListing(listing([10, 11, 12]), (token) => token === 12, T0);
    expect(store.ownersOf(10).has('external')).toBe(false);
    expect(store.ownersOf(11).has('external')).toBe(true);
    expect(store.ownersOf(12).has('external')).toBe(false);
    expect(store.ownersOf(30).size).toBe(0); // not listed any more

    owners.noteExternal(10, T0);
    owners.noteExternal(40, T0);
    expect(store.ownersOf(10).has('external')).toBe(false);
    expect(store.ownersOf(40).has('external')).toBe(true);
  });

  it('releases only an unwanted row Strikedesk made that is still active; forgets the rest', () => {
    const ours = store.update(1, { createdByUs: true }, T0);
    const theirs = store.update(2, { createdByUs: false }, T0);
    expect(owners.unwanted(ours, true)).toBe('release');
    expect(owners.unwanted(ours, false)).toBe('forget');
    expect(owners.unwanted(theirs, true)).toBe('forget');
  });
});
