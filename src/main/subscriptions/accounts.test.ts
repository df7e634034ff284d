// The real service's subscription rows, as its own example answers show them (fixtures/ticker-service), through the
// manager's whole cycle: `account_id` null or "" (Strikedesk's own rows), foreign rows of the service's strike
// rebalancer (account 'primary'), a paging pass that skips one row and repeats another, and the 9000-per-account
// capacity. The ticker here is an in-memory table behind the TickerClient interface (the socket is what is faked:
// listing, POST and DELETE act on the table as the service's upserts do); the manager, its SQLite state, the snapshot
// and the views are real. Over HTTP the same rows are covered by the devticker's production profile tests.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../shared/result';
import { fromIstWallClock } from '../calendar';
import { FlagService } from '../flags/flags';
import { DataSignals } from '../market/data-signals';
import { StateStore } from '../state/store';
import { FakeScheduler } from '../../testing/clock';
import { TickerError, type TickerClient, type TickerSubscription } from '../ticker/types';
import { SubscriptionManager } from './manager';
import { capacityView, subscriptionRows } from './views';

const T0 = fromIstWallClock('2025-11-04T11:00:00');
const IDLE_MS = 30 * 60_000;
const fixtureRows = JSON.parse(readFileSync(join(process.cwd(), 'fixtures/ticker-service/subscriptions-list.json'), 'utf8')) as TickerSubscription[];
const [NULL_ACCOUNT, EMPTY_ACCOUNT, REBALANCER, INACTIVE] = fixtureRows.map((r) => r.instrument_token);

/** The service's table behind the TickerClient surface: upserts, null accounts, unordered listings. */
class TableTicker implements TickerClient {
  readonly baseUrl = 'table:';
  readonly table = new Map<number, TickerSubscription>();
  readonly posts: number[] = [];
  readonly deletes: number[] = [];
  /** Rewrites the next listing once (a paging pass that skips or repeats rows). */
  nextListing: ((rows: TickerSubscription[]) => TickerSubscription[]) | null = null;
  failNextPost = false;

  constructor(
    rows: TickerSubscription[],
    private readonly now: () => number,
  ) {
    for (const row of rows) this.table.set(row.instrument_token, { ...row });
  }

  add(token: number, accountId: string | null): void {
    const ts = new Date(this.now()).toISOString().replace('Z', '000Z');
    this.table.set(token, {
      instrument_token: token,
      tradingsymbol: `T${token}`,
      segment: 'NFO-OPT',
      status: 'active',
      requested_mode: 'FULL',
      account_id: accountId,
      created_at: ts,
      updated_at: ts,
    });
  }

  async health() {
    return { status: 'ok' };
  }
  async listSubscriptions() {
    return this.listAllSubscriptions();
  }
  async listAllSubscriptions(): Promise<TickerSubscription[]> {
    let rows = [...this.table.values()].filter((r) => r.status === 'active').map((r) => ({ ...r }));
    if (this.nextListing) {
      rows = this.nextListing(rows);
      this.nextListing = null;
    }
    return rows;
  }
  async subscribe(token: number): Promise<TickerSubscription> {
    this.posts.push(token);
    if (this.failNextPost) {
      this.failNextPost = false;
      throw new TickerError('server', 'POST /subscriptions -> 500: boom', 500, 'subscriptions.create');
    }
    const existing = this.table.get(token);
    if (existing) Object.assign(existing, { status: 'active', updated_at: new Date(this.now()).toISOString() });
    else this.add(token, null); // no account_id in the body: the service answers null
    return { ...(this.table.get(token) as TickerSubscription) };
  }
  async unsubscribe(token: number): Promise<TickerSubscription | null> {
    this.deletes.push(token);
    const row = this.table.get(token);
    if (!row) return null;
    row.status = 'inactive';
    return { ...row };
  }
  async history(): Promise<never> {
    throw new Error('not used');
  }
  async close(): Promise<void> {}
}

let time: FakeScheduler;
let ticker: TableTicker;
let state: StateStore;
let manager: SubscriptionManager;
const noRegistry = { byTokens: async () => new Map() };

