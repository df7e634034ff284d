// Alerts on a manual clock with a real SQLite file: each rule fires once (also across a restart), pushes its text,
// resolves when its condition clears; thresholds are editable with an audited reason and persist.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { DataSignals } from '../market/data-signals';
import { evaluateRules } from './alerts';
import { MetricsService } from './service';
import { MINUTE_MS } from './history';
import { metricsOn, openStore, promValue, stateFile, T0 } from './testing/support';
import { DEFAULT_THRESHOLDS } from './thresholds';

const alertPushes = (pushed: { topic: string; key?: string; message?: string }[]) => pushed.filter((p) => p.topic === 'alerts:changed');

describe('auto-subscribe failure alert', () => {
  it('needs 5 attempts, fires once above 10% in 15 min, resolves when the ratio drops', async () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics, pushed } = metricsOn(store, clock);
    for (let i = 0; i < 4; i++) metrics.autoSubscribeAttempt('failed', 'ticker_down', i);
    expect(metrics.tick()).toEqual([]); // 4 of 4 failed, but too few attempts to judge

    clock.advance(5_000);
    metrics.autoSubscribeAttempt('failed', 'ticker_down', 4);
    const fired = metrics.tick();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ kind: 'fired', alert: { rule: 'auto_subscribe_failures', state: 'firing', value: 1, threshold: 0.1 } });
    expect(fired[0].alert.message).toContain('100.0% (5 of 5)');
    expect(alertPushes(pushed)).toEqual([{ topic: 'alerts:changed', key: 'auto_subscribe_failures', message: expect.stringContaining('ticker service') }]);
    expect(await promValue(metrics, 'strikedesk_alerts_firing', { rule: 'auto_subscribe_failures' })).toBe(1);

    // Still failing: no second firing, no second push.
    for (let t = 0; t < 5; t++) {
      clock.advance(5_000);
      metrics.autoSubscribeAttempt('failed', 'ticker_down', 10 + t);
      expect(metrics.tick()).toEqual([]);
    }
    expect(alertPushes(pushed)).toHaveLength(1);
    expect(metrics.listAlerts(10).active).toHaveLength(1);

    // 10 failures; 90 successes make it exactly 10% (not above): resolves.
    clock.advance(MINUTE_MS);
    for (let i = 0; i < 90; i++) metrics.autoSubscribeAttempt('succeeded', 'subscribed', 100 + i);
    const resolved = metrics.tick();
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ kind: 'resolved', alert: { rule: 'auto_subscribe_failures', state: 'resolved' } });
    expect(resolved[0].message).toContain('10.0% (10 of 100)');
    expect(alertPushes(pushed)).toHaveLength(2);
    expect(alertPushes(pushed)[1].message).toMatch(/^Resolved auto_subscribe_failures/);
    const list = metrics.listAlerts(10);
    expect(list.active).toEqual([]);
    expect(list.history).toHaveLength(1);
    expect(list.history[0]).toMatchObject({ state: 'resolved', firedAt: new Date(T0 + 5_000).toISOString(), resolvedAt: new Date(clock.now()).toISOString() });
    expect(await promValue(metrics, 'strikedesk_alerts_firing', { rule: 'auto_subscribe_failures' })).toBe(0);
    metrics.stop();
    store.close();
  });

  it('counts only the window: failures 16 minutes ago no longer fire it', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    for (let i = 0; i < 6; i++) metrics.autoSubscribeAttempt('failed', 'capacity', i);
    expect(metrics.tick().map((t) => t.kind)).toEqual(['fired']);
    clock.advance(14 * MINUTE_MS);
    expect(metrics.tick()).toEqual([]); // the 15th one-minute bucket still holds them
    clock.advance(MINUTE_MS);
    expect(metrics.tick().map((t) => `${t.kind} ${t.alert.rule}`)).toEqual(['resolved auto_subscribe_failures']);
    metrics.stop();
    store.close();
  });
});

