// POST /internal/subscription-events: authenticated (HMAC over the raw body, see webhook-auth.ts), parsed with the
// contract's schema by the router (415 non-JSON, 400 malformed JSON, 422 naming the field, 413 over 64 KiB, 405 wrong
// method), written to the durable inbox BEFORE the answer: 202 {status:'accepted', event_id} for a new event,
// 200 {status:'accepted', duplicate:true, event_id:<original>} for a repeat.
import type { HttpServer } from '../http/server';
import { HttpError } from '../http/server';
import type { AcceptResult } from './inbox';
import { eventKey, normalizeEvent, subscriptionEventSchema, type NormalizedEvent, type SubscriptionEventBody } from './normalize';
import type { WebhookAuthenticator } from './webhook-auth';

export const WEBHOOK_PATH = '/internal/subscription-events';
export const WEBHOOK_BODY_LIMIT = 64 * 1024;
export const EVENT_ID_HEADER = 'x-event-id';

export interface WebhookRouteDeps {
  http: HttpServer;
  auth: WebhookAuthenticator;
  accept: (event: NormalizedEvent, key: string, req: Parameters<WebhookAuthenticator['signatureOf']>[0]) => AcceptResult;
}

export function registerWebhookRoute({ http, auth, accept }: WebhookRouteDeps): void {
  http.addRoute<unknown, SubscriptionEventBody>({
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
      const senderId = req.headers[EVENT_ID_HEADER];
      let key = eventKey(event);
      if (senderId !== undefined) {
        const id = Array.isArray(senderId) ? senderId[0] : senderId;
        if (!/^[\x21-\x7e]{1,128}$/.test(id)) {
          throw new HttpError(422, 'X-Event-Id: expected 1-128 printable ASCII characters', { errors: [{ field: 'X-Event-Id', message: 'expected 1-128 printable ASCII characters' }] });
        }
        key = `id:${id}`;
      }
      const result = accept(event, key, req);
      if (result.kind === 'replayed') return { status: 401, body: { detail: 'replayed delivery: this signature was already accepted' } };
      if (result.kind === 'duplicate') {
        return { status: 200, body: { status: 'accepted', duplicate: true, event_id: result.id, state: result.originalState } };
      }
      return { status: 202, body: { status: 'accepted', duplicate: false, event_id: result.id } };
    },
  });
}
