// The ticker's and Kite's budgets shared by every console on one PostgreSQL (docs/architecture.md: several consoles,
// one store). Without it each console's RateLimiter spends the whole budget on its own: three consoles send Kite
// 9 history calls a second and the service 90 POSTs a minute, and collect 429s and "Too many requests".
//
// Why PostgreSQL and not Redis. Consoles share a budget exactly when they share a market store (DATABASE_URL): that
// is the one thing every console of a deployment is guaranteed to reach. REDIS_URL is only the feed transport, may
// be set on some consoles and not others, and a budget kept in Redis would split as soon as one console lacks it.
// One backend means one code path to test. The cost is small: one short statement per grant (bench:multi: p50
// 0.55-1 ms, p95 1.4-12 ms on a loopback server of a busy 2-core machine), against budgets of 3/s and 30/min.
//
// Why a sliding grant log and not fixed windows. The service (slowapi) opens its 1-minute window at the first hit,
// and Kite's 3/s has no alignment we can see, so a client-side fixed window aligned anywhere else lets 2N through
// in one of the service's windows (N at the end of ours, N at the start of the next). The log keeps "at most N in
// every window of windowMs+skew", which covers any alignment, as the in-memory limiter does.
//
// Why one row per budget with INSERT .. ON CONFLICT .. DO UPDATE .. WHERE. The statement locks the budget's row and
// evaluates its WHERE (hold over, fewer than N grants left in the window) on the latest committed version, so two
// consoles can never both take the last grant, with no explicit transaction and no advisory lock held over a round
// trip. The grant time is read with clock_timestamp() after the row lock is taken, so a grant that waited for the
// lock is logged at the time it really happened. Time is the database's clock throughout: consoles on machines with
// different clocks still agree, and answers carry durations (wait, hold, ages), never absolute times, across the wire.
//
// What it does not give: FIFO across consoles (each console's queue is FIFO; between consoles the first to ask after
// a slot frees wins), and a refund by another console is seen at the next re-check (at most SHARED_RECHECK_MS).
import type { Queryable } from '../market/db';

/** What the shared store answered to one attempt. All times are durations, so no clock is compared across machines. */
export interface SharedGrantAnswer {
  granted: boolean;
  /** Identifies the grant for refund (the database's grant time, epoch ms); null when not granted. */
  grantId: number | null;
  /** Not granted: how long until the earliest moment a grant could be possible (a hint; the store decides). */
  waitMs: number;
  /** How long the budget is still held after a 429 (0 when not held). */
  heldMs: number;
  /** Ages (ms) of every grant in the window, this console's and the others', as of the answer. */
  ages: number[];
}

/** A store holding budgets for several consoles. Every method may throw: the caller falls back to its local limiter. */
export interface SharedBudget {
  /** Shown in health: which store holds the budgets. */
  readonly backend: string;
  tryGrant(bucket: string, limit: number, windowMs: number): Promise<SharedGrantAnswer>;
  refund(bucket: string, grantId: number): Promise<void>;
  /**
   * Moves a grant to now (the store's now) and returns its new id: for a grant whose answer came back late, so the
   * log holds the time the request really leaves. Moving a grant later never lets more through.
   */
  restamp(bucket: string, grantId: number): Promise<number>;
  /** Holds the budget for every console for `holdMs` from now (the database's now). */
  penalize(bucket: string, holdMs: number): Promise<void>;
  /** The remaining shared hold, in ms (0 when not held). */
  heldMs(bucket: string): Promise<number>;
  /** Forgets idle keyed budgets (DELETE per token path) older than `idleMs`. */
  sweep(idleMs: number): Promise<number>;
}

const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

// $1 bucket, $2 limit, $3 window (ms). The first branch is the grant (a row when granted), the second reads the row
// as it was when the statement began, to say how long to wait when not granted (a hint: the next attempt decides).
const GRANT_SQL = `
  WITH granted AS (
    INSERT INTO ticker_rate_budget AS b (bucket, grants, held_until, updated_at)
    VALUES ($1, ARRAY[${NOW_MS}], 0, now())
    ON CONFLICT (bucket) DO UPDATE
      SET grants = ARRAY(SELECT g FROM unnest(b.grants) AS g WHERE g > ${NOW_MS} - $3::bigint) || ${NOW_MS},
          updated_at = now()
      WHERE b.held_until <= ${NOW_MS}
        AND (SELECT count(*) FROM unnest(b.grants) AS g WHERE g > ${NOW_MS} - $3::bigint) < $2::int
    RETURNING b.grants, b.held_until
  )
  SELECT true AS granted, grants, held_until, ${NOW_MS} AS now FROM granted
  UNION ALL
  SELECT false, b.grants, b.held_until, ${NOW_MS} FROM ticker_rate_budget b
   WHERE b.bucket = $1 AND NOT EXISTS (SELECT 1 FROM granted)`;

