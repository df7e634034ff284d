// GET /fo/strike-distribution, compatible with the plan's integration tests and legacy clients: on a loopback bind
// it answers without a token ('loopback-open'), elsewhere it needs the API token. Query: symbol, expiry (repeatable
// or a comma list; `expiries` as the plan's handler named it is accepted too), timeframe 1min|5min|15min (default
// 5min as in the plan), auto_subscribe (default true), strike_range, option_side CE|PE|both, at (an instant: the
// bucket that ends at or before it), include_partial (answer the bucket still filling, marked partial),
// oi_change_basis previous_close|session_open|one_hour_earlier. It never waits longer than the wait-timeout flag. Dates and instants go through
// the same real-date check as the ConsoleApi; at most MAX_EXPIRIES expiries, as in chain:distribution. The route has an
// effect (it subscribes), so a browser on another site is refused by the server before it runs.
import { z } from 'zod';
import { INSTANT_MESSAGE, isRealIsoDate, parseBoundedInstant, REAL_DATE_MESSAGE } from '../../shared/dates';
import { oiChangeBasisSchema } from '../../shared/api';
import { DomainError } from '../../shared/result';
import { STATUS_OF } from '../api/console-api';
import type { ChainService } from '../chain/service';
import { HttpError, type RouteDef } from './server';

/** As chain:distribution's `expiries` (max 6): one request cannot subscribe every listed expiry. */
export const MAX_EXPIRIES = 6;

const list = z
  .union([z.string().max(200), z.array(z.string().max(200)).max(MAX_EXPIRIES * 2)])
  .optional()
  .transform((v) =>
    v === undefined
      ? []
      : (Array.isArray(v) ? v : [v])
          .flatMap((s) => s.split(','))
          .map((s) => s.trim())
          .filter(Boolean),
  );

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'True', 'False'])
  .optional()
  .transform((v) => (v === undefined ? undefined : ['true', '1', 'yes', 'on', 'True'].includes(v)));

export function strikeDistributionQuery(defaultStrikeRange: number) {
  return z
    .object({
      symbol: z
        .string()
        .trim()
        .min(1, 'symbol is required')
        .max(32)
        .refine((s) => !/\p{Cc}/u.test(s), 'no control characters'),
      expiry: list,
      expiries: list,
      timeframe: z.enum(['1min', '5min', '15min']).default('5min'),
      auto_subscribe: boolish,
      strike_range: z.coerce.number().int().min(1).max(100).optional(),
      option_side: z.enum(['CE', 'PE', 'both', 'ce', 'pe', 'call', 'put']).default('both'),
      at: z.string().max(40).optional(),
      include_partial: boolish,
      oi_change_basis: oiChangeBasisSchema.optional(),
    })
    .superRefine((q, ctx) => {
      for (const [field, values] of [
        ['expiry', q.expiry],
        ['expiries', q.expiries],
      ] as const) {
        for (const value of values) {
          if (!isRealIsoDate(value))
            ctx.addIssue({ code: 'custom', path: [field], message: `'${value.slice(0, 40)}' is not a valid date (${REAL_DATE_MESSAGE})` });
        }
      }
      if (new Set([...q.expiry, ...q.expiries]).size > MAX_EXPIRIES) {
        ctx.addIssue({ code: 'custom', path: ['expiry'], message: `at most ${MAX_EXPIRIES} expiries per request` });
      }
      if (q.at !== undefined && !Number.isFinite(parseBoundedInstant(q.at))) ctx.addIssue({ code: 'custom', path: ['at'], message: INSTANT_MESSAGE });
    })
    .transform((q) => ({
      symbol: q.symbol.toUpperCase(),
      expiries: [...new Set([...q.expiry, ...q.expiries])],
      timeframe: q.timeframe,
      autoSubscribe: q.auto_subscribe ?? true,
      strikeRange: q.strike_range ?? defaultStrikeRange,
      side:
        ({ ce: 'CE', call: 'CE', pe: 'PE', put: 'PE' } as Record<string, 'CE' | 'PE'>)[q.option_side] ??
        (q.option_side === 'both' ? 'both' : (q.option_side as 'CE' | 'PE')),
      at: q.at === undefined ? undefined : parseBoundedInstant(q.at),
      includePartial: q.include_partial ?? false,
      oiChangeBasis: q.oi_change_basis,
    }));
}

export function strikeDistributionRoute(
  chains: Pick<ChainService, 'distribution'>,
  defaultStrikeRange: number,
): RouteDef<z.output<ReturnType<typeof strikeDistributionQuery>>> {
  return {
    method: 'GET',
    path: '/fo/strike-distribution',
    summary: 'Strike distribution per expiry (OI, volume, greeks, PCR, max pain), subscribing the chain on demand',
    tag: 'fo',
    auth: 'loopback-open',
    effect: true,
    query: strikeDistributionQuery(defaultStrikeRange),
    responses: { 200: 'distribution', 400: 'bad query (names the field)', 403: 'cross-site browser request', 404: 'unknown underlying', 421: 'foreign Host' },
    handler: async ({ query }) => {
      try {
        return { body: await chains.distribution({ ...query, expiries: query.expiries.length ? query.expiries : undefined }) };
      } catch (err) {
        if (err instanceof DomainError) throw new HttpError(STATUS_OF[err.code], err.message, err.field ? { field: err.field } : {});
        throw err;
      }
    },
  };
}
