// Fuzz over every declared route (issue 14): arbitraries derived from each route's zod schemas (through their JSON
// Schema), mixed with arbitrary JSON, sent over real HTTP to the whole console. Invariant: every answer is below 500
// (503 UNAVAILABLE aside: a service that is not running says so) and arrives within a bound (no hang). The webhook's
// bodies are signed, so its schema is reached too. FUZZ_RUNS=n per route (default 25); FUZZ_REPORT=1|verbose.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestConsole, type TestConsole } from '../../testing/console';
import { signDelivery } from '../events/webhook-auth';
import type { RouteDef } from './server';
import { raw } from './testing/raw';

type Schema = Record<string, any>;

const interesting = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  'null',
  '2026-99-99',
  '0000-01-01',
  '2026-02-30',
  '9'.repeat(30),
  '%E0%A4%A',
  '../../etc',
  '\u0000',
  'NIFTY',
  '2025-11-25',
  '2025-11-04T09:15:00Z',
  '+275760-09-13T00:00:00Z',
);
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), interesting);
const pad = (n: number, w: number) => String(n).padStart(w, '0');
/** YYYY-MM-DD shaped, real or not (2026-99-99, 0000-01-01): the shape a regex lets through. */
const dateShaped = fc.oneof(
  fc.date({ noInvalidDate: true, min: new Date('2024-01-01'), max: new Date('2027-12-31') }).map((d) => d.toISOString().slice(0, 10)),
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }))
    .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`),
);
const instantShaped = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('9999-12-31T00:00:00Z', '0001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2025-11-04T09:15:00+05:30'),
  fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String),
);
/** Names the console knows, so the fuzz reaches past "unknown underlying" into the queries. */
const BY_NAME: Record<string, fc.Arbitrary<unknown>> = {
  symbol: fc.oneof({ arbitrary: fc.constantFrom('NIFTY', 'BANKNIFTY', 'nifty', 'FINNIFTY'), weight: 4 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }),
  expiry: fc.oneof(
    dateShaped,
    fc.array(dateShaped, { maxLength: 8 }).map((a) => a.join(',')),
  ),
  expiries: fc.oneof(fc.array(dateShaped, { maxLength: 8 }), dateShaped),
  at: instantShaped,
  timeframe: fc.constantFrom('1min', '5min', '15min', '1h'),
};

/** An arbitrary for a JSON Schema (the subset zod emits), with a share of wrong-typed and edge values. */
/**
 * Half the requests are well-typed everywhere (strict: only the odd value is off, e.g. 2026-99-99, so the request
 * reaches the handler and the database), half mix arbitrary JSON into any field (the validators' side).
 */
function requestArbitrary(schema: Schema | undefined): fc.Arbitrary<unknown> {
  return fc.oneof(fromSchema(schema, 0, undefined, true), fromSchema(schema, 0, undefined, false));
}

function fromSchema(schema: Schema | undefined, depth = 0, name?: string, strict = false): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return strict ? fc.constant(undefined) : anyJson;
  const valid = validFrom(schema, depth, strict);
  const hinted = name && BY_NAME[name] ? [{ arbitrary: BY_NAME[name], weight: 4 }] : [];
  if (strict) return hinted.length ? fc.oneof({ arbitrary: valid, weight: 1 }, ...hinted) : valid;
  return fc.oneof({ arbitrary: valid, weight: 3 }, ...hinted, { arbitrary: anyJson, weight: 1 });
}

function validFrom(s: Schema, depth: number, strict = false): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (Array.isArray(union) && union.length) return fc.oneof(...union.map((u: Schema) => fromSchema(u, depth + 1, undefined, strict)));
  if (Array.isArray(s.allOf) && s.allOf.length) return fromSchema(s.allOf[0], depth + 1, undefined, strict);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'date-time')
        return fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          interesting,
        );
      if (s.format === 'date' || String(s.pattern ?? '').includes('\\d{4}')) return fc.oneof(dateShaped, interesting);
      if (strict) return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.max(s.minLength ?? 0, Math.min(s.maxLength ?? 40, 40)) });
      return fc.oneof(fc.string({ maxLength: s.maxLength ?? 40 }), interesting);
    case 'integer': {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1e6), -(2 ** 31));
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1e6), 2 ** 31);
      if (strict) return fc.integer({ min, max });
      return fc.oneof({ arbitrary: fc.integer({ min, max }), weight: 4 }, { arbitrary: fc.constantFrom(-1, 0, 2 ** 53, 1e300), weight: 1 });
    }
    case 'number': {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 0.5 : -1e9), -1e12);
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 0.5 : 1e9), 1e12);
      const number = fc.double({ noNaN: true, noDefaultInfinity: true, min, max });
      if (strict) return number;
      return fc.oneof({ arbitrary: number, weight: 4 }, { arbitrary: fc.constantFrom(-1, 0, 1e300), weight: 1 });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(s.items?.pattern?.includes('\\d{4}') || s.items?.format === 'date' ? dateShaped : fromSchema(s.items, depth + 1, undefined, strict), {
        maxLength: Math.min(s.maxItems ?? 8, 8) + (strict ? 0 : 1),
      });
    case 'object': {
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) props[k] = fromSchema(v, depth + 1, k, strict);
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

let app: TestConsole;
let secret: string;

beforeAll(async () => {
  // Bounded waits (unsubscribe, first data) kept short: the fuzz asserts "bounded", not the bound itself.
  app = await startTestConsole({ name: 'fuzz', env: { SMART_SUBSCRIPTION_WAIT_TIMEOUT: '1' } });
  const settings = await raw(app.url, '/api/settings:get', {
    method: 'POST',
    headers: { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  secret = settings.json.value.webhook.secret;
}, 90_000);
afterAll(async () => app?.close());

const STREAMS = new Set(['GET /api/events']);

describe('fuzz: every route, arbitraries from its schemas', () => {
  it('never answers 5xx and never hangs', async () => {
    const routes = app.services.http.listRoutes().filter((r: RouteDef) => !STREAMS.has(`${r.method} ${r.path}`));
    expect(routes.length).toBeGreaterThan(20);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const route of routes) {
      const query = requestArbitrary(jsonSchema(route.query));
      const body = requestArbitrary(jsonSchema(route.body ?? route.docBody));
      const param = fc.oneof(fc.string({ maxLength: 12 }), interesting);
      const routeStarted = Date.now();
      await fc.assert(
        fc.asyncProperty(query, body, param, async (q, b, p) => {
          const path = route.path.replace(/\/:[A-Za-z_]+/g, () => `/${encodeURIComponent(p)}`);
          const text = JSON.stringify(b) ?? 'null';
          const headers: Record<string, string> = { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json' };
          if (route.auth === 'custom')
            Object.assign(headers, {
              'x-strikedesk-timestamp': String(Math.floor(Date.now() / 1000)),
              'x-strikedesk-signature': signDelivery(secret, Math.floor(Date.now() / 1000), text),
            });
          const res = await raw(app.url, `${path}${route.method === 'GET' ? toQuery(q) : ''}`, {
            method: route.method,
            headers,
            body: route.method === 'GET' ? undefined : text,
            timeoutMs: 20_000,
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (process.env.FUZZ_REPORT === 'verbose')
            process.stdout.write(`${route.method} ${path} ${res.status} ${text.slice(0, 160)} ${res.text.slice(0, 120)}\n`);
          // 503 UNAVAILABLE is a deliberate answer (a channel whose service is not running), not a failure.
          const unavailable = res.status === 503 && res.json?.error?.code === 'UNAVAILABLE';
          if (res.status >= 500 && !unavailable)
            failures.push(
              `${route.method} ${path} -> ${res.status} ${res.text.slice(0, 200)} (query ${JSON.stringify(q)?.slice(0, 200)}, body ${text.slice(0, 200)})`,
            );
          // Collected rather than thrown: one run reports every failing route, each with its input.
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 25) },
      );
      if (process.env.FUZZ_REPORT) process.stdout.write(`fuzz ${route.method} ${route.path}: ${Date.now() - routeStarted} ms\n`);
    }
    expect(failures).toEqual([]);
    // The arbitraries reach the handlers (2xx) as well as the validators (4xx).
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect([...statuses.keys()].some((s) => s >= 400 && s < 500)).toBe(true);
    if (process.env.FUZZ_REPORT) process.stdout.write(`fuzz statuses: ${JSON.stringify([...statuses].sort())} over ${routes.length} routes\n`);
  }, 600_000);
});
