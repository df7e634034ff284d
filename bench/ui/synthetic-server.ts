// A stand-in for the console's HTTP side for the UI benchmark: serves the real renderer build, answers the chain
// channels with a synthetic chain that changes every second, and pushes chain:changed every second over SSE, the
// way main does. Everything else answers UNAVAILABLE, as a console whose other services are not running.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { syntheticDistribution, syntheticUnderlyings } from './synthetic-chain';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

export interface SyntheticServer {
  url: string;
  /** Pushes per second (0 stops the updates: the idle baseline). */
  setPushing(on: boolean): void;
  requests(): number;
  close(): Promise<void>;
}

export async function startSyntheticServer(rendererDir: string, pushEveryMs = 1000): Promise<SyntheticServer> {
  if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`${rendererDir}/index.html missing: run npm run build first`);
  const clients = new Set<ServerResponse>();
  let pushing = false;
  let served = 0;
  const startedAt = Date.now();
  const timer = setInterval(() => {
    if (!pushing) return;
    for (const res of clients) res.write(`data: ${JSON.stringify({ topic: 'chain:changed', key: 'NIFTY' })}\n\n`);
  }, pushEveryMs);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
      res.write('retry: 2000\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      const channel = decodeURIComponent(url.pathname.slice(5));
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const request = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        const now = Date.now();
        let body: unknown;
        if (channel === 'chain:underlyings') body = { ok: true, value: syntheticUnderlyings(now) };
        else if (channel === 'chain:distribution') {
          served += 1;
          const symbol = String(request.symbol ?? 'NIFTY');
          const expiries = (request.expiries as string[] | undefined) ?? [syntheticUnderlyings(now)[0].expiries[0].expiry];
          const tick = Math.floor((now - startedAt) / 1000);
          body = {
            ok: true,
            value: syntheticDistribution({
              symbol,
              expiries,
              strikeRange: Number(request.strikeRange ?? 10),
              tick,
              now,
              centerStrike: request.centerStrike as number | undefined,
            }),
          };
        } else body = { ok: false, error: { code: 'UNAVAILABLE', message: `${channel} is not available: its service is not running` } };
        const ok = (body as { ok: boolean }).ok;
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      });
      return;
    }
    const file = normalize(join(rendererDir, url.pathname === '/' ? 'index.html' : url.pathname));
    if (!file.startsWith(rendererDir) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setPushing: (on) => {
      pushing = on;
    },
    requests: () => served,
    close: async () => {
      clearInterval(timer);
      for (const res of clients) res.end();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
