// The headless front's forwarding against a real HTTP server standing in for the core's listener: an answer the
// core breaks off is broken off for the client too, not left hanging.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFront, type RunningFront } from './front';

let upstream: Server | null = null;
let front: RunningFront | null = null;

afterEach(async () => {
  await front?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  front = null;
  upstream = null;
});

/** GET through the front: resolves with how the answer ended. */
function get(url: string): Promise<{ status: number; ended: 'complete' | 'broken'; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ended: 'complete', body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, ended: 'broken', body }));
      res.on('close', () => {
        if (!res.complete) resolve({ status: res.statusCode ?? 0, ended: 'broken', body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the headless front forwarding to the core', () => {
  it('answers 503 with Retry-After while the core is still starting, instead of holding the request', async () => {
    front = await startFront({
      host: '127.0.0.1',
      port: 0,
      core: { call: async () => ({ ok: true, value: null }), subscribe: () => () => undefined },
    });
    const early = await fetch(`${front.url}/internal/health`);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('2');
    expect(((await early.json()) as { detail: string }).detail).toMatch(/starting/);
  });

  it('breaks off the client’s answer when the core breaks off its own', async () => {
    upstream = createServer((req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
        res.write('strikedesk_up 1\n');
        // The core dies mid-answer.
        setImmediate(() => res.socket?.destroy());
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('whole\n');
    });
    await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', () => resolve()));
    const listenUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    front = await startFront({
      host: '127.0.0.1',
      port: 0,
      core: { call: async () => ({ ok: true, value: null }), subscribe: () => () => undefined },
    });
    front.attach({
      apiToken: 'x'.repeat(32),
      listenUrl,
      routes: [
        { method: 'GET', path: '/metrics' },
        { method: 'GET', path: '/internal/health' },
      ],
    });
    const whole = await get(`${front.url}/internal/health`);
    expect(whole).toEqual({ status: 200, ended: 'complete', body: 'whole\n' });
    const broken = await get(`${front.url}/metrics`);
    expect(broken.status).toBe(200);
    expect(broken.ended).toBe('broken');
    expect(broken.body).toBe('strikedesk_up 1\n');
  }, 20_000);
});
