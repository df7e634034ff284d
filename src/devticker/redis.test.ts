// Publishes through a real redis-server (started here on a free loopback port) and checks the channel shapes.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fromIstWallClock } from '../shared/calendar';
import { ManualClock } from '../testing/clock';
import { CHANNEL_EVENTS, CHANNEL_OPTIONS, CHANNEL_UNDERLYING } from '../shared/feed';
import { startDevTicker } from './index';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) process.stdout.write('redis.test.ts skipped: redis-server is not on PATH (apt-get install -y redis-server)\n');

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

describe.skipIf(!hasRedis)('devticker on Redis', () => {
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    // wait until it accepts connections
    await vi.waitFor(
      async () => {
        const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        probe.on('error', () => {});
        try {
          await probe.connect();
          await probe.ping();
          await probe.quit();
        } catch (err) {
          probe.disconnect();
          throw err;
        }
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
  });

  it('publishes ticks and events with the contract shapes', async () => {
    const clock = new ManualClock(fromIstWallClock('2025-11-04T10:00:00'));
    const dt = await startDevTicker({ port: 0, clock, autoTick: false, redisUrl: url, publishRedisEvents: true });
    const sub = new Redis(url);
    try {
      await dt.redisReady();
      // SUBSCRIBE only once ready: sent during ioredis's ready check it breaks the check and is lost.
      if (sub.status !== 'ready') await new Promise((r) => sub.once('ready', r));
      const got: Record<string, any[]> = { [CHANNEL_OPTIONS]: [], [CHANNEL_UNDERLYING]: [], [CHANNEL_EVENTS]: [] };
      const raw: string[] = [];
      sub.on('message', (channel: string, message: string) => {
        raw.push(message);
        got[channel].push(JSON.parse(message.replace(/\bNaN\b/g, 'null')));
      });
      await sub.subscribe(CHANNEL_OPTIONS, CHANNEL_UNDERLYING, CHANNEL_EVENTS);
      const spot = dt.sim.underlyingPrice('NIFTY');
      const atm = dt.registry.chain('NIFTY', '2025-11-11').find((i) => i.instrumentType === 'CE' && Math.abs(i.strike - spot) <= 25)!;
      const fut = dt.registry.byTradingsymbol('NIFTY25NOVFUT')!;
      dt.sim.subscribe([atm.token, fut.token, 256265]);
      for (let i = 0; i < 3; i++) {
        dt.sim.tick();
        clock.advance(1000);
      }
      await expect
        .poll(() => got[CHANNEL_OPTIONS].length >= 6 && got[CHANNEL_UNDERLYING].length >= 3 && got[CHANNEL_EVENTS].length >= 3, {
          message: 'three seconds of messages',
          timeout: 5000,
        })
        .toBe(true);
      const opt = got[CHANNEL_OPTIONS].find((m) => m.token === atm.token);
      expect(opt).toMatchObject({
        symbol: 'NIFTY',
        token: atm.token,
        tradingsymbol: atm.tradingsymbol,
        segment: 'NFO-OPT',
        exchange: 'NFO',
        type: 'CE',
        lot_size: 75,
        is_mock: false,
      });
      for (const key of ['price', 'volume', 'oi', 'iv', 'delta', 'gamma', 'theta', 'vega', 'ts']) expect(typeof opt[key]).toBe('number');
      expect(got[CHANNEL_OPTIONS].find((m) => m.token === fut.token)).toMatchObject({ type: 'FUT', strike: 0, iv: 0 });
      const shapes = got[CHANNEL_UNDERLYING].map((u) => ('last_price' in u ? 'A' : 'B'));
      expect(new Set(shapes)).toEqual(new Set(['A', 'B']));
      expect(got[CHANNEL_EVENTS].map((e) => e.event_type)).toEqual(['subscription_created', 'subscription_created', 'subscription_created']);
      expect(got[CHANNEL_EVENTS][0]).toMatchObject({ instrument_token: atm.token, metadata: { segment: 'NFO', account_id: null } });
      // the bytes on Redis are Python json.dumps text
      for (const m of raw) expect(m).not.toMatch(/","|":[^ ]|,"/);
      const health = (await (await fetch(`${dt.url}/health`)).json()) as any;
      expect(health.dependencies.redis).toBe('ok');
    } finally {
      await sub.quit();
      await dt.close();
    }
  });
});
