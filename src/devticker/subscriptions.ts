// The subscriptions table: desired state only. Rows are never deleted; order is insertion order (the real service
// has no ORDER BY: clients must not rely on any order).
import { hash4 } from './hash';

export type SubscriptionStatus = 'active' | 'inactive';

export interface SubscriptionRow {
  instrument_token: number;
  tradingsymbol: string;
  segment: string;
  status: SubscriptionStatus;
  requested_mode: string;
  /** null for a row created without an account (until a restart assigns one); "" is stored as sent */
  account_id: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Python's datetime.isoformat() of a UTC instant plus 'Z'. `micros` (0..999) fills the digits below the
 * millisecond: the real service stores microseconds (2025-11-04T07:01:09.511342Z).
 */
export function pyTimestamp(epochMs: number, micros = 0): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}${String(micros).padStart(3, '0')}Z`;
}

export interface UpsertResult {
  row: SubscriptionRow;
  /** true when the token was not active before (a new row or a re-activation) */
  activated: boolean;
}

export class SubscriptionStore {
  private readonly rows = new Map<number, SubscriptionRow>();

  /** `microseconds`: give timestamps deterministic sub-millisecond digits (1..999), as the real database has. */
  constructor(private readonly microseconds = false) {}

  private stamp(token: number, nowMs: number): string {
    return pyTimestamp(nowMs, this.microseconds ? 1 + (hash4(token, Math.floor(nowMs / 1000), nowMs % 1000, 0x5d) % 999) : 0);
  }

  upsert(token: number, tradingsymbol: string, segment: string, mode: string, accountId: string | null, nowMs: number): UpsertResult {
    const ts = this.stamp(token, nowMs);
    const existing = this.rows.get(token);
    if (existing) {
      const activated = existing.status !== 'active';
      existing.status = 'active';
      existing.requested_mode = mode;
      existing.account_id = accountId;
      existing.updated_at = ts;
      return { row: existing, activated };
    }
    const row: SubscriptionRow = {
      instrument_token: token,
      tradingsymbol,
      segment,
      status: 'active',
      requested_mode: mode,
      account_id: accountId,
      created_at: ts,
      updated_at: ts,
    };
    this.rows.set(token, row);
    return { row, activated: true };
  }

  /** Sets status inactive; returns the row (and whether it was active) or null when unknown. */
  deactivate(token: number, nowMs: number): { row: SubscriptionRow; deactivated: boolean } | null {
    const row = this.rows.get(token);
    if (!row) return null;
    const deactivated = row.status === 'active';
    row.status = 'inactive';
    row.updated_at = this.stamp(token, nowMs);
    return { row, deactivated };
  }

  /** Puts back rows saved by an earlier run (state file), in their saved order. */
  restore(rows: SubscriptionRow[]): void {
    for (const r of rows) this.rows.set(r.instrument_token, { ...r });
  }

  get(token: number): SubscriptionRow | undefined {
    return this.rows.get(token);
  }

  list(status?: SubscriptionStatus): SubscriptionRow[] {
    const out: SubscriptionRow[] = [];
    for (const r of this.rows.values()) if (!status || r.status === status) out.push(r);
    return out;
  }

  activeCount(): number {
    let n = 0;
    for (const r of this.rows.values()) if (r.status === 'active') n++;
    return n;
  }
}
