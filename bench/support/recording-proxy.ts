// Recording proxies in a process of their own, for bench:multi. Each proxy sits between one console and the
// devticker and logs every request as it arrives (console, method, route, token, arrival time, status).
//
// Why a separate process: the wire stamp must not depend on the event loop of the consoles it judges. In the bench
// process three consoles and the devticker share one thread; a proxy there stamps an arrival when that busy loop
// gets round to parsing it, so requests sent a second apart could be stamped together (or apart) by the bench's own
// lag, not by when they reached the service. Here the proxies do nothing else.
//
// Protocol (Node IPC, started with fork): parent -> { type: 'start', target, count }; child -> { type: 'ready', urls }.
// parent -> { type: 'clear' } | { type: 'dump' }; child -> { type: 'log', entries } (after dump) | { type: 'cleared' }.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Arrival {
  console: number;
  method: string;
  route: string;
  token: number | null;
  /** Epoch ms when the proxy received the request line and headers. */
  at: number;
  /** The devticker's status (0 = not answered yet, -1 = the proxy could not reach it). */
  status: number;
}

export type ProxyRequest = { type: 'start'; target: string; count: number } | { type: 'clear' } | { type: 'dump' };
export type ProxyAnswer = { type: 'ready'; urls: string[] } | { type: 'log'; entries: Arrival[] } | { type: 'cleared' };

function recordingProxy(target: string, consoleIndex: number, log: Arrival[]): Promise<{ url: string; server: Server }> {
  const upstream = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://proxy');
    const route = url.pathname.startsWith('/subscriptions/') ? '/subscriptions/{token}' : url.pathname;
    const token = url.searchParams.get('instrument_token');
    const entry: Arrival = { console: consoleIndex, method: req.method ?? 'GET', route, token: token === null ? null : Number(token), at, status: 0 };
    log.push(entry);
    // The devticker answers 421 to a Host that is not its own address: forward with the upstream's Host.
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', (err) => {
      entry.status = -1;
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: `proxy: ${err.message}` }));
    });
    req.pipe(out);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })),
  );
}

if (process.send) {
  const log: Arrival[] = [];
  const send = (m: ProxyAnswer) => process.send?.(m);
  process.on('message', (m: ProxyRequest) => {
    if (m.type === 'start') {
      void Promise.all(Array.from({ length: m.count }, (_, i) => recordingProxy(m.target, i, log))).then((proxies) =>
        send({ type: 'ready', urls: proxies.map((p) => p.url) }),
      );
    } else if (m.type === 'clear') {
      log.length = 0;
      send({ type: 'cleared' });
    } else if (m.type === 'dump') {
      send({ type: 'log', entries: log });
    }
  });
  // The parent going away (a killed bench) takes the proxies with it.
  process.on('disconnect', () => process.exit(0));
}