beforeEach(() => {
  time = new FakeScheduler(T0);
  ticker = new TableTicker(fixtureRows, () => time.now());
  state = new StateStore(join(mkdtempSync(join(tmpdir(), 'sd-accounts-')), 'state.db'));
  state.migrate();
  manager = new SubscriptionManager({
    ticker,
    state,
    flags: new FlagService(state, {}),
    signals: new DataSignals(),
    scheduler: time,
    idleMs: () => IDLE_MS,
    random: () => 0.5,
    maintainEveryMs: 60 * 60_000,
    backoff: { baseMs: 1_000, maxMs: 2_000, refusedBaseMs: 5_000, refusedMaxMs: 10_000 },
  });
  manager.start();
});

afterEach(async () => {
  await manager.stop();
  state.close();
});

/** A probe for expect.poll that first lets the fake scheduler run what is due now (the manager works on fake time). */
const afterFakeTick =
  <T>(read: () => T) =>
  async (): Promise<T> => {
    await time.advance(0);
    return read();
  };

describe('rows without an account', () => {
  it('null and "" accounts survive a full snapshot, subscribe, view and capacity cycle; a 201 with null is success', async () => {
    const snap = await manager.activeSnapshot();
    expect([...snap.tokens].sort()).toEqual([NULL_ACCOUNT, EMPTY_ACCOUNT, REBALANCER].sort());
    expect(snap.tokens.has(INACTIVE)).toBe(false);

    const fresh = 99_000_001;
    ticker.table.delete(fresh);
    const result = await manager.ensureSubscribed([NULL_ACCOUNT, fresh], { waitMs: 0 });
    expect(result.already).toEqual([NULL_ACCOUNT]);
    await expect
      .poll(
        afterFakeTick(() => manager.statusOf(fresh)),
        { message: 'the 201 recorded' },
      )
      .toBe('active');
    expect(ticker.posts).toEqual([fresh]);
    expect(ticker.table.get(fresh)?.account_id).toBeNull();

    // A new listing (null rows in it) and the same request: nothing is POSTed again, nothing is failed.
    manager.invalidateSnapshot();
    const again = await manager.ensureSubscribed([NULL_ACCOUNT, EMPTY_ACCOUNT, fresh], { waitMs: 0 });
    expect(again.failed).toEqual([]);
    expect(again.already.sort()).toEqual([NULL_ACCOUNT, EMPTY_ACCOUNT, fresh].sort());
    expect(ticker.posts).toEqual([fresh]);

    const rows = await subscriptionRows(manager, noRegistry, { state: 'all', limit: 100, now: time.now() });
    const byToken = new Map(rows.map((r) => [r.token, r]));
    expect(rows.every((r) => r.account === 'primary')).toBe(true);
    expect(byToken.get(REBALANCER)).toMatchObject({ state: 'active', owners: ['external'], tradingsymbol: 'NIFTY25NOV25000CE' });
    expect(byToken.get(fresh)).toMatchObject({ state: 'active', owners: ['manual'], failureReason: null });
    // null, "" and 'primary' rows all count against the service's default account.
    expect(capacityView(manager.peekSnapshot()).accounts).toEqual([expect.objectContaining({ account: 'primary', used: 4, limit: 9_000 })]);
  });
});

describe('listings that skip or repeat rows', () => {
  it('a row missing from one listing is kept (and not re-POSTed) until the next listing confirms the removal', async () => {
    await manager.ensureSubscribed([NULL_ACCOUNT, REBALANCER], { owner: 'auto:NIFTY 2025-11-25', waitMs: 0 });
    // Paging moved rows: one skipped, another repeated.
    ticker.nextListing = (rows) => [
      ...rows.filter((r) => r.instrument_token !== NULL_ACCOUNT && r.instrument_token !== REBALANCER),
      ...rows.filter((r) => r.instrument_token === EMPTY_ACCOUNT),
    ];
    manager.invalidateSnapshot();
    const gap = await manager.ensureSubscribed([NULL_ACCOUNT, REBALANCER], { owner: 'auto:NIFTY 2025-11-25', waitMs: 0 });
    expect(gap.already.sort()).toEqual([NULL_ACCOUNT, REBALANCER].sort());
    expect(ticker.posts).toEqual([]);
    expect(manager.peekSnapshot()?.unconfirmed).toEqual(new Set([NULL_ACCOUNT, REBALANCER]));
    expect(manager.peekSnapshot()?.tokens.size).toBe(3);
    expect([...manager.store.ownersOf(REBALANCER).keys()].sort()).toEqual(['auto:NIFTY 2025-11-25', 'external']);

    // The next listing has them: nothing happened. Then the rebalancer really drops its row: two listings to believe it.
    manager.invalidateSnapshot();
    expect((await manager.activeSnapshot()).unconfirmed.size).toBe(0);
    ticker.table.get(REBALANCER)!.status = 'inactive';
    manager.invalidateSnapshot();
    expect((await manager.activeSnapshot()).tokens.has(REBALANCER)).toBe(true);
    expect(manager.statusOf(REBALANCER)).toBe('active');
    manager.invalidateSnapshot();
    expect((await manager.activeSnapshot()).tokens.has(REBALANCER)).toBe(false);
    expect(manager.store.ownersOf(REBALANCER).has('external')).toBe(false);
  });
});

