// Alert thresholds: the plan's numbers as defaults, changed from the console with a reason (audited, like a flag)
// and kept in the state store.
import type Database from 'better-sqlite3';
import type { AlertThresholds, ThresholdAuditEntry } from '../../shared/api';

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  autoSubscribeFailureRatio: 0.1,
  autoSubscribeWindowMinutes: 15,
  timeToDataSeconds: 30,
  subscriptionCallsPerHour: 1000,
};

/**
 * The failure-ratio alert needs this many attempts in its window: one failure out of two is 50% but says nothing
 * about the ticker service.
 */
export const MIN_AUTO_SUBSCRIBE_ATTEMPTS = 5;

const KEYS = Object.keys(DEFAULT_THRESHOLDS) as (keyof AlertThresholds)[];

export type { ThresholdAuditEntry };

export class ThresholdStore {
  private current: AlertThresholds;

  constructor(private readonly db: Database.Database) {
    const rows = db.prepare('SELECT key, value FROM alert_thresholds').all() as { key: string; value: number }[];
    this.current = { ...DEFAULT_THRESHOLDS };
    for (const row of rows) if ((KEYS as string[]).includes(row.key)) this.current[row.key as keyof AlertThresholds] = row.value;
  }

  get(): AlertThresholds {
    return { ...this.current };
  }

  /** Applies the given values; each real change is one audit row. Returns the thresholds now in force. */
  set(changes: Partial<AlertThresholds>, actor: string, reason: string, atIso: string): { thresholds: AlertThresholds; changed: (keyof AlertThresholds)[] } {
    const changed = KEYS.filter((k) => changes[k] !== undefined && changes[k] !== this.current[k]);
    if (changed.length === 0) return { thresholds: this.get(), changed };
    const upsert = this.db.prepare(
      'INSERT INTO alert_thresholds (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
    );
    const audit = this.db.prepare('INSERT INTO alert_threshold_audit (key, old_value, new_value, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?)');
    const next = { ...this.current };
    this.db.transaction(() => {
      for (const key of changed) {
        const value = changes[key] as number;
        upsert.run(key, value, atIso, actor);
        audit.run(key, this.current[key], value, actor, reason, atIso);
        next[key] = value;
      }
    })();
    this.current = next;
    return { thresholds: this.get(), changed };
  }

  audit(limit = 100): ThresholdAuditEntry[] {
    const rows = this.db.prepare('SELECT key, old_value, new_value, actor, reason, at FROM alert_threshold_audit ORDER BY id DESC LIMIT ?').all(limit) as {
      key: keyof AlertThresholds;
      old_value: number;
      new_value: number;
      actor: string;
      reason: string;
      at: string;
    }[];
    return rows.map((r) => ({ key: r.key, oldValue: r.old_value, newValue: r.new_value, actor: r.actor, reason: r.reason, at: r.at }));
  }
}
