// The ticker service's HTTP answers as they really arrive (docs/ticker-contract.md), parsed at the edge with zod.
// One schema per answer, used by the client and by the contract test that runs every fixture in
// fixtures/ticker-service/ through it. What the real service does that a tidy simulator would not:
// - `account_id` is null for every row created without one (Strikedesk's case), and may be "";
// - timestamps carry microseconds ("2025-11-04T06:52:22.132000Z");
// - /health says `started_at: null` and `accounts: []` while idle;
// - answers may grow fields: unknown keys are dropped here, never an error.
import { z } from 'zod';

/** null and "" both mean "no account given" at the service; kept as sent (null stays null, "" stays ""). */
const accountId = z
  .string()
  .nullable()
  .optional()
  .transform((v) => v ?? null);

export const subscriptionSchema = z.object({
  instrument_token: z.coerce.number().int(),
  tradingsymbol: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  segment: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  // The service stores lower case; anything else is read case-insensitively rather than rejected.
  status: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['active', 'inactive'])),
  requested_mode: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v || 'FULL'),
  account_id: accountId,
  created_at: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  updated_at: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
});

export const subscriptionListSchema = z.array(subscriptionSchema);

const nullableNumber = z.number().nullable().optional();

export const historyCandleSchema = z.object({
  date: z.string(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z
    .number()
    .nullable()
    .transform((v) => v ?? 0),
  oi: z
    .number()
    .nullable()
    .optional()
    .transform((v) => v ?? undefined),
  iv: nullableNumber,
  delta: nullableNumber,
  gamma: nullableNumber,
  theta: nullableNumber,
  vega: nullableNumber,
  underlying: nullableNumber,
});

export const historySchema = z.object({
  instrument_token: z.coerce.number().int(),
  symbol: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  tradingsymbol: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  segment: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  interval: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? 'minute'),
  from_ts: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  to_ts: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  candles: z.array(historyCandleSchema),
});

export const healthAccountSchema = z.object({
  account_id: z
    .string()
    .nullable()
    .transform((v) => v ?? ''),
  instrument_count: z
    .number()
    .nullable()
    .optional()
    .transform((v) => v ?? 0),
  last_tick_at: z
    .number()
    .nullable()
    .optional()
    .transform((v) => v ?? null),
});

export const healthSchema = z.object({
  status: z.string(),
  environment: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? undefined),
  ticker: z
    .object({
      running: z
        .boolean()
        .nullable()
        .transform((v) => v ?? false),
      started_at: z
        .number()
        .nullable()
        .optional()
        .transform((v) => v ?? null),
      active_subscriptions: z
        .number()
        .nullable()
        .optional()
        .transform((v) => v ?? undefined),
      accounts: z
        .array(healthAccountSchema)
        .nullable()
        .optional()
        .transform((v) => v ?? []),
    })
    .nullable()
    .optional()
    .transform((v) => v ?? undefined),
  dependencies: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .transform((v) => v ?? undefined),
});

/** Error bodies: {"detail": "..."} (400/404/502), {"detail": [{loc, msg}]} (422), {"error": "..."} (429), {"error": {message}} (500). */
export const errorBodySchema = z.union([
  z.object({ detail: z.string() }),
  z.object({ detail: z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string().optional() })) }),
  z.object({ error: z.string() }),
  z.object({ error: z.object({ message: z.string() }) }),
]);

/** The message of a ticker error body, or the start of the raw text when it is not one of the known shapes. */
export function errorText(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text.slice(0, 300);
  }
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) return text.slice(0, 300);
  const body = parsed.data;
  if ('detail' in body) {
    if (typeof body.detail === 'string') return body.detail;
    return body.detail.map((d) => `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}`).join('; ');
  }
  return typeof body.error === 'string' ? body.error : body.error.message;
}
