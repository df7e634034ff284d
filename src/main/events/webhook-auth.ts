// Authenticates a webhook delivery from its headers and raw body, before the body is parsed:
//   X-Strikedesk-Timestamp: <unix seconds>
//   X-Strikedesk-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
// Comparisons are constant-time. A timestamp outside the tolerance is refused (a captured delivery goes stale), and a
// signature already accepted is refused as a replay: the inbox records signatures until their timestamp goes stale,
// in SQLite, so a restart does not reopen the window. Optionally the real service's plain X-Webhook-Secret header is
// accepted instead (no replay protection is possible there; the idempotency key still stops double processing).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../shared/clock';
import type { AuthResult } from '../http/server';
import type { SeenSignature } from './inbox';

export const TIMESTAMP_HEADER = 'x-strikedesk-timestamp';
export const SIGNATURE_HEADER = 'x-strikedesk-signature';
export const PLAIN_SECRET_HEADER = 'x-webhook-secret';

/** The header value a sender puts in X-Strikedesk-Signature. */
export function signDelivery(secret: string, timestamp: string | number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export type RejectReason = 'missing' | 'malformed' | 'signature' | 'stale' | 'replay' | 'plain_secret';

export interface WebhookAuthOptions {
  secret: string;
  toleranceSeconds: number;
  acceptPlainHeader: boolean;
  clock: Clock;
  /** Whether a signature was already accepted (the inbox's replay guard). */
  signatureSeen: (signature: string, nowMs: number) => boolean;
  onReject?: (reason: RejectReason) => void;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export class WebhookAuthenticator {
  /** What a verified request carried, for the handler to record with the event (one transaction). */
  private readonly verified = new WeakMap<IncomingMessage, SeenSignature>();

  constructor(private readonly opts: WebhookAuthOptions) {}

  signatureOf(req: IncomingMessage): SeenSignature | undefined {
    return this.verified.get(req);
  }

  /**
   * The checks that need no body, run before the body is read: credentials present and well-formed, timestamp within
   * the tolerance, signature not already used. A forged or stale delivery costs the console no body read.
   */
  readonly preAuthenticate = (req: IncomingMessage): AuthResult | null => {
    const reject = (reason: RejectReason, message: string): AuthResult => {
      this.opts.onReject?.(reason);
      return { ok: false, status: 401, message };
    };
    const plain = header(req, PLAIN_SECRET_HEADER);
    const signature = header(req, SIGNATURE_HEADER);
    const timestamp = header(req, TIMESTAMP_HEADER);
    if (plain !== undefined && signature === undefined) {
      if (!this.opts.acceptPlainHeader) return reject('plain_secret', 'X-Webhook-Secret is not accepted here; sign the delivery (X-Strikedesk-Timestamp, X-Strikedesk-Signature)');
      if (!timingSafeEqual(digest(plain), digest(this.opts.secret))) return reject('plain_secret', 'invalid X-Webhook-Secret');
      return null;
    }
    if (signature === undefined || timestamp === undefined) return reject('missing', 'missing X-Strikedesk-Timestamp and X-Strikedesk-Signature headers');
    const presented = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
    if (!presented || !/^\d{1,12}$/.test(timestamp.trim())) {
      return reject('malformed', 'malformed credentials: expected X-Strikedesk-Timestamp: <unix seconds> and X-Strikedesk-Signature: sha256=<64 hex digits>');
    }
    const now = this.opts.clock.now();
    const skew = Math.abs(now / 1000 - Number(timestamp.trim()));
    if (skew > this.opts.toleranceSeconds) {
      return reject('stale', `stale timestamp: ${Math.round(skew)} s from this console's clock, tolerance ${this.opts.toleranceSeconds} s`);
    }
    if (this.opts.signatureSeen(presented[1].toLowerCase(), now)) return reject('replay', 'replayed delivery: this signature was already accepted');
    return null;
  };

  readonly authenticate = (req: IncomingMessage, rawBody: Buffer): AuthResult => {
    const reject = (reason: RejectReason, message: string): AuthResult => {
      this.opts.onReject?.(reason);
      return { ok: false, status: 401, message };
    };
    const plain = header(req, PLAIN_SECRET_HEADER);
    const signature = header(req, SIGNATURE_HEADER);
    const timestamp = header(req, TIMESTAMP_HEADER);

    if (plain !== undefined && signature === undefined) {
      if (!this.opts.acceptPlainHeader) return reject('plain_secret', 'X-Webhook-Secret is not accepted here; sign the delivery (X-Strikedesk-Timestamp, X-Strikedesk-Signature)');
      // Hash both sides: equal lengths for timingSafeEqual without revealing the secret's length.
      if (!timingSafeEqual(digest(plain), digest(this.opts.secret))) return reject('plain_secret', 'invalid X-Webhook-Secret');
      return { ok: true, actor: 'webhook:plain-secret' };
    }
    if (signature === undefined || timestamp === undefined) {
      return reject('missing', 'missing X-Strikedesk-Timestamp and X-Strikedesk-Signature headers');
    }
    const presented = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
    if (!presented || !/^\d{1,12}$/.test(timestamp.trim())) {
      return reject('malformed', 'malformed credentials: expected X-Strikedesk-Timestamp: <unix seconds> and X-Strikedesk-Signature: sha256=<64 hex digits>');
    }
    const ts = timestamp.trim();
    const expected = Buffer.from(signDelivery(this.opts.secret, ts, rawBody).slice(7), 'hex');
    if (!timingSafeEqual(Buffer.from(presented[1], 'hex'), expected)) return reject('signature', 'invalid signature');

    const now = this.opts.clock.now();
    const skew = Math.abs(now / 1000 - Number(ts));
    if (skew > this.opts.toleranceSeconds) {
      return reject('stale', `stale timestamp: ${Math.round(skew)} s from this console's clock, tolerance ${this.opts.toleranceSeconds} s`);
    }
    const key = presented[1].toLowerCase();
    if (this.opts.signatureSeen(key, now)) return reject('replay', 'replayed delivery: this signature was already accepted');
    this.verified.set(req, { signature: key, expiresAt: (Number(ts) + this.opts.toleranceSeconds) * 1000 + 1000 });
    return { ok: true, actor: 'webhook:hmac' };
  };
}
