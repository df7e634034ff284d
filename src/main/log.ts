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

/** Removes the password from a connection URL: postgres://user:pw@host -> postgres://user:***@host. */
export function redactUrl(url: string | undefined | null): string | undefined {
  if (!url) return url ?? undefined;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of ['password', 'token', 'secret']) {
      if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
  }
}

let root: Logger | null = null;

export function rootLogger(): Logger {
  if (!root) {
    root = pino({
      level: process.env.STRIKEDESK_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
      base: { app: 'strikedesk' },
      redact: { paths: REDACT_PATHS, censor: '***' },
      timestamp: pino.stdTimeFunctions.isoTime,
    });
  }
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
