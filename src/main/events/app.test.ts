// The intake inside the composed console (startApp): the webhook signed with the secret settings:get shows, the event
// in events:list, each intake path in /internal/health, and the generated secret kept across a restart.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HealthReport, IntakeEvent, SettingsView } from '../../shared/api';
import { startTestConsole, type TestConsole } from '../../testing/console';
import { planBody, postEvent } from './testing/support';

let app: TestConsole;
const ALICE_TOKEN = 'alice-operator-token-0123456789abcdef';
const call = <T>(channel: string, body?: unknown): Promise<T> => app.call<T>(channel, body);

beforeAll(async () => {
  app = await startTestConsole({ name: 'events-app', env: { STRIKEDESK_API_TOKENS: `alice:${ALICE_TOKEN}` } });
}, 90_000);
afterAll(async () => app?.close());

describe('event intake in the console', () => {
  let settings: SettingsView;

  it('shows the generated webhook secret and the webhook URL in settings:get', async () => {
    settings = await call<SettingsView>('settings:get');
    expect(settings.webhook).toMatchObject({
      url: `${app.url}/internal/subscription-events`,
      secretSource: 'generated',
      toleranceSeconds: 300,
      acceptPlainHeader: false,
    });
    expect(settings.webhook.secret?.length).toBeGreaterThanOrEqual(40);
    expect(settings.intake).toEqual({ redis: false, pollIntervalSeconds: 3600 });
    expect(settings.ticker.embedded).toBe(true);
    expect(settings.dataDir).toBe(app.home);
  });

  it('withholds the webhook secret from a named operator token (it could forge events), not the rest', async () => {
    const res = await fetch(`${app.url}/api/settings:get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALICE_TOKEN}` },
      body: '{}',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: true; value: SettingsView };
    expect(body.value.webhook.secret).toBeNull();
    expect(body.value.webhook.url).toBe(settings.webhook.url);
    expect(body.value.webhook.secretSource).toBe('generated');
  });

  it('accepts a delivery signed with that secret and lists it with its outcome', async () => {
    const res = await postEvent(app.url, { body: planBody(13660418, 'created', '2025-11-04T09:15:00Z'), secret: settings.webhook.secret ?? '' });
    expect(res.status).toBe(202);
    const event = await vi.waitFor(
      async () => {
        const done = (await call<IntakeEvent[]>('events:list', { limit: 10 })).find((e) => e.id === res.body.event_id && e.state === 'done');
        if (!done) throw new Error(`event #${res.body.event_id} not processed yet`);
        return done;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(event).toMatchObject({ source: 'webhook', type: 'created', token: 13660418, occurredAt: '2025-11-04T09:15:00.000Z' });
    expect(event.outcome).toMatch(/backfill/);
    const wrong = await postEvent(app.url, { body: planBody(1), secret: 'not-the-secret-not-the-secret' });
    expect(wrong.status).toBe(401);
  });

  it('reports each intake path in /internal/health', async () => {
    const report = (await (await fetch(`${app.url}/internal/health`)).json()) as HealthReport;
    expect(report.components.intake_webhook).toMatchObject({ status: 'ok', lastEventAt: expect.any(String) });
    expect(report.components.intake_redis).toMatchObject({ status: 'disabled', detail: 'REDIS_URL is not set' });
    expect(report.components.intake_poller).toHaveProperty('status');
  });

  it('keeps the generated secret across a restart', async () => {
    await app.restart();
    expect((await call<SettingsView>('settings:get')).webhook.secret).toBe(settings.webhook.secret);
  }, 90_000);
});
