// Budgets shared by several consoles on a real PostgreSQL 15 (DATABASE_URL, or a throwaway cluster): two limiters,
// each with its own connection pool like two consoles, never grant more than the budget together in any window;
// a 429 hold set by one holds the other; a refund by one frees a grant for the other; a dead store falls back to
// the local limiter (logged, shown by sharing()) and the store is used again once it answers.
import fc from 'fast-check';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../log';
import { openMarketDb, type MarketDb } from '../market/db';
import { migrateMarket } from '../market/migrate';
import { MARKET_MIGRATIONS } from '../market/migrations';
import { startTestPostgres, type TestPostgres } from '../registry/testing/postgres';
import { RateLimiter, type BucketLimit, type TickerBucket } from './limiter';
import { PostgresBudget, waitForSlot, type SharedBudget, type SharedGrantAnswer } from './shared-budget';
import { realScheduler } from '../../shared/clock';

let pgCluster: TestPostgres;
let dbUrl: string;
const pools: MarketDb[] = [];
let run = 0;

beforeAll(async () => {
  pgCluster = await startTestPostgres();
  dbUrl = await pgCluster.database();
  const db = await openMarketDb({ databaseUrl: dbUrl, poolSize: 2 });
  await migrateMarket(db);
  await db.close();
}, 120_000);

afterAll(async () => {
  for (const db of pools) await db.close().catch(() => undefined);
  await pgCluster?.stop();
});

/** A console's own pool on the shared database. */
async function consoleDb(): Promise<MarketDb> {
  const db = await openMarketDb({ databaseUrl: dbUrl, poolSize: 2 });
  pools.push(db);
  return db;
}

/** Records what the store granted (the database's grant times), to check the budget independently of the limiter. */
class Observed implements SharedBudget {
  readonly backend = 'postgres';
  readonly granted: number[] = [];
  readonly refunded: number[] = [];
  constructor(private readonly inner: PostgresBudget) {}
  async tryGrant(bucket: string, limit: number, windowMs: number): Promise<SharedGrantAnswer> {
    const a = await this.inner.tryGrant(bucket, limit, windowMs);
    if (a.granted && a.grantId !== null) this.granted.push(a.grantId);
    if (this.answerDelayMs) await new Promise((r) => setTimeout(r, this.answerDelayMs));
    return a;
  }
  async refund(bucket: string, grantId: number): Promise<void> {
    this.refunded.push(grantId);
    await this.inner.refund(bucket, grantId);
  }
  /** Answers arrive this much later than the store made them (a busy console), to exercise restamp. */
  answerDelayMs = 0;
  readonly restamped: [number, number][] = [];
  async restamp(bucket: string, grantId: number): Promise<number> {
    const id = await this.inner.restamp(bucket, grantId);
    this.restamped.push([grantId, id]);
    return id;
  }
  penalize = (bucket: string, holdMs: number) => this.inner.penalize(bucket, holdMs);
  heldMs = (bucket: string) => this.inner.heldMs(bucket);
  sweep = (idleMs: number) => this.inner.sweep(idleMs);
}

function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

function multiset(minus: number[], from: number[]): number[] {
  const out = [...from];
  for (const m of minus) {
    const i = out.indexOf(m);
    if (i >= 0) out.splice(i, 1);
  }
  return out;
}

/** Wire allowance in these tests: an answer slower than this is restamped. */
const SKEW = 20;
const HISTORY: Partial<Record<TickerBucket, BucketLimit>> = { history: { limit: 2, windowMs: 250 }, create: { limit: 2, windowMs: 4_000 } };

async function sharedPair(scope: string, limits = HISTORY, logger?: Logger) {
  const stores = [new Observed(new PostgresBudget(await consoleDb(), scope)), new Observed(new PostgresBudget(await consoleDb(), scope))];
  const limiters = stores.map((store) => new RateLimiter(realScheduler(), limits, SKEW, { store, logger }));
  return { stores, limiters };
}

