import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConsoleApi } from '../api/console-api';
import { flagHandlers } from '../api/flags';
import { PushHub } from '../api/push';
import { ConfigError } from '../config/load';
import { silentLogger } from '../log';
import { StateStore } from '../state/store';
import { FlagService } from './flags';

const openStore = (path: string) => {
  const store = new StateStore(path);
  store.migrate();
  return store;
};

describe('FlagService', () => {
  it('defaults to the plan settings, persists a change across a reopen and audits it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sd-flags-')), 'state.db');
    const store = openStore(path);
    const flags = new FlagService(store, {});
    expect(flags.values()).toEqual({
      smart_subscription_enabled: true,
      smart_subscription_wait_timeout: 10,
      smart_subscription_cache_ttl: 60,
      backfill_subscription_aware: true,
      backfill_immediate_on_subscribe: true,
    });
    const changes: unknown[] = [];
    flags.onChange((c) => changes.push(c));
    flags.set('smart_subscription_enabled', false, 'os:alice', 'phase 1 rollout');
    flags.set('smart_subscription_wait_timeout', 15, 'api-token', 'slow feed today');
    expect(changes).toEqual([
      { key: 'smart_subscription_enabled', value: false },
      { key: 'smart_subscription_wait_timeout', value: 15 },
    ]);
    store.close();

    const reopened = openStore(path);
    const again = new FlagService(reopened, {});
    expect(again.get('smart_subscription_enabled')).toBe(false);
    expect(again.get('smart_subscription_wait_timeout')).toBe(15);
    const audit = again.audit();
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({ key: 'smart_subscription_enabled', oldValue: true, newValue: false, actor: 'os:alice', reason: 'phase 1 rollout' });
    expect(audit[1].at).toMatch(/Z$/);
    const view = again.list().find((f) => f.key === 'smart_subscription_enabled');
    expect(view).toMatchObject({ value: false, default: true, updatedBy: 'os:alice', pinnedBy: null });
    reopened.close();
  });

  it('a flag pinned from the environment cannot be changed and says why', async () => {
    const store = openStore(':memory:');
    const flags = new FlagService(store, { SMART_SUBSCRIPTION_ENABLED: 'false', BACKFILL_SUBSCRIPTION_AWARE: 'off' });
    expect(flags.get('smart_subscription_enabled')).toBe(false);
    expect(flags.get('backfill_subscription_aware')).toBe(false);
    const api = new ConsoleApi(silentLogger);
    api.register(flagHandlers(flags, new PushHub()));
    const result = await api.call('flags:set', { key: 'smart_subscription_enabled', value: true, reason: 'try it' }, { actor: 'test' });
    expect(result).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'PINNED', message: expect.stringContaining('SMART_SUBSCRIPTION_ENABLED') }),
    });
    expect(flags.audit()).toHaveLength(0);
    const listed = await api.call('flags:list', {}, { actor: 'test' });
    expect(listed.ok && (listed.value as { key: string; pinnedBy: string | null }[]).find((f) => f.key === 'smart_subscription_enabled')?.pinnedBy).toBe(
      'SMART_SUBSCRIPTION_ENABLED',
    );
  });

  it('refuses bad values and missing reasons without writing anything', async () => {
    const store = openStore(':memory:');
    const flags = new FlagService(store, {});
    const api = new ConsoleApi(silentLogger);
    api.register(flagHandlers(flags, new PushHub()));
    const call = (req: unknown) => api.call('flags:set', req, { actor: 't' });
    expect(await call({ key: 'smart_subscription_enabled', value: 'yes', reason: 'because' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', field: 'value' },
    });
    expect(await call({ key: 'smart_subscription_enabled', value: false, reason: '' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', field: 'reason' },
    });
    expect(await call({ key: 'smart_subscription_wait_timeout', value: 500, reason: 'too long' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', field: 'value' },
    });
    expect(await call({ key: 'smart_subscription_enabled', value: 1, reason: 'wrong type' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', field: 'value' },
    });
    expect(await call({ key: 'nope', value: true, reason: 'unknown' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', field: 'key' } });
    expect(flags.audit()).toHaveLength(0);
  });

  it('a bad pin stops start-up naming the variable', () => {
    const store = openStore(':memory:');
    expect(() => new FlagService(store, { SMART_SUBSCRIPTION_WAIT_TIMEOUT: 'soon' })).toThrow(ConfigError);
    expect(() => new FlagService(store, { SMART_SUBSCRIPTION_WAIT_TIMEOUT: 'soon' })).toThrow(/SMART_SUBSCRIPTION_WAIT_TIMEOUT must be a number/);
    expect(() => new FlagService(store, { SMART_SUBSCRIPTION_ENABLED: 'maybe' })).toThrow(/SMART_SUBSCRIPTION_ENABLED must be true or false/);
  });

  it('reads from memory: no SQL runs per read, and a read after set sees the new value', () => {
    const store = openStore(':memory:');
    store.db
      .prepare('INSERT INTO flags (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)')
      .run('smart_subscription_wait_timeout', '25', '2026-01-01T00:00:00Z', 'os:bob');
    const flags = new FlagService(store, { BACKFILL_SUBSCRIPTION_AWARE: 'false' });
    const prepare = vi.spyOn(store.db, 'prepare');
    const exec = vi.spyOn(store.db, 'exec');
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (let i = 0; i < 1000; i++) {
        expect(flags.get('smart_subscription_wait_timeout')).toBe(25); // stored before start
        expect(flags.get('backfill_subscription_aware')).toBe(false); // pinned
        expect(flags.get('smart_subscription_enabled')).toBe(true); // default
      }
      expect(flags.values()).toMatchObject({ smart_subscription_wait_timeout: 25, backfill_subscription_aware: false });
      expect(prepare).not.toHaveBeenCalled();
      expect(exec).not.toHaveBeenCalled();
      expect(parse).not.toHaveBeenCalled();

      flags.set('smart_subscription_wait_timeout', 12, 'os:alice', 'shorter wait');
      flags.set('smart_subscription_enabled', false, 'os:alice', 'pause rollout');
      const writes = prepare.mock.calls.length;
      expect(writes).toBeGreaterThan(0); // the set itself writes
      expect(flags.get('smart_subscription_wait_timeout')).toBe(12);
      expect(flags.get('smart_subscription_enabled')).toBe(false);
      expect(prepare.mock.calls.length).toBe(writes);
    } finally {
      prepare.mockRestore();
      exec.mockRestore();
      parse.mockRestore();
    }
    // The cache agrees with the store: a new service over the same store reads the same values.
    expect(new FlagService(store, {}).values()).toEqual({ ...flags.values(), backfill_subscription_aware: true });
  });

  it('a set whose write fails leaves the value as it was', () => {
    const store = openStore(':memory:');
    const flags = new FlagService(store, {});
    store.db.exec('DROP TABLE flag_audit');
    expect(() => flags.set('smart_subscription_enabled', false, 'os:alice', 'pause rollout')).toThrow(/flag_audit/);
    expect(flags.get('smart_subscription_enabled')).toBe(true);
    expect(new FlagService(store, {}).get('smart_subscription_enabled')).toBe(true);
  });

  it('a stored value that no longer reads stops start-up naming the flag', () => {
    const store = openStore(':memory:');
    store.db
      .prepare('INSERT INTO flags (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)')
      .run('smart_subscription_wait_timeout', '"soon"', '2026-01-01T00:00:00Z', 'x');
    expect(() => new FlagService(store, {})).toThrow(/flag smart_subscription_wait_timeout \("soon"\) is not valid/);
  });
});
