// Flags: persisted in the state store, every change audited, pinnable from the environment with the plan's names
// (SMART_SUBSCRIPTION_ENABLED=false ...). A pinned flag cannot be changed from the console (409 PINNED).
import { EventEmitter } from 'node:events';
import type { FlagAuditEntry, FlagView } from '../../shared/api';
import { FLAG_DEFINITIONS, flagDefinition, type FlagDefinition, type FlagKey, type FlagValue, type FlagValues } from '../../shared/flags';
import { DomainError } from '../../shared/result';
import { ConfigError } from '../config/load';
import type { StateStore } from '../state/store';

function parsePin(def: FlagDefinition, raw: string): FlagValue {
  const text = raw.trim().toLowerCase();
  if (def.type === 'boolean') {
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (['0', 'false', 'no', 'off'].includes(text)) return false;
    throw new ConfigError(`Invalid configuration: ${def.env} must be true or false (got "${raw}")`);
  }
  const n = Number(text);
  if (!Number.isFinite(n) || (def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
    throw new ConfigError(`Invalid configuration: ${def.env} must be a number ${def.min ?? ''}-${def.max ?? ''} ${def.unit ?? ''}`.trim() + ` (got "${raw}")`);
  }
  return n;
}

export function validateFlagValue(def: FlagDefinition, value: unknown): FlagValue {
  if (def.type === 'boolean') {
    if (typeof value !== 'boolean') throw new DomainError('BAD_REQUEST', `${def.key} takes true or false`, 'value');
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DomainError('BAD_REQUEST', `${def.key} takes a number`, 'value');
  if ((def.min !== undefined && value < def.min) || (def.max !== undefined && value > def.max)) {
    throw new DomainError('BAD_REQUEST', `${def.key} must be between ${def.min} and ${def.max}`, 'value');
  }
  return value;
}

/** A stored value, written by `set` as JSON; one that no longer reads is a start-up error naming the flag. */
function parseStored(def: FlagDefinition, text: string): FlagValue {
  try {
    return validateFlagValue(def, JSON.parse(text));
  } catch (err) {
    throw new ConfigError(`state store: the stored value of flag ${def.key} (${text}) is not valid: ${(err as Error).message}`);
  }
}

export interface FlagChange {
  key: FlagKey;
  value: FlagValue;
}

/**
 * The flags, read on hot paths (every subscribe, every webhook): values live in memory, loaded once from the state
 * store at construction and updated by `set` after its transaction commits, so `get` is a map lookup. This service is
 * the only writer of the flags table; pins are read from the environment once, at start.
 */
export class FlagService {
  private readonly pins = new Map<FlagKey, FlagValue>();
  /** The value of every flag as `get` answers it: the pin, else the stored value, else the default. */
  private readonly current = new Map<FlagKey, FlagValue>();
  private readonly events = new EventEmitter();

  constructor(
    private readonly store: StateStore,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    for (const def of FLAG_DEFINITIONS) {
      const raw = env[def.env];
      if (raw !== undefined && raw !== '') this.pins.set(def.key, parsePin(def, raw));
    }
    const stored = new Map((this.store.db.prepare('SELECT key, value FROM flags').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    for (const def of FLAG_DEFINITIONS) {
      const pinned = this.pins.get(def.key);
      const text = stored.get(def.key);
      this.current.set(def.key, pinned !== undefined ? pinned : text !== undefined ? parseStored(def, text) : def.default);
    }
  }

  get<K extends FlagKey>(key: K): FlagValues[K] {
    const value = this.current.get(key);
    if (value === undefined) throw new DomainError('NOT_FOUND', `unknown flag "${String(key)}"`, 'key');
    return value as FlagValues[K];
  }

  values(): FlagValues {
    const out: Record<string, FlagValue> = {};
    for (const def of FLAG_DEFINITIONS) out[def.key] = this.get(def.key);
    return out as FlagValues;
  }

  list(): FlagView[] {
    const rows = this.store.db.prepare('SELECT key, updated_at, updated_by FROM flags').all() as { key: string; updated_at: string; updated_by: string }[];
    const meta = new Map(rows.map((r) => [r.key, r]));
    return FLAG_DEFINITIONS.map((def) => ({
      key: def.key,
      type: def.type,
      value: this.get(def.key),
      default: def.default,
      description: def.description,
      unit: def.unit,
      min: def.min,
      max: def.max,
      pinnedBy: this.pins.has(def.key) ? def.env : null,
      updatedAt: meta.get(def.key)?.updated_at ?? null,
      updatedBy: meta.get(def.key)?.updated_by ?? null,
    }));
  }

  set(key: string, value: unknown, actor: string, reason: string): FlagView {
    const def = flagDefinition(key);
    if (!def) throw new DomainError('NOT_FOUND', `unknown flag "${key}"`, 'key');
    if (this.pins.has(def.key)) {
      throw new DomainError('PINNED', `${def.key} is pinned by the environment variable ${def.env}; unset it and restart to change it here`, 'key');
    }
    const trimmed = reason.trim();
    if (trimmed.length < 3) throw new DomainError('BAD_REQUEST', 'a reason of at least 3 characters is required', 'reason');
    const next = validateFlagValue(def, value);
    const old = this.get(def.key);
    const at = new Date().toISOString();
    const db = this.store.db;
    db.transaction(() => {
      const existing = db.prepare('SELECT value FROM flags WHERE key = ?').get(def.key) as { value: string } | undefined;
      db.prepare(
        'INSERT INTO flags (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
      ).run(def.key, JSON.stringify(next), at, actor);
      db.prepare('INSERT INTO flag_audit (key, old_value, new_value, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?)').run(
        def.key,
        existing ? existing.value : JSON.stringify(old),
        JSON.stringify(next),
        actor,
        trimmed,
        at,
      );
    })();
    this.current.set(def.key, next);
    if (old !== next) this.events.emit('change', { key: def.key, value: next } satisfies FlagChange);
    return this.list().find((f) => f.key === def.key) as FlagView;
  }

  audit(limit = 100): FlagAuditEntry[] {
    const rows = this.store.db.prepare('SELECT id, key, old_value, new_value, actor, reason, at FROM flag_audit ORDER BY id DESC LIMIT ?').all(limit) as {
      id: number;
      key: FlagKey;
      old_value: string | null;
      new_value: string;
      actor: string;
      reason: string;
      at: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      oldValue: r.old_value === null ? null : (JSON.parse(r.old_value) as FlagValue),
      newValue: JSON.parse(r.new_value) as FlagValue,
      actor: r.actor,
      reason: r.reason,
      at: r.at,
    }));
  }

  /** Services subscribe to apply a change at once. Returns an unsubscribe function. */
  onChange(listener: (change: FlagChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }
}