describe('fire once across a restart', () => {
  it('keeps the firing row: the new process neither re-fires nor re-notifies; it resolves later', () => {
    const clock = new ManualClock(T0);
    const path = stateFile();
    let store = openStore(path);
    let { metrics, pushed } = metricsOn(store, clock);
    for (let i = 0; i < 1001; i++) metrics.tickerRequest('subscriptions.list', 200, 5);
    expect(metrics.tick().map((t) => t.alert.rule)).toEqual(['excessive_subscription_calls']);
    expect(alertPushes(pushed)).toHaveLength(1);
    metrics.stop();
    store.close();

    clock.advance(30_000);
    store = openStore(path);
    ({ metrics, pushed } = metricsOn(store, clock));
    expect(metrics.tick()).toEqual([]);
    expect(alertPushes(pushed)).toEqual([]);
    expect(metrics.listAlerts(10).active.map((a) => [a.rule, a.value])).toEqual([['excessive_subscription_calls', 1001]]);

    // An hour later the calls have left the window.
    clock.advance(60 * MINUTE_MS);
    expect(metrics.tick().map((t) => `${t.kind} ${t.alert.rule}`)).toEqual(['resolved excessive_subscription_calls']);
    expect(alertPushes(pushed)).toHaveLength(1);
    metrics.stop();
    store.close();
  });
});

describe('slow data alert', () => {
  it('fires when a subscribed token has no data after 30 s; its late first bar keeps it firing for the window', () => {
    const clock = new ManualClock(T0);
    const signals = new DataSignals();
    const store = openStore(stateFile());
    const { metrics, pushed } = metricsOn(store, clock, { signals });
    metrics.start();
    metrics.autoSubscribeAttempt('succeeded', 'subscribed', 13660418);
    metrics.autoSubscribeAttempt('succeeded', 'subscribed', 13660419);
    signals.stored([13660419], clock.now() + 2_000); // data at once for the second
    clock.advance(30_000);
    expect(metrics.tick()).toEqual([]); // exactly 30 s is not "after 30 s"
    clock.advance(1_000);
    const fired = metrics.tick();
    expect(fired.map((t) => t.alert.rule)).toEqual(['slow_data']);
    expect(fired[0].alert.message).toContain('13660418');
    expect(fired[0].alert.message).not.toContain('13660419');
    expect(fired[0].alert.value).toBeCloseTo(31, 6);
    expect(alertPushes(pushed)[0].message).toContain('streaming pipeline');

    signals.stored([13660418], clock.now());
    expect(metrics.tick()).toEqual([]);
    expect(metrics.alertInputs()).toMatchObject({ waiting: [], worstTimeToData: 31 });
    clock.advance(15 * MINUTE_MS);
    expect(metrics.tick().map((t) => `${t.kind} ${t.alert.rule}`)).toEqual(['resolved slow_data']);
    metrics.stop();
    store.close();
  });

  it('fires when data came more than 30 s after the subscription, and resolves when that leaves the window', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    metrics.autoSubscribeAttempt('succeeded', 'subscribed', 1);
    clock.advance(12_000);
    metrics.timeToData(12, 1);
    expect(metrics.tick()).toEqual([]);
    metrics.autoSubscribeAttempt('succeeded', 'subscribed', 2);
    clock.advance(29_000);
    expect(metrics.tick()).toEqual([]);
    clock.advance(16_000);
    metrics.timeToData(45, 2); // the wait ends; the observation (45 s after subscribing) keeps it firing
    expect(metrics.alertInputs().waiting).toEqual([]);
    const fired = metrics.tick();
    expect(fired.map((t) => [t.kind, t.alert.value])).toEqual([['fired', 45]]);
    expect(fired[0].alert.message).toContain('data came 45 s after subscription');
    clock.advance(15 * MINUTE_MS);
    expect(metrics.tick().map((t) => `${t.kind} ${t.alert.rule}`)).toEqual(['resolved slow_data']);
    metrics.stop();
    store.close();
  });

  it('does not fire for a long wait in the subscribe queue: time to data counts from the request, the rule from the subscription', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics } = metricsOn(store, clock);
    clock.advance(64_000); // a far strike waited its turn in the 30-a-minute queue
    metrics.autoSubscribeAttempt('succeeded', 'subscribed', 3);
    clock.advance(1_000);
    metrics.timeToData(65, 3);
    expect(metrics.tick()).toEqual([]);
    expect(metrics.alertInputs().worstTimeToData).toBe(1);
    metrics.stop();
    store.close();
  });

  it('remembers waiting tokens across a restart', () => {
    const clock = new ManualClock(T0);
    const path = stateFile();
    let store = openStore(path);
    let { metrics } = metricsOn(store, clock);
    metrics.autoSubscribeAttempt('succeeded', 'subscribed', 777);
    metrics.stop();
    store.close();
    clock.advance(40_000);
    store = openStore(path);
    ({ metrics } = metricsOn(store, clock));
    expect(metrics.tick().map((t) => t.alert.rule)).toEqual(['slow_data']);
    metrics.timeToData(41, 777); // data at last: the wait ends, the observation keeps it firing in the window
    expect(metrics.tick()).toEqual([]);
    expect(metrics.alertInputs().waiting).toEqual([]);
    metrics.stop();
    store.close();
  });
});

