// The ConsoleApi over HTTP for the headless console (POST /api/<channel>, pushed events as SSE on /api/events),
// plus /internal/health and /openapi.json.
import { CHANNELS, CONTRACT } from '../../shared/api';
import { STATUS_OF, type ConsoleApi } from '../api/console-api';
import type { PushHub } from '../api/push';
import type { HealthRegistry } from '../metrics/health';
import { SECURITY_HEADERS } from './headers';
import { buildOpenApi } from './openapi';
import type { HttpServer } from './server';

export function registerConsoleRoutes(
  server: HttpServer,
  api: Pick<ConsoleApi, 'call'>,
  push: Pick<PushHub, 'subscribe'>,
  health: Pick<HealthRegistry, 'report'>,
  version: string,
): void {
  server.addRoute({
    method: 'GET',
    path: '/internal/health',
    summary: 'Health of the console and each component (ticker, stores, intake paths, feed)',
    tag: 'internal',
    auth: 'public',
    responses: { 200: 'status, timestamp (ISO-8601 UTC) and components' },
    handler: () => ({ body: health.report() }),
  });

  server.addRoute({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'internal',
    auth: 'public',
    handler: () => ({ body: buildOpenApi(server.listRoutes(), version) }),
  });

  for (const channel of CHANNELS) {
    server.addRoute({
      method: 'POST',
      path: `/api/${channel}`,
      summary: `ConsoleApi ${channel} (answers {ok, value} or {ok:false, error:{code, message, field}})`,
      tag: 'console',
      auth: 'token',
      // Parsed by ConsoleApi.call so that errors come back as values; declared here for the OpenAPI document.
      docBody: CONTRACT[channel].request,
      responses: {
        200: 'ok',
        400: 'invalid request (names the field)',
        401: 'missing token',
        404: 'not found',
        409: 'conflict or pinned flag',
        503: 'service not running',
      },
      handler: async ({ rawBody, actor }) => {
        let request: unknown = {};
        if (rawBody.length) {
          try {
            request = JSON.parse(rawBody.toString('utf8'));
          } catch (err) {
            return { status: 400, body: { ok: false, error: { code: 'BAD_REQUEST', message: `malformed JSON body: ${(err as Error).message}` } } };
          }
        }
        const result = await api.call(channel, request, { actor });
        return { status: result.ok ? 200 : STATUS_OF[result.error.code], body: result };
      },
    });
  }

  server.addRoute({
    method: 'GET',
    path: '/api/events',
    summary: 'Server-sent events: pushed invalidations ({topic, key?, message?})',
    tag: 'console',
    auth: 'token',
    // EventSource cannot send an Authorization header: the one route that takes ?token=.
    queryToken: true,
    handler: ({ req, res }) => {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        ...SECURITY_HEADERS,
      });
      res.write('retry: 2000\n\n');
      const unsubscribe = push.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
      });
      return { raw: true };
    },
  });
}
