// The Redis intake path against a real redis-server (spawned here on a free loopback port): events of both shapes,
// invalid messages ignored and counted, and a restart of redis-server followed by resubscription and a
// reconciliation that finds the subscription made while the events were unreachable.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import { CHANNEL_EVENTS } from '../../shared/feed';
import { HealthRegistry } from '../metrics/health';
import { noopTelemetry, type Telemetry } from '../metrics/telemetry';
import type { InboxRow } from './inbox';
import { httpLister, planBody, redisBody, startTestIntake, type TestIntake } from './testing/support';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) process.stdout.write('events/redis.test.ts skipped: redis-server is not on PATH (apt-get install -y redis-server)\n');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  // In a hook (beforeAll), where expect.poll is not allowed: vi.waitFor retries until the probe stops throwing.
  await vi.waitFor(
    async () => {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        await probe.quit();
      } catch (err) {
        probe.disconnect();
        throw err;
      }
    },
    { timeout: 10_000, interval: 10 },
  );
  return server;
}

async function stopRedis(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGKILL');
  await exited;
}

describe.skipIf(!hasRedis)('redis event intake', () => {
  let port: number;
  let redis: ChildProcess;
  let publisher: Redis;
  let dt: DevTicker;
  let t: TestIntake;
  let tokens: number[];
  const health = new HealthRegistry('test');
  const counted: string[] = [];
  const telemetry: Telemetry = { ...noopTelemetry, intakeEvent: (source, type, outcome) => counted.push(`${source}/${type}/${outcome}`) };
  const rows = (source: string): InboxRow[] => t.state.db.prepare('SELECT * FROM event_inbox WHERE source = ? ORDER BY id').all(source) as InboxRow[];

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    publisher = new Redis(`redis://127.0.0.1:${port}`, { retryStrategy: (n) => Math.min(50 * n, 300) });
    publisher.on('error', () => undefined);
    dt = await startDevTicker({ port: 0, clockMode: 'always-open', autoTick: false });
    tokens = dt.registry
      .chain('NIFTY', dt.registry.expiries('NIFTY')[0])
      .slice(0, 6)
      .map((i) => i.token);
    dt.sim.subscribe(tokens[0]);
    t = await startTestIntake({
      config: { redisUrl: `redis://127.0.0.1:${port}` },
      ticker: () => httpLister(dt.url),
      redisBackoff: { baseMs: 50, maxMs: 300 },
      health,
      telemetry,
    });
    await t.intake.redis!.subscribed(1);
  });
  afterAll(async () => {
    await t?.close();
    publisher?.disconnect();
    await dt?.close();
    if (redis) await stopRedis(redis);
  });

  it('reconciles after the first connect (a baseline on a fresh store)', async () => {
    await expect.poll(() => t.intake.poller.status().lastResult?.kind, { message: 'baseline reconciliation' }).toBe('baseline');
    expect(t.intake.poller.status().known).toBe(1);
  });

  it('takes events of both shapes from ticker:nifty:events, once each', async () => {
    await publisher.publish(CHANNEL_EVENTS, redisBody(9001, 'subscription_created', 1762247700));
    await publisher.publish(CHANNEL_EVENTS, redisBody(9001, 'subscription_created', 1762247700));
    await publisher.publish(CHANNEL_EVENTS, planBody(9002, 'deactivated', '2025-11-04T09:15:00Z'));
    await expect
      .poll(() => rows('redis').length === 3 && rows('redis').every((r) => r.state === 'done' || r.state === 'duplicate'), {
        message: 'three redis rows settled',
      })
      .toBeTruthy();
    expect(rows('redis').map((r) => [r.type, r.token, r.state, r.outcome_code])).toEqual([
      ['created', 9001, 'done', 'backfill_queued'],
      ['created', 9001, 'duplicate', 'duplicate'],
      ['removed', 9002, 'done', 'released'],
    ]);
    expect(t.backfill.calls).toEqual([
      { scope: { kind: 'instrument', token: 9001 }, createdBy: 'event:redis', reason: 'redis event subscription_created NIFTY25NOV9001PE' },
    ]);
    expect(health.report().components.intake_redis).toMatchObject({ status: 'ok', lastEventAt: expect.any(String) });
  });

  it('ignores and counts invalid messages', async () => {
    await publisher.publish(CHANNEL_EVENTS, 'not json');
    await publisher.publish(CHANNEL_EVENTS, JSON.stringify({ event_type: 'subscription_paused', instrument_token: 1 }));
    await expect.poll(() => counted.filter((c) => c === 'redis/invalid/rejected_schema').length, { message: 'two rejections counted' }).toBe(2);
    expect(rows('redis')).toHaveLength(3);
    expect(health.report().components.intake_redis.detail).toMatch(/2 invalid messages ignored/);
  });

  it('reconnects after redis-server restarts, then reconciles and finds what was missed', async () => {
    const runsBefore = t.intake.poller.status().runs;
    await stopRedis(redis);
    await expect.poll(() => t.intake.redis!.status().state, { message: 'listener notices the outage' }).not.toBe('ready');
    expect(health.report().components.intake_redis.status).toBe('degraded');
    // Subscribed while the events channel is unreachable: no event will ever say so.
    dt.sim.subscribe(tokens[1]);
    redis = await startRedis(port);
    await t.intake.redis!.subscribed(2);
    await expect
      .poll(() => rows('poll').find((r) => r.token === tokens[1] && r.state === 'done'), { message: 'reconciliation event for the missed subscription' })
      .toBeTruthy();
    expect(t.intake.poller.status().runs).toBeGreaterThan(runsBefore);
    expect(t.backfill.calls.at(-1)).toEqual({ scope: { kind: 'instrument', token: tokens[1] }, createdBy: 'event:poll', reason: expect.any(String) });
    expect(health.report().components.intake_redis.status).toBe('ok');
    // And the channel is subscribed again.
    await publisher.publish(CHANNEL_EVENTS, redisBody(9003, 'subscription_created'));
    await expect.poll(() => rows('redis').find((r) => r.token === 9003 && r.state === 'done'), { message: 'event after reconnect' }).toBeTruthy();
  });
});