describe('waitForSlot', () => {
  it('is the time until the limit-th youngest grant leaves the window', () => {
    expect(waitForSlot([], 3, 1000)).toBe(0);
    expect(waitForSlot([100, 900], 3, 1000)).toBe(0);
    expect(waitForSlot([900, 100, 500], 3, 1000)).toBe(100);
    expect(waitForSlot([100, 500, 900, 1200], 3, 1000)).toBe(100); // 1200 is outside the window already
  });
});

describe('RateLimiter sharing a budget through PostgreSQL', () => {
  it('two consoles never grant more than the budget in any window together, over interleavings with aborts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ who: fc.integer({ min: 0, max: 1 }), delayMs: fc.integer({ min: 0, max: 60 }), abort: fc.boolean() }), {
          minLength: 3,
          maxLength: 9,
        }),
        async (plan) => {
          const { stores, limiters } = await sharedPair(`interleave-${run++}`);
          const granted: number[] = [];
          const pending: Promise<unknown>[] = [];
          for (const step of plan) {
            await new Promise((r) => setTimeout(r, step.delayMs));
            const abort = new AbortController();
            const p = limiters[step.who].acquire('history', abort.signal).then(
              (t) => granted.push(t),
              () => undefined,
            );
            if (step.abort) abort.abort();
            pending.push(p);
          }
          await Promise.all(pending);
          // Every request not aborted got its grant.
          expect(granted.length).toBe(plan.filter((s) => !s.abort).length);
          // The store's log (database clock) never holds more than 2 in 250 ms, refunds of abandoned grants removed.
          const restampedFrom = stores.flatMap((s) => s.restamped.map(([from]) => from));
          const restampedTo = stores.flatMap((s) => s.restamped.map(([, to]) => to));
          const dbGrants = multiset([...stores.flatMap((s) => s.refunded), ...restampedFrom], [...stores.flatMap((s) => s.granted), ...restampedTo]);
          expect(maxInWindow(dbGrants, 250)).toBeLessThanOrEqual(2);
          expect(dbGrants.length).toBe(granted.length);
          // And as the consoles saw it (one machine, one clock), allowing 100 ms for the answer's way back on a busy
          // machine (without sharing, the same plan grants 4 at once: see the next test).
          expect(maxInWindow(granted, 150)).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);

  it('a grant whose answer came back late is moved to the time it is used, and the budget still holds', async () => {
    const { stores, limiters } = await sharedPair(`restamp-${run++}`);
    stores[0].answerDelayMs = 60; // console 0 is busy: its answers take 60 ms (> the 20 ms allowance) to be read
    const granted: number[] = [];
    await Promise.all([0, 1, 0, 1, 0, 1].map((w) => limiters[w].acquire('history').then((t) => granted.push(t))));
    expect(stores[0].restamped.length).toBeGreaterThanOrEqual(3);
    for (const [from, to] of stores[0].restamped) expect(to).toBeGreaterThanOrEqual(from + 50);
    expect(limiters[0].sharing().restamped).toBe(stores[0].restamped.length);
    // (console 1 may restamp too when this machine is busy: its answers then also take longer than 20 ms)
    const dbGrants = multiset(
      stores.flatMap((s) => s.restamped.map(([from]) => from)),
      [...stores.flatMap((s) => s.granted), ...stores.flatMap((s) => s.restamped.map(([, to]) => to))],
    );
    expect(dbGrants).toHaveLength(6);
    expect(maxInWindow(dbGrants, 250)).toBeLessThanOrEqual(2);
    expect(maxInWindow(granted, 150)).toBeLessThanOrEqual(2);
  });

  it('without the shared store the same two consoles overrun the budget (the check above can fail)', async () => {
    const limiters = [0, 1].map(() => new RateLimiter(realScheduler(), HISTORY, 0));
    const granted = await Promise.all([0, 1, 0, 1].map((w) => limiters[w].acquire('history')));
    expect(maxInWindow(granted, 150)).toBe(4);
  });

  it('a 429 seen by one console holds the bucket for the other', async () => {
    const { limiters } = await sharedPair(`penalty-${run++}`);
    const [a, b] = limiters;
    const t0 = Date.now();
    a.penalize('create', t0 + 800);
    await expect.poll(() => b.heldUntilShared('create'), { timeout: 2_000 }).not.toBeNull();
    const grantedAt = await b.acquire('create');
    expect(grantedAt - t0).toBeGreaterThanOrEqual(780);
    expect(b.sharing().mode).toBe('shared');
  });

  it('a refund by one console frees the grant for the other long before the window ends', async () => {
    const { stores, limiters } = await sharedPair(`refund-${run++}`);
    const [a, b] = limiters;
    const first = await a.acquire('create');
    await a.acquire('create');
    let bAt = null as number | null;
    void b.acquire('create').then((t) => (bAt = t));
    // b is refused while both grants stand (the store answered it at least once).
    await expect.poll(() => b.view().find((v) => v.bucket === 'create')?.usedInWindow, { timeout: 2_000 }).toBe(2);
    expect(bAt).toBeNull();
    a.refund('create', first);
    await vi.waitFor(() => expect(bAt).not.toBeNull(), { timeout: 2_500 });
    expect((bAt ?? Infinity) - first).toBeLessThan(3_000); // the window is 4 s
    expect(stores[0].refunded).toHaveLength(1);
    // b's estimate counts a's remaining grant with its own (as of b's last answer from the store): the budget is
    // spent, so the next POST waits for a's second grant to leave the window, not 0.
    expect(b.view().find((v) => v.bucket === 'create')?.usedInWindow).toBe(2);
    expect(b.estimateWaitMs('create')).toBeGreaterThan(1_000);
  });

  it('DELETE budgets are per token path in the shared store too', async () => {
    const limits = { delete: { limit: 1, windowMs: 3_000 } };
    const { limiters } = await sharedPair(`delete-${run++}`, limits);
    const [a, b] = limiters;
    const t0 = await a.acquire('delete', undefined, '5');
    const other = await b.acquire('delete', undefined, '6');
    expect(other - t0).toBeLessThan(1_000);
    const same = await b.acquire('delete', undefined, '5');
    expect(same - t0).toBeGreaterThanOrEqual(2_900);
  }, 10_000);

  it('falls back to its own budgets when the store is dead, says so, and keeps limiting', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { default: pg } = await import('pg');
    const dead = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/none`, connectionTimeoutMillis: 500 });
    dead.on('error', () => undefined);
    const warnings: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => warnings.push(msg), info: () => undefined } as unknown as Logger;
    const store = new PostgresBudget({ query: async (sql, params) => (await dead.query(sql, params)).rows, exec: async () => undefined }, 'dead');
    const limiter = new RateLimiter(realScheduler(), HISTORY, 0, { store, logger });
    const t0 = Date.now();
    const granted = await Promise.all([limiter.acquire('history'), limiter.acquire('history'), limiter.acquire('history')]);
    expect(granted[2] - t0).toBeGreaterThanOrEqual(240); // still 2 per 250 ms, locally
    const sharing = limiter.sharing();
    expect(sharing.mode).toBe('fallback');
    expect(sharing.error).toMatch(/ECONNREFUSED|connect/i);
    expect(warnings).toEqual(['shared rate budget failed: this console keeps its own budgets until the store answers again']);
    await dead.end();
  });

  it('uses the store again once it answers (the table dropped, then restored)', async () => {
    const db = await consoleDb();
    const store = new PostgresBudget(db, `recover-${run++}`);
    const limiter = new RateLimiter(realScheduler(), HISTORY, 0, { store, retryMs: 100 });
    await db.exec('ALTER TABLE ticker_rate_budget RENAME TO ticker_rate_budget_away');
    try {
      await limiter.acquire('history');
      expect(limiter.sharing().mode).toBe('fallback');
      expect(limiter.sharing().error).toMatch(/ticker_rate_budget/);
    } finally {
      await db.exec('ALTER TABLE ticker_rate_budget_away RENAME TO ticker_rate_budget');
    }
    await vi.waitFor(async () => {
      await limiter.acquire('history');
      expect(limiter.sharing().mode).toBe('shared');
    });
    expect(MARKET_MIGRATIONS.some((m) => m.up.includes('ticker_rate_budget'))).toBe(true);
  });
});
