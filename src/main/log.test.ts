// Credentials in URLs never reach the log (issue 14: TICKER_URL's user:password in the registry's log line) or a
// client: redaction by path for secrets, and URL credentials masked in every string field and in the message.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl, redactUrlsIn } from './log';

describe('URL redaction', () => {
  it('masks user, password and secret query parameters; leaves clean URLs as written', () => {
    expect(redactUrl('http://kite:pw@ticker:8080/x?token=abc&mode=full')).toBe('http://kite:***@ticker:8080/x?token=***&mode=full');
    expect(redactUrl('postgres://app:s3cret@db/market')).toBe('postgres://app:***@db/market');
    expect(redactUrl('https://ghp_tokenonly@host/x')).toBe('https://***@host/x');
    expect(redactUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(redactUrlsIn('GET http://u:p@h:1/instruments failed; retry redis://:pw@r:6379 https://tok@h ?password=x')).toBe(
      'GET http://u:***@h:1/instruments failed; retry redis://:***@r:6379 https://***@h ?password=***',
    );
    // Already masked text stays as it is.
    expect(redactUrlsIn('http://ops:***@h/x')).toBe('http://ops:***@h/x');
  });

  it('the logger masks URL credentials in fields, errors and the message', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('info', sink);
    log.info({ source: 'http://kite:hunter2@ticker/instruments' }, 'instrument registry loaded from http://kite:hunter2@ticker/instruments');
    log.error({ err: new Error('connect ECONNREFUSED http://kite:hunter2@ticker') }, 'refresh failed');
    log.info({ apiToken: 'tok-123', nested: { password: 'pw-123' } }, 'settings');
    const text = lines.join('');
    expect(lines).toHaveLength(3);
    expect(text).not.toMatch(/hunter2|tok-123|pw-123/);
    expect(text).toContain('ticker/instruments');
  });
});
