// The subscriptions table: desired state only. Rows are never deleted; order is insertion order (the real service
// has no ORDER BY: clients must not rely on any order).

export type SubscriptionStatus = 'active' | 'inactive';

export interface SubscriptionRow {
  instrument_token: number;
  tradingsymbol: string;
  segment: string;
  status: SubscriptionStatus;
  requested_mode: string;
  account_id: string;
  created_at: string;
  updated_at: string;
}

/** Python's datetime.isoformat() of a UTC instant plus 'Z': 2025-11-04T06:52:22.132000Z */
export function pyTimestamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000Z`;
}

export interface UpsertResult {
  row: SubscriptionRow;
  /** true when the token was not active before (a new row or a re-activation) */
  activated: boolean;
}

export class SubscriptionStore {
  private readonly rows = new Map<number, SubscriptionRow>();

  upsert(token: number, tradingsymbol: string, segment: string, mode: string, accountId: string, nowMs: number): UpsertResult {
    const ts = pyTimestamp(nowMs);
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
      instrument_token: token, tradingsymbol, segment, status: 'active', requested_mode: mode, account_id: accountId, created_at: ts, updated_at: ts,
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
    row.updated_at = pyTimestamp(nowMs);
    return { row, deactivated };
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