describe('feed stale alert', () => {
  it('follows the feed state', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    const { metrics, pushed } = metricsOn(store, clock);
    metrics.feedState('live', T0);
    expect(metrics.tick()).toEqual([]);
    clock.advance(31_000);
    metrics.feedState('stale', T0);
    const fired = metrics.tick();
    expect(fired.map((t) => [t.alert.rule, t.alert.value])).toEqual([['feed_stale', 31]]);
    expect(alertPushes(pushed)[0].message).toContain('no tick for 31 s');
    metrics.feedState('live', clock.now());
    expect(metrics.tick().map((t) => t.kind)).toEqual(['resolved']);
    metrics.stop();
    store.close();
  });
});

describe('thresholds', () => {
  it("are the plan's by default, change with an audited reason, persist, and re-evaluate at once", () => {
    const clock = new ManualClock(T0);
    const path = stateFile();
    let store = openStore(path);
    let { metrics, pushed } = metricsOn(store, clock);
    expect(metrics.thresholds.get()).toEqual({
      autoSubscribeFailureRatio: 0.1,
      autoSubscribeWindowMinutes: 15,
      timeToDataSeconds: 30,
      subscriptionCallsPerHour: 1000,
    });
    for (let i = 0; i < 20; i++) metrics.tickerRequest('subscriptions.create', 201, 5);
    metrics.tick();
    expect(metrics.listAlerts(5).active).toEqual([]);

    const set = metrics.setThresholds({ subscriptionCallsPerHour: 10, timeToDataSeconds: 30 }, 'os:ops', 'testing the alert path');
    expect(set.subscriptionCallsPerHour).toBe(10);
    // Only the real change is audited; the alert fired in the same call.
    expect(metrics.thresholds.audit()).toEqual([
      { key: 'subscriptionCallsPerHour', oldValue: 1000, newValue: 10, actor: 'os:ops', reason: 'testing the alert path', at: new Date(T0).toISOString() },
    ]);
    expect(metrics.listAlerts(5).active.map((a) => [a.rule, a.value, a.threshold])).toEqual([['excessive_subscription_calls', 20, 10]]);
    expect(pushed.some((p) => p.topic === 'metrics:changed')).toBe(true);
    metrics.stop();
    store.close();

    store = openStore(path);
    ({ metrics, pushed } = metricsOn(store, clock));
    expect(metrics.thresholds.get().subscriptionCallsPerHour).toBe(10);
    metrics.setThresholds({ subscriptionCallsPerHour: 1000 }, 'os:ops', 'back to the plan');
    expect(alertPushes(pushed).map((p) => p.message)).toEqual([expect.stringMatching(/^Resolved excessive_subscription_calls/)]);
    expect(metrics.thresholds.audit().map((a) => a.reason)).toEqual(['back to the plan', 'testing the alert path']);
    metrics.stop();
    store.close();
  });
});

