// Operators answer alerts (real SQLite file, manual clock): an acknowledgement names who took one firing, when and
// why, and survives a restart; a silence mutes a rule until its end (no desktop notification while it holds) and can
// be lifted early; the threshold audit reads back what was changed, by whom and why.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { DomainError } from '../../shared/result';
import { metricsOn, openStore, stateFile, T0 } from './testing/support';

function fireFailures(metrics: ReturnType<typeof metricsOn>['metrics'], from: number): void {
  for (let i = 0; i < 5; i++) metrics.autoSubscribeAttempt('failed', 'ticker_down', from + i);
  metrics.tick();
}

describe('acknowledging an alert', () => {
  it('records who, when and why on the firing, once, and keeps it across a restart', () => {
    const clock = new ManualClock(T0);
    const path = stateFile();
    const store = openStore(path);
    const { metrics } = metricsOn(store, clock);
    fireFailures(metrics, 1);
    const [firing] = metrics.listAlerts(10).active;
    expect(firing).toMatchObject({ rule: 'auto_subscribe_failures', acknowledged: null, silence: null });

    clock.advance(30_000);
    const acked = metrics.acknowledge(firing.id, 'alice', 'ticker restarting, watching it');
    expect(acked.acknowledged).toEqual({ by: 'alice', at: new Date(T0 + 30_000).toISOString(), reason: 'ticker restarting, watching it' });
    expect(() => metrics.acknowledge(firing.id, 'bob', 'me too')).toThrow(/already acknowledged by alice/);
    expect(() => metrics.acknowledge(9999, 'bob', 'nothing')).toThrow(DomainError);
    store.close();

    const reopened = openStore(path);
    const again = metricsOn(reopened, clock).metrics;
    expect(again.listAlerts(10).active[0].acknowledged?.by).toBe('alice');
    expect(again.listAlerts(10).history[0].acknowledged?.reason).toBe('ticker restarting, watching it');
    reopened.close();
  });

  it('refuses a resolved alert', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    fireFailures(metrics, 1);
    const id = metrics.listAlerts(10).active[0].id;
    // 16 minutes later the failures have left the 15-minute window: resolved.
    clock.advance(16 * 60_000);
    metrics.tick();
    expect(metrics.listAlerts(10).active).toEqual([]);
    expect(() => metrics.acknowledge(id, 'alice', 'late')).toThrow(/already resolved/);
    store.close();
  });
});

describe('silencing a rule', () => {
  it('mutes the rule until its end: the alert carries the silence and raises no notification', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics, pushed } = metricsOn(store, clock);
    const silence = metrics.silence('auto_subscribe_failures', 'bob', 'planned ticker maintenance', 30);
    expect(silence).toMatchObject({
      rule: 'auto_subscribe_failures',
      by: 'bob',
      reason: 'planned ticker maintenance',
      until: new Date(T0 + 30 * 60_000).toISOString(),
      liftedAt: null,
    });

    pushed.length = 0;
    fireFailures(metrics, 1);
    const [firing] = metrics.listAlerts(10).active;
    expect(firing.silence?.by).toBe('bob');
    // The list changed (a push), but without a message: no desktop notification.
    expect(pushed.filter((p) => p.topic === 'alerts:changed')).toEqual([{ topic: 'alerts:changed', key: 'auto_subscribe_failures', message: undefined }]);
    expect(metrics.listAlerts(10).silences.map((s) => s.id)).toEqual([silence.id]);
    expect(metrics.health().detail).toContain('auto_subscribe_failures (silenced by bob)');

    // Past its end the silence no longer holds.
    clock.advance(30 * 60_000);
    expect(metrics.listAlerts(10).silences).toEqual([]);
    store.close();
  });

  it('is lifted early with who lifted it, and a new silence replaces the one in force', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    const first = metrics.silence('slow_data', 'bob', 'backfill catching up', 60);
    clock.advance(60_000);
    const second = metrics.silence('slow_data', 'alice', 'longer: exchange issue', 120);
    expect(metrics.listAlerts(10).silences.map((s) => s.id)).toEqual([second.id]);
    const row = store.db.prepare('SELECT lifted_by, lifted_at FROM alert_silences WHERE id = ?').get(first.id) as { lifted_by: string; lifted_at: number };
    expect(row).toEqual({ lifted_by: 'alice', lifted_at: T0 + 60_000 });

    const { lifted } = metrics.unsilence('slow_data', 'carol');
    expect(lifted).toHaveLength(1);
    expect(lifted[0]).toMatchObject({ id: second.id, liftedBy: 'carol', liftedAt: new Date(T0 + 60_000).toISOString() });
    expect(metrics.listAlerts(10).silences).toEqual([]);
    expect(metrics.unsilence('slow_data', 'carol').lifted).toEqual([]);
    store.close();
  });
});

describe('threshold audit', () => {
  it('reads back each change, newest first, with the actor and reason', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    metrics.setThresholds({ timeToDataSeconds: 45 }, 'alice', 'slow mornings');
    clock.advance(60_000);
    metrics.setThresholds({ timeToDataSeconds: 40, subscriptionCallsPerHour: 800 }, 'bob', 'tighter');
    const audit = metrics.thresholdAudit(10);
    expect(audit.map((a) => [a.key, a.oldValue, a.newValue, a.actor])).toEqual([
      ['subscriptionCallsPerHour', 1000, 800, 'bob'],
      ['timeToDataSeconds', 45, 40, 'bob'],
      ['timeToDataSeconds', 30, 45, 'alice'],
    ]);
    expect(audit[2]).toMatchObject({ reason: 'slow mornings', at: new Date(T0).toISOString() });
    store.close();
  });
});
