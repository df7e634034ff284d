// A throwaway redis-server for benches (the Debian package's binary, as .ci/run installs it): loopback, a free port,
// no persistence, a temp dir removed on stop. Benches that need the ticker's Redis (ticks and events) start one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** Resolves once the server answers PING (within 10 s), so a client connecting next finds it up. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.once('data', (b) => {
      socket.destroy();
      resolve(b.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRedisServer(name: string): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `sd-${name}-redis-`));
  const redis: ChildProcess = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 10_000;
  while (!(await pong(port))) {
    if (redis.exitCode !== null || Date.now() > deadline) {
      redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${port} (is /usr/bin/redis-server installed?)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      redis.kill('SIGTERM');
      await new Promise((r) => (redis.exitCode !== null ? r(null) : redis.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
