// Result handling of the HTTP transport. The wire itself (bearer token, 401 {detail}, 503 UNAVAILABLE panels) is
// exercised end to end against the real headless console in e2e/flags.spec.ts and e2e/screens.spec.ts.
import { describe, expect, it } from 'vitest';
import { httpTransport, toResult } from './transport';

describe('http transport', () => {
  it('without a token it makes no call and says how to get one', async () => {
    const t = httpTransport(null, 'http://127.0.0.1:1');
    const result = await t.call('flags:list', {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('UNAUTHORIZED');
    expect(t.problem).toMatch(/No API token/);
  });

  it('a console that is not running is UNAVAILABLE', async () => {
    const result = await httpTransport('good-token', 'http://127.0.0.1:1').call('flags:list', {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('UNAVAILABLE');
  });

  it('reads a Result body by its own ok field; anything else becomes an error value', () => {
    expect(toResult(200, { ok: true, value: [1] })).toEqual({ ok: true, value: [1] });
    expect(toResult(409, { ok: false, error: { code: 'PINNED', message: 'pinned by X' } })).toEqual({
      ok: false,
      error: { code: 'PINNED', message: 'pinned by X' },
    });
    expect(toResult(409, { ok: false, error: { message: 'no code' } })).toEqual({ ok: false, error: { code: 'CONFLICT', message: 'no code' } });
    expect(toResult(401, { detail: 'missing or invalid API token' })).toEqual({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'missing or invalid API token' },
    });
    expect(toResult(400, { detail: [{ msg: 'bad' }] })).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: '[{"msg":"bad"}]' } });
    expect(toResult(502, null)).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'unexpected answer (HTTP 502)' } });
  });
});
