// Named operator tokens: parsing names the bad entry (never echoing a token), the config loader names the setting,
// and the HTTP server records the operator's name as the actor.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../config/load';
import { silentLogger } from '../log';
import { parseNamedTokens } from '../config/operators';
import { OperatorTokens } from './operators';
import { HttpServer } from './server';

const T1 = 'a'.repeat(24);
const T2 = 'b'.repeat(30);

describe('parseNamedTokens', () => {
  it('reads name:token pairs', () => {
    expect(parseNamedTokens(` alice:${T1} , bob:${T2}`)).toEqual({
      ok: true,
      tokens: [
        { name: 'alice', token: T1 },
        { name: 'bob', token: T2 },
      ],
    });
  });
  it.each([
    ['', /at least one/],
    [`alice${T1}`, /entry 1: expected name:token/],
    [`alice:${T1},bob:short-token`, /entry 2 \(bob\): the token must be at least 24 characters/],
    [`alice:${T1},alice:${T2}`, /name alice is given twice/],
    [`alice:${T1},bob:${T1}`, /same token is given to two names/],
    [`al ice:${T1}`, /entry 1: the name must be/],
  ])('refuses %j', (text, message) => {
    const parsed = parseNamedTokens(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.message).toMatch(message);
      expect(parsed.message).not.toContain('short-token');
    }
  });
});

describe('STRIKEDESK_API_TOKENS', () => {
  it('names the setting on a bad value and never echoes a token', () => {
    let error: unknown;
    try {
      loadConfig({ env: { STRIKEDESK_API_TOKENS: `alice:${T1},bob:tooshort-secret` }, argv: [], defaultHome: '/nonexistent-home' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/STRIKEDESK_API_TOKENS must be name:token pairs.*entry 2 \(bob\): the token must be at least 24 characters/);
    expect((error as Error).message).not.toContain('tooshort-secret');
    expect((error as Error).message).not.toContain(T1);
  });
  it('parses into the config', () => {
    const config = loadConfig({ env: { STRIKEDESK_API_TOKENS: `alice:${T1}` }, argv: [], defaultHome: '/nonexistent-home' });
    expect(config.apiTokens).toEqual([{ name: 'alice', token: T1 }]);
  });
});

describe('OperatorTokens', () => {
  it('maps each token to its operator, the console token to its owner, an unknown one to nobody', () => {
    const ops = new OperatorTokens({ name: 'os:carol', token: 'c'.repeat(32) }, [
      { name: 'alice', token: T1 },
      { name: 'bob', token: T2 },
    ]);
    expect(ops.actorFor(T1)).toBe('alice');
    expect(ops.actorFor(T2)).toBe('bob');
    expect(ops.actorFor('c'.repeat(32))).toBe('os:carol');
    expect(ops.actorFor(`${T1}x`)).toBeNull();
    expect(ops.actorFor('')).toBeNull();
    expect(ops.actorFor(null)).toBeNull();
  });

  it('names the holder of exactly the presented token, whatever its length or characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', minLength: 24, maxLength: 40 }), (presented, token) => {
        const ops = new OperatorTokens({ name: 'os:carol', token: 'c'.repeat(32) }, [{ name: 'alice', token }]);
        const expected = presented === token ? 'alice' : presented === 'c'.repeat(32) ? 'os:carol' : null;
        expect(ops.actorFor(presented)).toBe(presented === '' ? null : expected);
        expect(ops.actorFor(token)).toBe('alice');
      }),
    );
  });
});

describe('the HTTP server', () => {
  it('records the operator name of the presented token as the actor', async () => {
    const http = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      apiToken: 'c'.repeat(32),
      apiTokenName: 'os:carol',
      namedTokens: [{ name: 'alice', token: T1 }],
      loopbackBind: true,
      logger: silentLogger,
      version: 'test',
    });
    http.addRoute({ method: 'GET', path: '/api/whoami', summary: 'who', tag: 'test', auth: 'token', handler: ({ actor }) => ({ body: { actor } }) });
    const listener = await http.listen();
    try {
      const who = async (token: string) => {
        const res = await fetch(`${listener.url}/api/whoami`, { headers: { Authorization: `Bearer ${token}` } });
        return { status: res.status, body: (await res.json()) as { actor?: string } };
      };
      expect(await who(T1)).toEqual({ status: 200, body: { actor: 'alice' } });
      expect(await who('c'.repeat(32))).toEqual({ status: 200, body: { actor: 'os:carol' } });
      expect((await who('d'.repeat(32))).status).toBe(401);
    } finally {
      await listener.close();
    }
  });
});
