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
import type { SeenSignature } from './inbox';

/** The verdict on a delivery's credentials (the HTTP server's custom-auth answer has this shape). */
export type AuthResult = { ok: true; actor: string } | { ok: false; status: number; message: string };

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

  private reject(reason: RejectReason, message: string): AuthResult {
    this.opts.onReject?.(reason);
    return { ok: false, status: 401, message };
  }

  /**
   * The credentials a delivery presents, read from its headers alone: a verdict for the plain-secret path and for
   * missing or malformed headers, otherwise the signature (lower-case hex) and timestamp to check further.
   */
  private credentials(req: IncomingMessage): { verdict: AuthResult } | { signature: string; timestamp: string } {
    const plain = header(req, PLAIN_SECRET_HEADER);
    const signature = header(req, SIGNATURE_HEADER);
    const timestamp = header(req, TIMESTAMP_HEADER);
    if (plain !== undefined && signature === undefined) {
      if (!this.opts.acceptPlainHeader)
        return {
          verdict: this.reject('plain_secret', 'X-Webhook-Secret is not accepted here; sign the delivery (X-Strikedesk-Timestamp, X-Strikedesk-Signature)'),
        };
      // Hash both sides: equal lengths for timingSafeEqual without revealing the secret's length.
      if (!timingSafeEqual(digest(plain), digest(this.opts.secret))) return { verdict: this.reject('plain_secret', 'invalid X-Webhook-Secret') };
      return { verdict: { ok: true, actor: 'webhook:plain-secret' } };
    }
    if (signature === undefined || timestamp === undefined) {
      return { verdict: this.reject('missing', 'missing X-Strikedesk-Timestamp and X-Strikedesk-Signature headers') };
    }
    const presented = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
    if (!presented || !/^\d{1,12}$/.test(timestamp.trim())) {
      return {
        verdict: this.reject(
          'malformed',
          'malformed credentials: expected X-Strikedesk-Timestamp: <unix seconds> and X-Strikedesk-Signature: sha256=<64 hex digits>',
        ),
      };
    }
    return { signature: presented[1].toLowerCase(), timestamp: timestamp.trim() };
  }

  /** Stale timestamp or replayed signature, judged now; null when neither. */
  private staleOrReplayed(signature: string, timestamp: string, now: number): AuthResult | null {
    const skew = Math.abs(now / 1000 - Number(timestamp));
    if (skew > this.opts.toleranceSeconds) {
      return this.reject('stale', `stale timestamp: ${Math.round(skew)} s from this console's clock, tolerance ${this.opts.toleranceSeconds} s`);
    }
    if (this.opts.signatureSeen(signature, now)) return this.reject('replay', 'replayed delivery: this signature was already accepted');
    return null;
  }

  /**
   * The checks that need no body, run before the body is read: credentials present and well-formed, timestamp within
   * the tolerance, signature not already used. A forged or stale delivery costs the console no body read.
   */
  readonly preAuthenticate = (req: IncomingMessage): AuthResult | null => {
    const c = this.credentials(req);
    if ('verdict' in c) return c.verdict.ok ? null : c.verdict;
    return this.staleOrReplayed(c.signature, c.timestamp, this.opts.clock.now());
  };

  readonly authenticate = (req: IncomingMessage, rawBody: Buffer): AuthResult => {
    const c = this.credentials(req);
    if ('verdict' in c) return c.verdict;
    const expected = Buffer.from(signDelivery(this.opts.secret, c.timestamp, rawBody).slice(7), 'hex');
    if (!timingSafeEqual(Buffer.from(c.signature, 'hex'), expected)) return this.reject('signature', 'invalid signature');
    const now = this.opts.clock.now();
    const refused = this.staleOrReplayed(c.signature, c.timestamp, now);
    if (refused) return refused;
    this.verified.set(req, { signature: c.signature, expiresAt: (Number(c.timestamp) + this.opts.toleranceSeconds) * 1000 + 1000 });
    return { ok: true, actor: 'webhook:hmac' };
  };
}
