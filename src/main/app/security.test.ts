// Issue 14 against the whole console (embedded devticker, PGlite, real HTTP): rebinding hosts get nothing, a web
// page cannot make it subscribe, bad dates and instants are 4xx on /fo and the API, credentials in TICKER_URL never
// reach health or settings, the home is private and locked.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from '../http/testing/raw';
import { startTestConsole, type TestConsole } from '../../testing/console';

let app: TestConsole;
let home: string;

beforeAll(async () => {
  app = await startTestConsole({ name: 'sec' });
  home = app.home;
}, 90_000);
afterAll(async () => app?.close());

const api = (channel: string, body: unknown, headers: Record<string, string> = {}) =>
  raw(app.url, `/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('a rebinding host or another site gets nothing', () => {
  it('421 on health, metrics, OpenAPI and /fo for a foreign Host', async () => {
    for (const path of ['/internal/health', '/metrics', '/openapi.json', '/fo/strike-distribution?symbol=NIFTY', '/']) {
      const res = await raw(app.url, path, { headers: { host: 'evil.example' } });
      expect(res.status, path).toBe(421);
    }
    expect((await raw(app.url, '/internal/health')).status).toBe(200);
  });

  it('/fo from a page on another site is refused and subscribes nothing; curl keeps working', async () => {
    const before = await api('subscriptions:list', {});
    const count = (r: typeof before) => JSON.stringify(r.json).length;
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }] as Record<
      string,
      string
    >[]) {
      const res = await raw(app.url, '/fo/strike-distribution?symbol=NIFTY&auto_subscribe=true', { headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    const after = await api('subscriptions:list', {});
    expect(count(after)).toBe(count(before));
    const curl = await raw(app.url, '/fo/strike-distribution?symbol=NIFTY&auto_subscribe=false');
    expect(curl.status).toBeLessThan(500);
    expect([403, 421]).not.toContain(curl.status);
  });

  it('a cross-site POST to the API is refused even with the token', async () => {
    const res = await api('flags:set', { key: 'backfill_immediate_on_subscribe', value: false, reason: 'csrf' }, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
  });
});

describe('bad dates and instants are 4xx, never 500', () => {
  it('/fo: unreal dates, too many expiries, huge or out-of-range at', async () => {
    const expiries = ['2026-01-01', '2026-01-08', '2026-01-15', '2026-01-22', '2026-01-29', '2026-02-05', '2026-02-12'].join(',');
    for (const query of [
      'expiry=0000-01-01',
      'expiry=2026-99-99',
      'expiry=2026-02-30',
      `expiry=${expiries}`,
      'at=99999999999999999999999',
      'at=8640000000000001',
      'at=%2B275760-09-13T00:00:00Z',
      'at=1900-01-01T00:00:00Z',
      `at=${'9'.repeat(500)}`,
    ]) {
      const res = await raw(app.url, `/fo/strike-distribution?symbol=NIFTY&auto_subscribe=false&${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.detail, query).toMatch(/expiry|at/);
    }
  });

  it('chain:distribution: 2026-99-99 and an out-of-range at are BAD_REQUEST naming the field; no database text', async () => {
    const res = await api('chain:distribution', { symbol: 'NIFTY', expiries: ['2026-99-99'], autoSubscribe: false });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'BAD_REQUEST', field: 'expiries.0' });
    const at = await api('chain:distribution', { symbol: 'NIFTY', autoSubscribe: false, at: '9999-12-31T00:00:00Z' });
    expect(at.status).toBe(400);
    expect(at.json.error.field).toBe('at');
    const coverage = await api('backfill:coverage', { symbol: 'NIFTY', expiry: '0000-01-01' });
    expect(coverage.status).toBe(400);
  });
});

describe('the data directory', () => {
  it('is 0700 with state.db* 0600 and no market file open to others', () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(home).filter((n) => n.startsWith('state.db'))) expect(statSync(join(home, name)).mode & 0o777, name).toBe(0o600);
    const open: string[] = [];
    const walk = (p: string) => {
      const s = statSync(p);
      if (s.mode & 0o077) open.push(p);
      if (s.isDirectory()) for (const c of readdirSync(p)) walk(join(p, c));
    };
    walk(join(home, 'market'));
    expect(open).toEqual([]);
  });

  it('a second console on the same home refuses to start, naming the first one', async () => {
    await expect(startTestConsole({ home })).rejects.toThrow(new RegExp(`Another Strikedesk console \\(pid ${process.pid}\\) is using the data directory`));
    // The first one is untouched.
    expect((await raw(app.url, '/internal/health')).status).toBe(200);
  });
});

describe('credentials in TICKER_URL', () => {
  let other: TestConsole;
  beforeAll(async () => {
    // Instruments from the fixture CSV: the console starts although the ticker (port 9) does not answer.
    other = await startTestConsole({
      name: 'sec2',
      env: {
        TICKER_URL: 'http://kiteuser:s3cretPassw0rd@127.0.0.1:9/?token=t0psecret',
        STRIKEDESK_INSTRUMENTS: join(__dirname, '../../../fixtures/ticker-service/instruments.csv'),
      },
    });
  }, 90_000);
  afterAll(async () => other?.close());

  it('never appear in /internal/health, health:get or settings:get', async () => {
    const health = await raw(other.url, '/internal/health');
    expect(health.status).toBe(200);
    expect(health.text).toContain('127.0.0.1:9');
    expect(health.text).not.toMatch(/s3cretPassw0rd|t0psecret/);
    const call = (channel: string) =>
      raw(other.url, `/api/${channel}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${other.apiToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
    for (const channel of ['health:get', 'settings:get']) {
      const res = await call(channel);
      expect(res.status, channel).toBe(200);
      expect(res.text, channel).not.toMatch(/s3cretPassw0rd|t0psecret/);
    }
  });
});
