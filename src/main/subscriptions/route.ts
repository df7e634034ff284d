// GET /fo/strike-distribution, compatible with the plan's integration tests and legacy clients: on a loopback bind
// it answers without a token ('loopback-open'), elsewhere it needs the API token. Query: symbol, expiry (repeatable
// or a comma list; `expiries` as the plan's handler named it is accepted too), timeframe 1min|5min|15min (default
// 5min as in the plan), auto_subscribe (default true), strike_range, option_side CE|PE|both, at (an instant: the
// latest bucket at or before it). It never waits longer than the wait-timeout flag.
import { z } from 'zod';
import { DomainError } from '../../shared/result';
import { STATUS_OF } from '../api/console-api';
import { HttpError, type HttpServer } from '../http/server';
import type { ChainService } from './chain-service';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
function isRealDate(s: string): boolean {
  if (!ISO_DATE.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
}

const list = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)));

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'True', 'False'])
  .optional()
  .transform((v) => (v === undefined ? undefined : ['true', '1', 'yes', 'on', 'True'].includes(v)));

export function strikeDistributionQuery(defaultStrikeRange: number) {
  return z
    .object({
      symbol: z.string().trim().min(1, 'symbol is required').max(32),
      expiry: list,
      expiries: list,
      timeframe: z.enum(['1min', '5min', '15min']).default('5min'),
      auto_subscribe: boolish,
      strike_range: z.coerce.number().int().min(1).max(100).optional(),
      option_side: z.enum(['CE', 'PE', 'both', 'ce', 'pe', 'call', 'put']).default('both'),
      at: z.string().optional(),
    })
    .superRefine((q, ctx) => {
      for (const [field, values] of [['expiry', q.expiry], ['expiries', q.expiries]] as const) {
        for (const value of values) {
          if (!isRealDate(value)) ctx.addIssue({ code: 'custom', path: [field], message: `'${value}' is not a valid date (YYYY-MM-DD)` });
        }
      }
      if (q.at !== undefined && !Number.isFinite(parseInstant(q.at))) ctx.addIssue({ code: 'custom', path: ['at'], message: `'${q.at}' is not an ISO-8601 instant or epoch milliseconds` });
    })
    .transform((q) => ({
      symbol: q.symbol.toUpperCase(),
      expiries: [...new Set([...q.expiry, ...q.expiries])],
      timeframe: q.timeframe,
      autoSubscribe: q.auto_subscribe ?? true,
      strikeRange: q.strike_range ?? defaultStrikeRange,
      side: (({ ce: 'CE', call: 'CE', pe: 'PE', put: 'PE' }) as Record<string, 'CE' | 'PE'>)[q.option_side] ?? (q.option_side === 'both' ? 'both' : (q.option_side as 'CE' | 'PE')),
      at: q.at === undefined ? undefined : parseInstant(q.at),
    }));
}

function parseInstant(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
}

export function registerStrikeDistributionRoute(http: HttpServer, chains: ChainService, defaultStrikeRange: number): void {
  http.addRoute({
    method: 'GET',
    path: '/fo/strike-distribution',
    summary: 'Strike distribution per expiry (OI, volume, greeks, PCR, max pain), subscribing the chain on demand',
    tag: 'fo',
    auth: 'loopback-open',
    query: strikeDistributionQuery(defaultStrikeRange),
    responses: { 200: 'distribution', 400: 'bad query (names the field)', 404: 'unknown underlying' },
    handler: async ({ query }) => {
      try {
        return { body: await chains.distribution({ ...query, expiries: query.expiries.length ? query.expiries : undefined }) };
      } catch (err) {
        if (err instanceof DomainError) throw new HttpError(STATUS_OF[err.code], err.message, err.field ? { field: err.field } : {});
        throw err;
      }
    },
  });
}
