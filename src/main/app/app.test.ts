// The composition root over real HTTP: health, token auth of the headless API, errors as values, OpenAPI,
// and a clean stop that leaves nothing listening.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConsole, type TestConsole } from '../../testing/console';
import { localActor } from '../relay/actor';

let app: TestConsole;

beforeAll(async () => {
  app = await startTestConsole({ name: 'app' });
}, 90_000);
afterAll(async () => app?.close());

const post = (path: string, body: unknown, token?: string) =>
  fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe('console app', () => {
  it('serves /internal/health with an ISO-8601 Z timestamp and components', async () => {
    const res = await fetch(`${app.url}/internal/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; timestamp: string; components: Record<string, { status: string }> };
    expect(['ok', 'degraded']).toContain(body.status);
    expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(body.components.state_store.status).toBe('ok');
    expect(body.components.market_store.status).toBe('ok');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('requires the API token for the headless API (401 without, 200 with)', async () => {
    expect((await post('/api/flags:list', {})).status).toBe(401);
    expect((await post('/api/flags:list', {}, 'wrong-token-wrong-token')).status).toBe(401);
    const res = await post('/api/flags:list', {}, app.apiToken);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; value: { key: string }[] };
    expect(body.ok).toBe(true);
    expect(body.value.map((f) => f.key)).toContain('smart_subscription_enabled');
    // ?token= is for GET /api/events only (EventSource cannot send headers): a URL token elsewhere is refused.
    const viaQuery = await fetch(`${app.url}/api/flags:list?token=${encodeURIComponent(app.apiToken)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(viaQuery.status).toBe(401);
  });

  it('returns errors as values with a status and the field', async () => {
    const res = await post('/api/flags:set', { key: 'smart_subscription_enabled', value: false }, app.apiToken);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', field: 'reason' } });
    const malformed = await fetch(`${app.url}/api/flags:list`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${app.apiToken}`, 'Content-Type': 'application/json' },
      body: '{oops',
    });
    expect(malformed.status).toBe(400);
    const notJson = await fetch(`${app.url}/api/flags:list`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${app.apiToken}`, 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(notJson.status).toBe(415);
    const wrongMethod = await fetch(`${app.url}/api/flags:list`, { headers: { Authorization: `Bearer ${app.apiToken}` } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('changes a flag through the API and records who did it', async () => {
    const res = await post('/api/flags:set', { key: 'backfill_immediate_on_subscribe', value: false, reason: 'e2e check' }, app.apiToken);
    expect(await res.json()).toMatchObject({ ok: true, value: { key: 'backfill_immediate_on_subscribe', value: false, updatedBy: localActor() } });
    const audit = (await (await post('/api/flags:audit', {}, app.apiToken)).json()) as { value: { actor: string; reason: string }[] };
    // Audit names a person: the console's own token belongs to the OS user who started it.
    expect(audit.value[0]).toMatchObject({ actor: localActor(), reason: 'e2e check' });
  });

  it('lists every route in an OpenAPI 3 document', async () => {
    const doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/internal/health']).toHaveProperty('get');
    expect(doc.paths['/api/flags:set']).toHaveProperty('post.requestBody');
  });

  it('stops every service and leaves nothing listening', async () => {
    const other = await startTestConsole({ name: 'app-stop' });
    const port = Number(new URL(other.url).port);
    await other.close();
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }, 90_000);
});
