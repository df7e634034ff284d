// One scoped logger per module (pino). Secrets and DSN passwords are redacted before anything is written.
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'secret',
  'token',
  'apiToken',
  'password',
  'authorization',
  'headers.authorization',
  'headers["x-webhook-secret"]',
  'headers["x-strikedesk-signature"]',
  '*.secret',
  '*.apiToken',
  '*.password',
  '*.webhookSecret',
];

const SECRET_PARAMS = ['password', 'token', 'secret', 'key', 'api_key', 'apikey', 'access_token'];

/** Removes the secrets from a URL: http://user:pw@host/?token=x -> http://user:***@host/?token=***. */
export function redactUrl(url: string | undefined | null): string | undefined {
  if (!url) return url ?? undefined;
  try {
    const parsed = new URL(url);
    let changed = false;
    // The user name stays (operators recognise the account); a password or a token-only user part is masked.
    if (parsed.username && !parsed.password) {
      parsed.username = '***';
      changed = true;
    }
    if (parsed.password) {
      parsed.password = '***';
      changed = true;
    }
    for (const key of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAMS.includes(key.toLowerCase())) {
        parsed.searchParams.set(key, '***');
        changed = true;
      }
    }
    // Unchanged URLs are returned as written (no normalisation: operators compare them with what they set).
    return changed ? parsed.toString() : url;
  } catch {
    return redactUrlsIn(url);
  }
}

/** Every URL inside free text (an error message, a health detail) with its credentials masked. */
export function redactUrlsIn(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*):[^\s/@'"]+@/gi, '$1$2:***@')
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@:'"]+@/gi, '$1***@')
    .replace(/([?&](?:password|token|secret|key|api_key|apikey|access_token)=)[^&\s'"]+/gi, '$1***');
}

/** Masks URL credentials in a log record's string fields (one level deep: err.message, url, detail). */
function scrubRecord(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') out[key] = redactUrlsIn(value);
    else if (value instanceof Error)
      out[key] = { type: value.name, message: redactUrlsIn(value.message), stack: value.stack ? redactUrlsIn(value.stack) : undefined };
    else out[key] = value;
  }
  return out;
}

let root: Logger | null = null;

/** The console's logger: secrets redacted by path, URL credentials masked in every string field and the message. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'strikedesk' },
      redact: { paths: REDACT_PATHS, censor: '***' },
      formatters: { log: scrubRecord },
      hooks: {
        // The message text too (a registry or ticker error may quote the URL it failed on).
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactUrlsIn(a) : a)) as Parameters<typeof method>);
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination(1),
  );
}

export function rootLogger(): Logger {
  if (!root) root = createLogger(process.env.STRIKEDESK_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'));
  return root;
}

/** Replace the process-wide root (composition root only; tests use silent loggers). */
export function setRootLogger(logger: Logger): void {
  root = logger;
}

export function scopedLogger(scope: string): Logger {
  return rootLogger().child({ scope });
}

export const silentLogger: Logger = pino({ level: 'silent' });