describe('foreign subscriptions', () => {
  it('are never released by the idle release; Strikedesk releases only what it made', async () => {
    const ours = 99_000_002;
    await manager.ensureSubscribed([REBALANCER, NULL_ACCOUNT, ours], { owner: 'auto:NIFTY 2025-11-25', waitMs: 0 });
    await expect
      .poll(
        afterFakeTick(() => manager.statusOf(ours)),
        { message: 'ours subscribed' },
      )
      .toBe('active');
    await time.advance(2 * IDLE_MS + 60_000);
    await manager.maintain();
    await expect
      .poll(
        afterFakeTick(() => ticker.deletes.length),
        { message: 'idle release' },
      )
      .toBe(1);
    await time.advance(60_000);
    await manager.maintain();
    expect(ticker.deletes).toEqual([ours]);
    expect(ticker.table.get(REBALANCER)?.status).toBe('active');
    expect(ticker.table.get(NULL_ACCOUNT)?.status).toBe('active');
    const rows = await subscriptionRows(manager, noRegistry, { state: 'active', limit: 100, now: time.now() });
    expect(rows.map((r) => [r.token, r.owners])).toEqual([NULL_ACCOUNT, EMPTY_ACCOUNT, REBALANCER].sort((a, b) => a - b).map((t) => [t, ['external']]));
  });
});

describe('capacity per account', () => {
  const fill = (n: number, accountId: string | null, from = 50_000_000) => {
    for (let i = 0; i < n; i++) ticker.add(from + i, accountId);
  };

  it('counts null-account rows against the default account and refuses what would cross 9000, saying why', async () => {
    fill(8_996, null); // + the 3 active fixture rows (null, "", primary) = 8999
    const err = await manager.ensureSubscribed([99_000_010, 99_000_011], { waitMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'CAPACITY', details: { account: 'primary', used: 8_999, requested: 2, limit: 9_000 } });
    expect(ticker.posts).toEqual([]);
    await manager.ensureSubscribed([99_000_010], { waitMs: 0 });
    await expect
      .poll(
        afterFakeTick(() => manager.statusOf(99_000_010)),
        { message: 'the last one that fits' },
      )
      .toBe('active');
    expect(ticker.posts).toEqual([99_000_010]);
  });

  it('defers a retry that would cross 9000 after the rebalancer added rows meanwhile', async () => {
    fill(8_000, 'primary');
    ticker.failNextPost = true;
    await manager.ensureSubscribed([99_000_020], { waitMs: 0 });
    await expect
      .poll(
        afterFakeTick(() => manager.statusOf(99_000_020)),
        { message: 'first attempt failed' },
      )
      .toBe('backing_off');
    fill(997, 'primary', 60_000_000); // 8000 + 997 + 3 = 9000
    manager.invalidateSnapshot();
    await manager.activeSnapshot();
    await time.advance(5_000);
    await manager.maintain();
    await expect
      .poll(
        afterFakeTick(() => manager.store.get(99_000_020)?.failureKind),
        { message: 'deferred for capacity' },
      )
      .toBe('capacity');
    expect(ticker.posts).toEqual([99_000_020]);
    expect(manager.store.get(99_000_020)?.failureReason).toMatch(/account primary is at its 9000-instrument capacity \(9000 active\)/);
    expect(manager.statusOf(99_000_020)).toBe('backing_off');
  });
});