// Gives back one grant (the first with that time: two grants in the same millisecond are interchangeable).
const REFUND_SQL = `
  UPDATE ticker_rate_budget
     SET grants = grants[:array_position(grants, $2::bigint) - 1] || grants[array_position(grants, $2::bigint) + 1:],
         updated_at = now()
   WHERE bucket = $1 AND array_position(grants, $2::bigint) IS NOT NULL`;

const RESTAMP_SQL = `
  UPDATE ticker_rate_budget
     SET grants = grants[:array_position(grants, $2::bigint) - 1] || grants[array_position(grants, $2::bigint) + 1:] || ${NOW_MS},
         updated_at = now()
   WHERE bucket = $1 AND array_position(grants, $2::bigint) IS NOT NULL
  RETURNING grants[cardinality(grants)] AS id`;

const PENALIZE_SQL = `
  INSERT INTO ticker_rate_budget AS b (bucket, grants, held_until, updated_at)
  VALUES ($1, '{}', ${NOW_MS} + $2::bigint, now())
  ON CONFLICT (bucket) DO UPDATE SET held_until = GREATEST(b.held_until, EXCLUDED.held_until), updated_at = now()`;

const HELD_SQL = `SELECT GREATEST(0, held_until - ${NOW_MS}) AS held FROM ticker_rate_budget WHERE bucket = $1`;

const SWEEP_SQL = `
  DELETE FROM ticker_rate_budget
   WHERE bucket LIKE $1 AND held_until < ${NOW_MS} AND updated_at < now() - make_interval(secs => $2::double precision / 1000)`;

interface GrantRow {
  granted: boolean;
  grants: (number | string)[];
  held_until: number;
  now: number;
}

/** Earliest wait (ms from now) until fewer than `limit` of the grants (ages) lie in the window. */
export function waitForSlot(ages: number[], limit: number, windowMs: number): number {
  const inWindow = ages.filter((a) => a < windowMs).sort((x, y) => x - y);
  if (inWindow.length < limit) return 0;
  // The limit-th youngest grant must leave the window first.
  return windowMs - inWindow[limit - 1];
}

export class PostgresBudget implements SharedBudget {
  readonly backend = 'postgres';

  /**
   * @param db the market store (PostgreSQL)
   * @param scope names the budgets' owner in the table (the console uses 'ticker': every console of one market store
   *   works for one ticker service); tests and benchmarks use their own scopes to stay apart.
   */
  constructor(
    private readonly db: Queryable,
    private readonly scope: string,
  ) {}

  private key(bucket: string): string {
    return `${this.scope}|${bucket}`;
  }

  async tryGrant(bucket: string, limit: number, windowMs: number): Promise<SharedGrantAnswer> {
    const rows = await this.db.query<GrantRow>(GRANT_SQL, [this.key(bucket), limit, windowMs]);
    const row = rows[0];
    // No row at all cannot happen (the insert creates it); a store that answers nothing is treated as failing.
    if (!row) throw new Error('shared budget: no answer from ticker_rate_budget');
    const now = Number(row.now);
    const grants = row.grants.map(Number);
    const ages = grants.map((g) => Math.max(0, now - g)).filter((a) => a < windowMs);
    const heldMs = Math.max(0, Number(row.held_until) - now);
    if (row.granted) return { granted: true, grantId: grants[grants.length - 1], waitMs: 0, heldMs: 0, ages };
    return { granted: false, grantId: null, waitMs: Math.max(heldMs, waitForSlot(ages, limit, windowMs)), heldMs, ages };
  }

  async refund(bucket: string, grantId: number): Promise<void> {
    await this.db.query(REFUND_SQL, [this.key(bucket), grantId]);
  }

  async restamp(bucket: string, grantId: number): Promise<number> {
    const rows = await this.db.query<{ id: number }>(RESTAMP_SQL, [this.key(bucket), grantId]);
    return rows[0] ? Number(rows[0].id) : grantId;
  }

  async penalize(bucket: string, holdMs: number): Promise<void> {
    await this.db.query(PENALIZE_SQL, [this.key(bucket), Math.max(0, Math.round(holdMs))]);
  }

  async heldMs(bucket: string): Promise<number> {
    const rows = await this.db.query<{ held: number }>(HELD_SQL, [this.key(bucket)]);
    return Number(rows[0]?.held ?? 0);
  }

  async sweep(idleMs: number): Promise<number> {
    const rows = await this.db.query<{ bucket: string }>(`${SWEEP_SQL} RETURNING bucket`, [`${escapeLike(this.scope)}|delete:%`, idleMs]);
    return rows.length;
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