describe('rules (pure)', () => {
  const quiet = {
    autoSubscribe: { attempted: 0, failed: 0 },
    waiting: [],
    worstTimeToData: null,
    subscriptionCallsLastHour: 0,
    feed: { state: 'live', lastTickAt: T0 },
  };
  it('are all quiet on a quiet console', () => {
    expect(evaluateRules(quiet, DEFAULT_THRESHOLDS, T0).filter((v) => v.firing)).toEqual([]);
  });
  it('compare strictly above the thresholds', () => {
    const at = evaluateRules({ ...quiet, subscriptionCallsLastHour: 1000, autoSubscribe: { attempted: 20, failed: 2 } }, DEFAULT_THRESHOLDS, T0);
    expect(at.filter((v) => v.firing)).toEqual([]);
    const above = evaluateRules({ ...quiet, subscriptionCallsLastHour: 1001, autoSubscribe: { attempted: 20, failed: 3 } }, DEFAULT_THRESHOLDS, T0);
    expect(above.filter((v) => v.firing).map((v) => v.rule)).toEqual(['auto_subscribe_failures', 'excessive_subscription_calls']);
  });
});

describe('streaming stopped alert', () => {
  const quiet = {
    autoSubscribe: { attempted: 0, failed: 0 },
    waiting: [],
    worstTimeToData: null,
    subscriptionCallsLastHour: 0,
    feed: { state: 'live', lastTickAt: T0 },
  };
  const stoppedView = {
    state: 'stopped',
    accepted: 42,
    silentForMs: 23_400,
    message: 'the ticker service accepted 42 subscriptions but has streamed nothing for 23 s: restart the ticker service (...)',
  };

  it('fires on the watch verdict with its text (what happened, what to do), is silent without a watch or while streaming', () => {
    const byRule = (inputs: Parameters<typeof evaluateRules>[0]) => evaluateRules(inputs, DEFAULT_THRESHOLDS, T0).find((v) => v.rule === 'streaming_stopped');
    expect(byRule(quiet)).toMatchObject({ firing: false, value: null, message: 'Streaming not watched (no tick source)' });
    expect(byRule({ ...quiet, streaming: { ...stoppedView, state: 'streaming', silentForMs: 1_000, message: 'streaming: last tick 1 s ago' } })).toMatchObject({
      firing: false,
    });
    const v = byRule({ ...quiet, streaming: stoppedView });
    expect(v).toMatchObject({ firing: true, value: 23.4, threshold: null });
    expect(v?.message).toBe(`Streaming stopped: ${stoppedView.message}`);
  });

  it('fires once through the book and pushes the text; resolves when ticks return', () => {
    const clock = new ManualClock(T0);
    const store = openStore(stateFile());
    let view: typeof stoppedView | null = stoppedView;
    const pushed: { topic: string; key?: string; message?: string }[] = [];
    const metrics = new MetricsService({
      db: store.db,
      clock,
      defaultMetrics: false,
      streaming: () => view,
      push: { publish: (topic, key, message) => pushed.push({ topic, key, message }) },
    });
    expect(metrics.evaluate().map((t) => [t.kind, t.alert.rule])).toEqual([['fired', 'streaming_stopped']]);
    clock.advance(5_000);
    expect(metrics.evaluate()).toEqual([]);
    expect(alertPushes(pushed)).toEqual([
      { topic: 'alerts:changed', key: 'streaming_stopped', message: expect.stringContaining('restart the ticker service') },
    ]);
    view = { ...stoppedView, state: 'streaming', silentForMs: 0, message: 'streaming: last tick 0 s ago' };
    clock.advance(5_000);
    expect(metrics.evaluate().map((t) => [t.kind, t.alert.rule])).toEqual([['resolved', 'streaming_stopped']]);
  });
});
