// Fuzz over every declared route (issue 14): arbitraries derived from each route's zod schemas (through their JSON
// Schema), mixed with arbitrary JSON, sent over real HTTP to the whole console. Invariant: every answer is below 500
// and arrives within a bound (no hang). The webhook's bodies are signed, so its schema is reached too.
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startApp, type RunningApp } from '../app/app';
import { loadConfig } from '../config/load';
import { signDelivery } from '../events/webhook-auth';
import type { RouteDef } from './server';
import { raw } from './testing/raw';

type Schema = Record<string, any>;

const interesting = fc.constantFrom('', ' ', '0', '-1', '1e309', 'NaN', 'null', '2026-99-99', '0000-01-01', '2026-02-30', '9'.repeat(30), '%E0%A4%A', '../../etc', '\u0000', 'NIFTY', '2025-11-25', '2025-11-04T09:15:00Z', '+275760-09-13T00:00:00Z');
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), interesting);

/** An arbitrary for a JSON Schema (the subset zod emits), with a share of wrong-typed and edge values. */
function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  const valid = validFrom(schema, depth);
  return fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: anyJson, weight: 1 });
}

function validFrom(s: Schema, depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (Array.isArray(union) && union.length) return fc.oneof(...union.map((u: Schema) => fromSchema(u, depth + 1)));
  if (Array.isArray(s.allOf) && s.allOf.length) return fromSchema(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'date-time') return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), interesting);
      if (s.format === 'date') return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), interesting);
      return fc.oneof(fc.string({ maxLength: s.maxLength ?? 40 }), interesting);
    case 'integer':
      return fc.oneof(fc.integer({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 }), fc.constantFrom(-1, 0, 2 ** 53, 1e300));
    case 'number':
      return fc.oneof(fc.double({ noNaN: true, min: s.minimum ?? -1e9, max: s.maximum ?? 1e9 }), fc.constantFrom(-1, 0, 1e300));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(s.items, depth + 1), { maxLength: Math.min(s.maxItems ?? 8, 8) + 1 });
    case 'object': {
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) props[k] = fromSchema(v, depth + 1);
      const required = (s.required ?? []) as string[];
      return fc.record(props, { requiredKeys: required.filter((k) => k in props) });
    }
    default:
      return anyJson;
  }
}

const jsonSchema = (schema: z.ZodType | undefined): Schema | undefined => {
  if (!schema) return undefined;
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Schema;
  } catch {
    return undefined;
  }
};

function toQuery(value: unknown): string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(v)) for (const x of v) params.append(k, typeof x === 'string' ? x : JSON.stringify(x));
    else if (v !== undefined) params.append(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

let app: RunningApp;
let secret: string;

beforeAll(async () => {
  const env = {
    STRIKEDESK_HOME: mkdtempSync(join(tmpdir(), 'sd-fuzz-')),
    STRIKEDESK_PORT: '0',
    STRIKEDESK_DEVTICKER_PORT: '0',
    STRIKEDESK_DEVTICKER_CLOCK: 'always-open',
    STRIKEDESK_POLL_INTERVAL: '3600',
    STRIKEDESK_BACKFILL_INTERVAL: '1440',
  };
  app = await startApp(loadConfig({ env, argv: [] }), { env });
  const settings = await raw(app.url, '/api/settings:get', { method: 'POST', headers: { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json' }, body: '{}' });
  secret = settings.json.value.webhook.secret;
}, 90_000);
afterAll(async () => app?.stop());

const STREAMS = new Set(['GET /api/events']);

describe('fuzz: every route, arbitraries from its schemas', () => {
  it('never answers 5xx and never hangs', async () => {
    const routes = app.context.http.listRoutes().filter((r: RouteDef) => !STREAMS.has(`${r.method} ${r.path}`));
    expect(routes.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const route of routes) {
      const query = fromSchema(jsonSchema(route.query));
      const body = fromSchema(jsonSchema(route.body ?? route.docBody));
      const param = fc.oneof(fc.string({ maxLength: 12 }), interesting);
      await fc.assert(
        fc.asyncProperty(query, body, param, async (q, b, p) => {
          const path = route.path.replace(/:[A-Za-z_]+/g, () => encodeURIComponent(p).replace(/%25E0/g, '%E0'));
          const text = JSON.stringify(b) ?? 'null';
          const headers: Record<string, string> = { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json' };
          if (route.auth === 'custom') Object.assign(headers, { 'x-strikedesk-timestamp': String(Math.floor(Date.now() / 1000)), 'x-strikedesk-signature': signDelivery(secret, Math.floor(Date.now() / 1000), text) });
          const res = await raw(app.url, `${path}${route.method === 'GET' ? toQuery(q) : ''}`, { method: route.method, headers, body: route.method === 'GET' ? undefined : text, timeoutMs: 20_000 });
          if (res.status >= 500) failures.push(`${route.method} ${path} -> ${res.status} ${res.text.slice(0, 200)} (query ${JSON.stringify(q)?.slice(0, 200)}, body ${text.slice(0, 200)})`);
          return res.status < 500;
        }),
        { numRuns: 12, endOnFailure: true },
      );
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
