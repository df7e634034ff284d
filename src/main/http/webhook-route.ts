// POST /internal/subscription-events: authenticated (HMAC over the raw body, see events/webhook-auth.ts), parsed with
// the contract's schema by the router (415 non-JSON, 400 malformed JSON, 422 naming the field, 413 over 64 KiB, 405
// wrong method), written to the durable inbox BEFORE the answer: 202 {status:'accepted', event_id} for a new event,
// 200 {status:'accepted', duplicate:true, event_id:<original>} for a repeat. The intake decides; this only translates.
import type { EventIntake } from '../events/intake';
import { normalizeEvent, subscriptionEventSchema, type SubscriptionEventBody } from '../events/normalize';
import { EVENT_ID_HEADER, WEBHOOK_BODY_LIMIT, WEBHOOK_PATH, webhookEventKey } from '../events/webhook';
import { HttpError, type RouteDef } from './server';

export function webhookRoute(intake: Pick<EventIntake, 'auth' | 'accept'>): RouteDef<unknown, SubscriptionEventBody> {
  const { auth } = intake;
  return {
    method: 'POST',
    path: WEBHOOK_PATH,
    summary: 'Subscription lifecycle event (plan body or Redis body), HMAC-signed; written to the durable inbox before the answer',
    tag: 'internal',
    auth: 'custom',
    preAuthenticate: auth.preAuthenticate,
    authenticate: auth.authenticate,
    body: subscriptionEventSchema,
    bodyLimit: WEBHOOK_BODY_LIMIT,
    responses: {
      200: 'duplicate delivery: {status, duplicate: true, event_id of the original}',
      202: 'accepted: {status, event_id}',
      400: 'malformed JSON',
      401: 'missing or wrong signature, stale timestamp, replayed delivery',
      405: 'wrong method',
      413: 'body over 64 KiB',
      415: 'not application/json',
      422: 'schema error naming the field (unknown event_type included)',
    },
    handler: ({ req, body }) => {
      const event = normalizeEvent(body, 'webhook');
      const keyed = webhookEventKey(event, req.headers[EVENT_ID_HEADER]);
      if ('error' in keyed) throw new HttpError(422, `${keyed.error.field}: ${keyed.error.message}`, { errors: [keyed.error] });
      const result = intake.accept(event, keyed.key, auth.signatureOf(req));
      if (result.kind === 'replayed') return { status: 401, body: { detail: 'replayed delivery: this signature was already accepted' } };
      if (result.kind === 'duplicate') {
        return { status: 200, body: { status: 'accepted', duplicate: true, event_id: result.id, state: result.originalState } };
      }
      return { status: 202, body: { status: 'accepted', duplicate: false, event_id: result.id } };
    },
  };
}
