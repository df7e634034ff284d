// Internal errors reach clients as generic text: a database's words (table names, a DSN) stay in the log.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log';
import { ConsoleApi } from './console-api';

describe('ConsoleApi internal errors', () => {
  it('answers INTERNAL with generic text, never the cause', async () => {
    const api = new ConsoleApi(silentLogger);
    api.register({
      'flags:list': () => {
        throw new Error('invalid input syntax for type date: "2026-99-99" (postgres://app:Secr3t@db/market)');
      },
    });
    const result = await api.call('flags:list', {}, { actor: 'test' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INTERNAL');
    expect(result.error.message).not.toMatch(/2026-99-99|Secr3t|syntax/);
    expect(result.error.message).toMatch(/internal error/);
  });
});

describe('ConsoleApi refuses NUL characters at the edge', () => {
  it('BAD_REQUEST naming the field, before any handler runs', async () => {
    const api = new ConsoleApi(silentLogger);
    let ran = false;
    api.register({
      'backfill:plan': () => {
        ran = true;
        throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
      },
    });
    const result = await api.call('backfill:plan', { scope: { kind: 'symbol', symbol: 'NI\u0000FTY' } }, { actor: 'test' });
    expect(result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', field: 'scope.symbol' } });
    expect(ran).toBe(false);
  });
});
