// The feed and ingest steps inside the real composition root: the embedded devticker's ticks reach the market
// store (in process, and through a real redis-server when REDIS_URL is set), first data is signalled, health shows
// the feed; TICKER_URL without REDIS_URL is reported as no tick source; a taken devticker port fails clearly.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startDevTicker } from '../../devticker';
import { RedisFeedBus } from '../feed/redis-bus';
import { redisSkipReason, startTestRedis, type TestRedis } from '../feed/testing/redis';
import { startTestConsole, testConsoleHome, type TestConsole } from '../../testing/console';

async function subscribeAtm(app: TestConsole): Promise<number[]> {
  const dt = app.services.devticker;
  if (!dt) throw new Error('no embedded devticker');
  const spot = dt.sim.underlyingPrice('NIFTY');
  const chain = dt.registry.chain('NIFTY', dt.registry.expiries('NIFTY')[0]).filter((i) => Math.abs(i.strike - spot) <= 150);
  const tokens = chain.map((i) => i.token);
  dt.sim.subscribe(tokens);
  return tokens;
}

async function expectBarsAndLiveFeed(app: TestConsole, tokens: number[]): Promise<void> {
  const { signals, market, health } = app.services;
  const waiting = { timeout: 15_000, interval: 50 };
  const first = await vi.waitFor(() => {
    const token = tokens.find((t) => signals.firstDataAt(t) !== undefined);
    if (token === undefined) throw new Error('no data yet for any subscribed token');
    return token;
  }, waiting);
  const rows = await market.query<{ n: number }>('SELECT count(*)::int AS n FROM fo_strike_bars WHERE timeframe = 1 AND (call_token = $1 OR put_token = $1)', [
    first,
  ]);
  expect(rows[0].n).toBeGreaterThan(0);
  const feed = await vi.waitFor(() => {
    const c = health.report().components.feed;
    if (!c?.detail?.startsWith('live')) throw new Error(`the feed is not live yet (${c?.detail ?? 'no feed component'})`);
    return c;
  }, waiting);
  expect(feed.status).toBe('ok');
  // The first stored data may be a backfilled bar; ticks for the chain come through the feed (Redis or in-process).
  const ticked = await vi.waitFor(() => {
    const token = tokens.find((t) => typeof app.services.feedMonitor?.lastTickAt(t) === 'number');
    if (token === undefined) throw new Error('no tick yet for any subscribed token');
    return token;
  }, waiting);
  expect(tokens).toContain(ticked);
  expect(health.report().components.ingest.status).toBe('ok');
}

describe('feed and ingest in the app', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("stores the embedded devticker's ticks from the in-process bus", async () => {
    const app = await startTestConsole({ name: 'ingest' });
    cleanup.push(() => app.close());
    expect(app.services.tickerUrl).toBe(app.services.devticker?.url);
    expect(app.services.bus).toBe(app.services.devticker?.bus);
    await expectBarsAndLiveFeed(app, await subscribeAtm(app));
    expect(app.services.health.report().components.devticker.status).toBe('ok');
  }, 60_000);

  it.skipIf(redisSkipReason() !== null)(
    'reads the ticks from Redis when REDIS_URL is set',
    async () => {
      const redis = (await startTestRedis()) as TestRedis;
      cleanup.push(() => redis.stop());
      const app = await startTestConsole({ name: 'ingest', env: { REDIS_URL: redis.url } });
      cleanup.push(() => app.close());
      expect(app.services.bus).toBeInstanceOf(RedisFeedBus);
      await (app.services.bus as RedisFeedBus).ready();
      await app.services.devticker?.redisReady();
      await expectBarsAndLiveFeed(app, await subscribeAtm(app));
      expect(app.services.health.report().components.feed.detail).toMatch(/\(redis\)/);
    },
    60_000,
  );

  it('says there is no tick source when TICKER_URL is set without REDIS_URL', async () => {
    // A real service has no /instruments: the console reads the registry the service's daily dump came from.
    const csv = join(mkdtempSync(join(tmpdir(), 'sd-dump-')), 'instruments.csv');
    const external = await startDevTicker({ port: 0, clockMode: 'always-open', instrumentsCsvPath: csv });
    cleanup.push(() => external.close());
    const app = await startTestConsole({ name: 'ingest', env: { TICKER_URL: external.url, STRIKEDESK_INSTRUMENTS: csv } });
    cleanup.push(() => app.close());
    expect(app.services.tickerUrl).toBe(external.url);
    expect(app.services.devticker).toBeUndefined();
    expect(app.services.bus).toBeUndefined();
    const { feed, ingest } = app.services.health.report().components;
    expect(feed).toMatchObject({ status: 'disabled' });
    expect(feed.detail).toMatch(/REDIS_URL/);
    expect(ingest.status).toBe('disabled');
  }, 60_000);

  it('fails with a message naming STRIKEDESK_DEVTICKER_PORT when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    await expect(startTestConsole({ name: 'ingest', env: { STRIKEDESK_DEVTICKER_PORT: String(port) } })).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${port}.*STRIKEDESK_DEVTICKER_PORT`),
    );
  }, 60_000);

  it('refuses to start with a message naming an invalid operator holiday file', async () => {
    const home = testConsoleHome('ingest');
    const file = join(home, 'holidays.json');
    writeFileSync(file, JSON.stringify([{ date: '2026-13-01', name: 'typo' }]));
    await expect(startTestConsole({ home })).rejects.toThrow(`operator holiday file ${file}: invalid holiday list at 0.date`);
  }, 60_000);
});
