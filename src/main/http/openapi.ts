// /openapi.json: the OpenAPI 3 document of every declared route, generated from the same zod schemas that parse
// the requests, so the document cannot drift from the code.
import { z } from 'zod';
import type { RouteDef } from './server';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  try {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    delete out.$schema;
    return out;
  } catch {
    return {};
  }
}

export function buildOpenApi(routes: readonly RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/\/:([A-Za-z_]+)/g, '/{$1}');
    const parameters: unknown[] = [];
    for (const m of route.path.matchAll(/\/:([A-Za-z_]+)/g)) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (route.query) {
      const qs = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(qs.properties ?? {})) {
        parameters.push({ name, in: 'query', required: qs.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [code, description] of Object.entries(route.responses ?? { 200: 'OK' })) responses[code] = { description };
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses,
      security: route.auth === 'token' ? [{ bearer: [] }] : route.auth === 'custom' ? [{ webhookSignature: [] }] : [],
    };
    const body = route.body ?? route.docBody;
    if (body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(body) } } };
    }
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Strikedesk console', version, description: 'Local HTTP API of the Strikedesk operator console.' },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'STRIKEDESK_API_TOKEN, or the per-run token printed at start-up' },
        webhookSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Strikedesk-Signature',
          description: 'sha256=<hex HMAC-SHA256 of "<X-Strikedesk-Timestamp>.<raw body>">',
        },
      },
    },
  };
}
