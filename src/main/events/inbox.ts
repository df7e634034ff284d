// The durable inbox: every event is a row BEFORE its sender gets an answer, so a crash after the 202 loses nothing.
// The idempotency key is UNIQUE: the same delivery twice is one row (the repeat is recorded as a 'duplicate' row
// pointing at the original, so operators see it). Webhook signatures are recorded in the same transaction, which
// makes the replay check and the write one atomic step.
import type Database from 'better-sqlite3';
import type { IntakeEvent } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import type { IntakeSource, IntakeType, NormalizedEvent } from './normalize';

export type InboxState = 'queued' | 'processing' | 'done' | 'failed' | 'duplicate';

export interface InboxRow {
  id: number;
  idempotency_key: string | null;
  source: IntakeSource;
  type: IntakeType;
  raw_type: string;
  token: number;
  tradingsymbol: string | null;
  occurred_at: string;
  received_at: string;
  state: InboxState;
  outcome: string | null;
  outcome_code: string | null;
  attempts: number;
  next_attempt_at: number;
  duplicate_of: number | null;
  metadata: string | null;
  finished_at: string | null;
}

export type AcceptResult =
  | { kind: 'accepted'; id: number }
  | { kind: 'duplicate'; id: number; originalState: InboxState; duplicateRowId: number }
  /** The signature was already recorded: a replayed delivery. Nothing was written. */
  | { kind: 'replayed' };

export interface SeenSignature {
  signature: string;
  /** Epoch ms after which the delivery's timestamp is outside the tolerance anyway. */
  expiresAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toIntakeEvent(row: InboxRow): IntakeEvent {
  return {
    id: row.id,
    source: row.source,
    type: row.type,
    token: row.token,
    tradingsymbol: row.tradingsymbol,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    state: row.state,
    outcome: row.outcome,
  };
}

export class EventInbox {
  private readonly insertEvent: Database.Statement;
  private readonly insertDuplicate: Database.Statement;
  private readonly byKey: Database.Statement;
  private readonly recordSignature: Database.Statement;
  private readonly acceptTx: (event: NormalizedEvent, key: string, signature: SeenSignature | undefined) => AcceptResult;
  private readonly claimStmt: Database.Statement;
  private readonly finishStmt: Database.Statement;
  private readonly retryStmt: Database.Statement;
  /** queued + processing rows, kept in memory so the gauge costs nothing per request. */
  private depth: number;

  constructor(
    readonly db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.insertEvent = db.prepare(`INSERT INTO event_inbox
      (idempotency_key, source, type, raw_type, token, tradingsymbol, occurred_at, received_at, state, metadata)
      VALUES (@key, @source, @type, @rawType, @token, @tradingsymbol, @occurredAt, @receivedAt, 'queued', @metadata)
      ON CONFLICT (idempotency_key) DO NOTHING`);
    this.insertDuplicate = db.prepare(`INSERT INTO event_inbox
      (idempotency_key, source, type, raw_type, token, tradingsymbol, occurred_at, received_at, state, outcome, outcome_code, duplicate_of, metadata, finished_at)
      VALUES (NULL, @source, @type, @rawType, @token, @tradingsymbol, @occurredAt, @receivedAt, 'duplicate', @outcome, 'duplicate', @duplicateOf, @metadata, @receivedAt)`);
    this.byKey = db.prepare('SELECT id, state FROM event_inbox WHERE idempotency_key = ?');
    this.recordSignature = db.prepare('INSERT INTO webhook_signatures (signature, expires_at) VALUES (?, ?) ON CONFLICT (signature) DO NOTHING');
    this.acceptTx = db.transaction((event: NormalizedEvent, key: string, signature: SeenSignature | undefined): AcceptResult => {
      if (signature && this.recordSignature.run(signature.signature, signature.expiresAt).changes === 0) return { kind: 'replayed' };
      const receivedAt = iso(this.clock.now());
      const params = {
        key,
        source: event.source,
        type: event.type,
        rawType: event.rawType,
        token: event.token,
        tradingsymbol: event.tradingsymbol,
        occurredAt: iso(event.occurredAt),
        receivedAt,
        metadata: event.metadata ? JSON.stringify(event.metadata) : null,
      };
      const inserted = this.insertEvent.run(params);
      if (inserted.changes === 1) return { kind: 'accepted', id: Number(inserted.lastInsertRowid) };
      const original = this.byKey.get(key) as { id: number; state: InboxState };
      const dup = this.insertDuplicate.run({
        ...params,
        outcome: `duplicate of #${original.id} (${original.state}); not processed again`,
        duplicateOf: original.id,
      });
      return { kind: 'duplicate', id: original.id, originalState: original.state, duplicateRowId: Number(dup.lastInsertRowid) };
    });
    // Events of one token run in arrival order: a row waits while an earlier row of its token is unfinished.
    this.claimStmt = db.prepare(`UPDATE event_inbox SET state = 'processing', attempts = attempts + 1
      WHERE id = (
        SELECT e.id FROM event_inbox e
        WHERE e.state = 'queued' AND e.next_attempt_at <= @now
          AND NOT EXISTS (SELECT 1 FROM event_inbox p WHERE p.token = e.token AND p.id < e.id AND p.state IN ('queued', 'processing'))
        ORDER BY e.id LIMIT 1)
      RETURNING *`);
    this.finishStmt = db.prepare(
      `UPDATE event_inbox SET state = @state, outcome = @outcome, outcome_code = @code, finished_at = @at WHERE id = @id AND state = 'processing'`,
    );
    this.retryStmt = db.prepare(`UPDATE event_inbox SET state = 'queued', outcome = @outcome, next_attempt_at = @at WHERE id = @id AND state = 'processing'`);
    this.depth = this.countPending();
  }

