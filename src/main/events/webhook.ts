// What the intake decides about a webhook delivery, apart from HTTP (the route is http/webhook-route.ts): where senders
// deliver, and which key deduplicates a delivery. A sender's X-Event-Id names the delivery (its retries carry the
// same id); without one, the event's own content is the key.
import type { FieldError } from '../../shared/field-errors';
import { eventKey, type NormalizedEvent } from './normalize';

export const WEBHOOK_PATH = '/internal/subscription-events';
export const WEBHOOK_BODY_LIMIT = 64 * 1024;
export const EVENT_ID_HEADER = 'x-event-id';

/** The inbox key of a delivery, or the field error of a malformed X-Event-Id. */
export function webhookEventKey(event: NormalizedEvent, senderId: string | string[] | undefined): { key: string } | { error: FieldError } {
  if (senderId === undefined) return { key: eventKey(event) };
  const id = Array.isArray(senderId) ? senderId[0] : senderId;
  if (!/^[\x21-\x7e]{1,128}$/.test(id)) return { error: { field: 'X-Event-Id', message: 'expected 1-128 printable ASCII characters' } };
  return { key: `id:${id}` };
}
