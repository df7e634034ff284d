// Coordination between consoles sharing one Postgres. Postgres is the engine: no home-made cluster protocol.
// - Claims (table backfill_claims): which console is backfilling an instrument, so an immediate job for a token
//   another console already has queued or running is not duplicated. A claim lives while its owner refreshes it;
//   a crashed console's claims expire. An immediate claim may take over a scheduled one (it runs sooner there).
// - Leadership of scheduled cycles: pg_try_advisory_xact_lock held by a transaction for the whole cycle, so a
//   console that dies releases it with its connection. PGlite is single-process: always the leader.
import type { MarketDb } from '../market/db';

/** Advisory lock key of the scheduled backfill cycle (the migration lock is 727_001). */
export const SCHEDULED_CYCLE_LOCK = 727_005;

export interface ClaimHolder {
  token: number;
  owner: string;
  jobId: number;
}

export class ClaimStore {
  constructor(
    private readonly db: MarketDb,
    /** This console's stable id. */
    readonly owner: string,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /** Claims the tokens for a local job; returns the tokens now held by this console. */
  async claim(tokens: readonly number[], jobId: number, priority: 0 | 1): Promise<Set<number>> {
    if (tokens.length === 0) return new Set();
    const rows = await this.db.query<{ token: number }>(
      `INSERT INTO backfill_claims AS c (token, owner, job_id, priority, expires_at)
       SELECT t, $2, $3, $4, now() + $5 * interval '1 millisecond' FROM unnest($1::int8[]) AS t
       ON CONFLICT (token) DO UPDATE SET owner = EXCLUDED.owner, job_id = EXCLUDED.job_id, priority = EXCLUDED.priority,
         claimed_at = now(), expires_at = EXCLUDED.expires_at
       WHERE c.expires_at < now() OR c.owner = EXCLUDED.owner OR c.priority > EXCLUDED.priority
       RETURNING token`,
      [tokens, this.owner, jobId, priority, this.ttlMs],
    );
    return new Set(rows.map((r) => Number(r.token)));
  }

  /** Live claims of other consoles on these tokens. */
  async heldElsewhere(tokens: readonly number[]): Promise<ClaimHolder[]> {
    if (tokens.length === 0) return [];
    const rows = await this.db.query<{ token: number; owner: string; job_id: number }>(
      'SELECT token, owner, job_id FROM backfill_claims WHERE token = ANY($1::int8[]) AND owner <> $2 AND expires_at >= now()',
      [tokens, this.owner],
    );
    return rows.map((r) => ({ token: Number(r.token), owner: r.owner, jobId: Number(r.job_id) }));
  }

  /** Keeps the claims of these local jobs alive. */
  async refresh(jobIds: readonly number[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.db.query(`UPDATE backfill_claims SET expires_at = now() + $3 * interval '1 millisecond' WHERE owner = $1 AND job_id = ANY($2::int4[])`, [
      this.owner,
      jobIds,
      this.ttlMs,
    ]);
  }

  async release(jobId: number): Promise<void> {
    await this.db.query('DELETE FROM backfill_claims WHERE owner = $1 AND job_id = $2', [this.owner, jobId]);
  }
}

/**
 * Runs `fn` only if this console leads scheduled cycles now. On Postgres the lock is a transaction-level advisory
 * lock on a connection of its own, held until `fn` settles; `fn` does its work on other connections.
 */
export async function withLeadership<T>(db: MarketDb, fn: () => Promise<T>): Promise<{ led: true; value: T } | { led: false }> {
  if (db.backend === 'pglite') return { led: true, value: await fn() };
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [SCHEDULED_CYCLE_LOCK]);
    if (!row?.got) return { led: false as const };
    return { led: true as const, value: await fn() };
  });
}
