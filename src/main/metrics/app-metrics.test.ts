// Metrics inside the composed console (startApp): the real service behind context.telemetry, GET /metrics open on
// the loopback bind and accepted by promtool, the metrics:* and alerts:* channels over the headless API, a health
// probe, and history plus thresholds that survive a restart of the console.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertThresholds, AlertView, HealthReport, MetricsSummary } from '../../shared/api';
import { startTestConsole, type TestConsole } from '../../testing/console';

let app: TestConsole;

async function call<T>(channel: string, body: unknown = {}): Promise<{ status: number; ok: boolean; value: T; error?: { code: string; field?: string } }> {
  const res = await fetch(`${app.url}/api/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiToken}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as { ok: boolean; value: T; error?: { code: string; field?: string } }) };
}

beforeAll(async () => {
  app = await startTestConsole({ name: 'metrics-app' });
}, 90_000);
afterAll(async () => app?.close());

describe('metrics in the console', () => {
  it('puts the real metrics service behind context.telemetry', () => {
    expect(app.services.metrics).toBeDefined();
    expect(app.services.telemetry).toBe(app.services.metrics);
  });

  it('serves GET /metrics without a token on the loopback bind, accepted by promtool', async (ctx) => {
    const telemetry = app.services.telemetry;
    for (let i = 0; i < 9; i++) telemetry.autoSubscribeAttempt('succeeded', 'subscribed', 900_000 + i);
    telemetry.autoSubscribeAttempt('failed', 'capacity', 900_100);
    telemetry.timeToData(6.5, 900_000);
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toMatch(/^strikedesk_auto_subscribe_attempts_total\{outcome="succeeded",reason="subscribed"\} 9$/m);
    expect(body).toMatch(/^strikedesk_time_to_data_seconds_count 1$/m);
    expect(body).toMatch(/^process_cpu_seconds_total /m);

    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (!promtool) {
      console.warn('skipped the promtool check: promtool is not installed (apt-get install prometheus)');
      ctx.skip();
      return;
    }
    const run = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it('answers metrics:summary and alerts:list over the headless API', async () => {
    const summary = await call<MetricsSummary>('metrics:summary', { hours: 1 });
    expect(summary.ok).toBe(true);
    expect(summary.value.autoSubscribe).toMatchObject({ attempted: 10, succeeded: 9, failed: 1, successRate: 0.9 });
    expect(summary.value.timeToData.count).toBe(1);
    expect(summary.value.thresholds).toEqual({
      autoSubscribeFailureRatio: 0.1,
      autoSubscribeWindowMinutes: 15,
      timeToDataSeconds: 30,
      subscriptionCallsPerHour: 1000,
    });
    // 10% failures is not above 10%: nothing fires.
    app.services.metrics?.tick();
    const alerts = await call<{ active: AlertView[]; history: AlertView[] }>('alerts:list', {});
    expect(alerts.value.active.filter((a) => a.rule === 'auto_subscribe_failures')).toEqual([]);
    expect((await fetch(`${app.url}/api/metrics:summary`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('changes a threshold only with a reason, fires at once, and pushes the alert text', async () => {
    const noReason = await call<AlertThresholds>('alerts:thresholds', { autoSubscribeFailureRatio: 0.05 });
    expect(noReason.status).toBe(400);
    expect(noReason.error).toMatchObject({ code: 'BAD_REQUEST', field: 'reason' });

    const pushed: { topic: string; message?: string }[] = [];
    const off = app.services.push.subscribe((e) => pushed.push(e));
    const set = await call<AlertThresholds>('alerts:thresholds', { autoSubscribeFailureRatio: 0.05, reason: 'stricter during rollout' });
    off();
    expect(set.value.autoSubscribeFailureRatio).toBe(0.05);
    expect(pushed).toContainEqual({ topic: 'alerts:changed', key: 'auto_subscribe_failures', message: expect.stringContaining('10.0% (1 of 10)') });
    const alerts = await call<{ active: AlertView[] }>('alerts:list', {});
    expect(alerts.value.active.map((a) => a.rule)).toContain('auto_subscribe_failures');
    const metricsText = await (await fetch(`${app.url}/metrics`)).text();
    expect(metricsText).toMatch(/^strikedesk_alerts_firing\{rule="auto_subscribe_failures"\} 1$/m);
  });

  it('reports itself in /internal/health and lists /metrics in the OpenAPI document', async () => {
    const report = (await (await fetch(`${app.url}/internal/health`)).json()) as HealthReport;
    expect(report.components.metrics).toMatchObject({ status: 'ok', detail: expect.stringContaining('auto_subscribe_failures') });
    const doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths['/metrics']).toHaveProperty('get');
  });

  it('keeps history, thresholds and the firing alert across a restart', async () => {
    await app.restart();
    const summary = await call<MetricsSummary>('metrics:summary', { hours: 1 });
    expect(summary.value.autoSubscribe).toMatchObject({ attempted: 10, failed: 1 });
    expect(summary.value.thresholds.autoSubscribeFailureRatio).toBe(0.05);
    const alerts = await call<{ active: AlertView[] }>('alerts:list', {});
    expect(alerts.value.active.filter((a) => a.rule === 'auto_subscribe_failures')).toHaveLength(1);
  }, 90_000);
});
