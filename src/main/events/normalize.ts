// The two subscription-event contracts (docs/ticker-contract.md, events) parsed at the edge and
// normalized into one event. Both are accepted on the webhook and on Redis: a sender that speaks either is served.
import { z } from 'zod';

const token = z
  .number()
  .int()
  .positive()
  .max(2 ** 32);

/** Metadata is stored and shown, never interpreted: 8 levels and 8 KiB of JSON are far more than a sender needs. */
export const METADATA_MAX_DEPTH = 8;
export const METADATA_MAX_BYTES = 8 * 1024;

/** Nesting depth of a JSON value, measured without recursion (a 30,000-deep body must not overflow the stack). */
export function jsonDepth(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const d = depth + 1;
    if (d > max) max = d;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d]);
  }
  return max;
}

/** Depth first (so JSON.stringify cannot overflow), then size. */
function boundedMetadata(value: unknown, ctx: z.RefinementCtx): void {
  if (value === null || value === undefined) return;
  if (jsonDepth(value, METADATA_MAX_DEPTH) > METADATA_MAX_DEPTH) {
    ctx.addIssue({ code: 'custom', message: `nested deeper than ${METADATA_MAX_DEPTH} levels` });
    return;
  }
  if (Buffer.byteLength(JSON.stringify(value)) > METADATA_MAX_BYTES)
    ctx.addIssue({ code: 'custom', message: `larger than ${METADATA_MAX_BYTES} bytes of JSON` });
}
const tradingsymbol = z.string().trim().min(1).max(64);

/** The implementation plan's webhook body. Timestamps without an offset (Python's naive isoformat) are read as UTC. */
export const planEventSchema = z.object({
  event_type: z.enum(['created', 'deleted', 'activated', 'deactivated']),
  instrument_token: token,
  tradingsymbol,
  timestamp: z.iso.datetime({ offset: true, local: true, error: 'expected an ISO-8601 date-time, e.g. 2025-11-04T09:15:00Z' }),
  metadata: z.record(z.string(), z.unknown()).nullable().optional().superRefine(boundedMetadata),
});

/** The Redis channel's body (ticker:nifty:events). */
export const redisEventSchema = z.object({
  event_type: z.enum(['subscription_created', 'subscription_removed']),
  instrument_token: token,
  metadata: z
    .looseObject({
      tradingsymbol,
      segment: z.string().max(32).optional(),
      requested_mode: z.string().max(16).optional(),
      account_id: z.string().max(64).nullable().optional(), // null for rows created without an account
    })
    .superRefine(boundedMetadata),
  // Epoch seconds; an epoch in milliseconds is a sender bug worth naming rather than a date in the year 50000.
  timestamp: z.number().positive().max(1e11, 'expected epoch seconds, not milliseconds'),
});

/** Either body; an unknown event_type fails on the discriminator, naming the field. */
export const subscriptionEventSchema = z.discriminatedUnion('event_type', [planEventSchema, redisEventSchema]);
export type SubscriptionEventBody = z.infer<typeof subscriptionEventSchema>;

export type IntakeSource = 'webhook' | 'redis' | 'poll' | 'manual';
export type IntakeType = 'created' | 'removed';

/** One event, whichever path it came by. */
export interface NormalizedEvent {
  source: IntakeSource;
  type: IntakeType;
  /** The sender's word for it (activated, subscription_removed, ...). */
  rawType: string;
  token: number;
  tradingsymbol: string | null;
  /** Epoch ms. */
  occurredAt: number;
  metadata: Record<string, unknown> | null;
}

const TYPE_OF: Record<SubscriptionEventBody['event_type'], IntakeType> = {
  created: 'created',
  activated: 'created',
  subscription_created: 'created',
  deleted: 'removed',
  deactivated: 'removed',
  subscription_removed: 'removed',
};

const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

/** ISO-8601 with or without an offset to epoch ms (JS reads an offset-less date-time as LOCAL time; we mean UTC). */
export function parseIsoInstant(text: string): number {
  return Date.parse(HAS_OFFSET.test(text) ? text : `${text}Z`);
}

export function normalizeEvent(body: SubscriptionEventBody, source: IntakeSource): NormalizedEvent {
  if ('tradingsymbol' in body) {
    return {
      source,
      type: TYPE_OF[body.event_type],
      rawType: body.event_type,
      token: body.instrument_token,
      tradingsymbol: body.tradingsymbol,
      occurredAt: parseIsoInstant(body.timestamp),
      metadata: body.metadata ?? null,
    };
  }
  return {
    source,
    type: TYPE_OF[body.event_type],
    rawType: body.event_type,
    token: body.instrument_token,
    tradingsymbol: body.metadata.tradingsymbol,
    occurredAt: Math.round(body.timestamp * 1000),
    metadata: body.metadata,
  };
}

/** The idempotency key of an event without a sender id: the same change at the same instant is the same event. */
export const eventKey = (e: Pick<NormalizedEvent, 'type' | 'token' | 'occurredAt'>): string => `${e.type}:${e.token}:${e.occurredAt}`;