  /** Writes the event (and the signature that carried it) in one transaction. */
  accept(event: NormalizedEvent, key: string, signature?: SeenSignature): AcceptResult {
    const result = this.acceptTx(event, key, signature);
    if (result.kind === 'accepted') this.depth++;
    return result;
  }

  /** Inserts without duplicate bookkeeping, inside a caller's transaction (the poll reconciler). */
  insertOwned(event: NormalizedEvent, key: string): number | null {
    const res = this.insertEvent.run({
      key,
      source: event.source,
      type: event.type,
      rawType: event.rawType,
      token: event.token,
      tradingsymbol: event.tradingsymbol,
      occurredAt: iso(event.occurredAt),
      receivedAt: iso(this.clock.now()),
      metadata: event.metadata ? JSON.stringify(event.metadata) : null,
    });
    if (res.changes === 0) return null;
    this.depth++;
    return Number(res.lastInsertRowid);
  }

  signatureSeen(signature: string, nowMs: number): boolean {
    return !!this.db.prepare('SELECT 1 FROM webhook_signatures WHERE signature = ? AND expires_at > ?').get(signature, nowMs);
  }

  /** The oldest runnable row, marked processing; null when none is runnable now. */
  claimNext(): InboxRow | null {
    return (this.claimStmt.get({ now: this.clock.now() }) as InboxRow | undefined) ?? null;
  }

  finish(id: number, state: 'done' | 'failed', outcome: string, code: string): void {
    if (this.finishStmt.run({ id, state, outcome, code, at: iso(this.clock.now()) }).changes === 1) this.depth--;
  }

  retryAt(id: number, atMs: number, outcome: string): void {
    this.retryStmt.run({ id, at: atMs, outcome });
  }

  /** After a crash: rows that were being processed are queued again (their actions are idempotent). */
  resumeInterrupted(): number {
    const n = this.db.prepare("UPDATE event_inbox SET state = 'queued', next_attempt_at = 0 WHERE state = 'processing'").run().changes;
    this.depth = this.countPending();
    return n;
  }

  /** Earliest retry time of a queued row, or null when none waits. */
  nextAttemptAt(): number | null {
    const row = this.db.prepare("SELECT MIN(next_attempt_at) AS at FROM event_inbox WHERE state = 'queued'").get() as { at: number | null };
    return row.at;
  }

  pending(): number {
    return this.depth;
  }

  private countPending(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM event_inbox WHERE state IN ('queued', 'processing')").get() as { n: number }).n;
  }

  list(limit: number): IntakeEvent[] {
    const rows = this.db.prepare('SELECT * FROM event_inbox ORDER BY id DESC LIMIT ?').all(limit) as InboxRow[];
    return rows.map(toIntakeEvent);
  }

  get(id: number): InboxRow | null {
    return (this.db.prepare('SELECT * FROM event_inbox WHERE id = ?').get(id) as InboxRow | undefined) ?? null;
  }

  /** Epoch ms of the last event received by a path (any state), or null. */
  lastReceivedAt(source: IntakeSource): number | null {
    const row = this.db.prepare('SELECT received_at FROM event_inbox WHERE source = ? ORDER BY id DESC LIMIT 1').get(source) as
      { received_at: string } | undefined;
    return row ? Date.parse(row.received_at) : null;
  }

  /**
   * A push event (webhook or Redis) of the same change to the same token, received since `sinceMs` and already done
   * with an immediate backfill queued: the poll reconciler's later sighting of the same change need not queue another.
   */
  handledByPush(token: number, type: IntakeType, sinceMs: number, beforeId: number): { id: number; source: string; code: string | null } | null {
    const row = this.db
      .prepare(
        `SELECT id, source, outcome_code AS code FROM event_inbox
        WHERE token = ? AND type = ? AND source IN ('webhook', 'redis') AND state = 'done' AND id < ? AND received_at >= ?
        ORDER BY id DESC LIMIT 1`,
      )
      .get(token, type, beforeId, iso(sinceMs)) as { id: number; source: string; code: string | null } | undefined;
    return row ?? null;
  }

  /** Drops expired signatures and finished rows past the retention. Returns rows removed. */
  prune(retentionMs: number): { signatures: number; events: number } {
    const now = this.clock.now();
    const signatures = this.db.prepare('DELETE FROM webhook_signatures WHERE expires_at <= ?').run(now).changes;
    const events = this.db
      .prepare("DELETE FROM event_inbox WHERE state IN ('done', 'failed', 'duplicate') AND received_at < ?")
      .run(iso(now - retentionMs)).changes;
    return { signatures, events };
  }
}
