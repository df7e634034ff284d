import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseCli } from './load';

const home = () => mkdtempSync(join(tmpdir(), 'sd-config-'));

describe('loadConfig', () => {
  it('gives the embedded defaults with no configuration', () => {
    const dir = home();
    const config = loadConfig({ env: { STRIKEDESK_HOME: dir }, argv: [] });
    expect(config).toMatchObject({ home: dir, host: '127.0.0.1', port: 8081, pollIntervalSeconds: 15, backfillIntervalMinutes: 5 });
    expect(config.tickerUrl).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.underlyings).toEqual(['NIFTY', 'BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY']);
  });

  it('layers defaults < config file < environment < CLI', () => {
    const dir = home();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ port: 9001, pollIntervalSeconds: 30, backfillIntervalMinutes: 7 }));
    const config = loadConfig({ env: { STRIKEDESK_HOME: dir, STRIKEDESK_PORT: '9002', STRIKEDESK_POLL_INTERVAL: '20' }, argv: ['--port', '9003'] });
    expect(config.port).toBe(9003); // CLI beats env beats file
    expect(config.pollIntervalSeconds).toBe(20); // env beats file
    expect(config.backfillIntervalMinutes).toBe(7); // file beats default
  });

  it('names the setting and the expected form in one line', () => {
    const dir = home();
    const attempt = (env: Record<string, string>, argv: string[] = []) => {
      try {
        loadConfig({ env: { STRIKEDESK_HOME: dir, ...env }, argv });
        return 'no error';
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
    };
    expect(attempt({ STRIKEDESK_PORT: 'eighty' })).toBe('Invalid configuration: STRIKEDESK_PORT must be an integer 0-65535 (got "eighty")');
    expect(attempt({ TICKER_URL: 'ftp://x' })).toMatch(/^Invalid configuration: TICKER_URL must be an http\(s\) URL/);
    expect(attempt({ DATABASE_URL: 'mysql://x' })).toMatch(/^Invalid configuration: DATABASE_URL must be a postgres:\/\/ URL/);
    expect(attempt({}, ['--port=-1'])).toMatch(/^Invalid configuration: --port must be an integer 0-65535/);
    expect(attempt({ STRIKEDESK_HOST: '0.0.0.0' })).toBe(
      'Invalid configuration: STRIKEDESK_HOST=0.0.0.0 is not a loopback address, so STRIKEDESK_API_TOKEN must be set',
    );
    expect(attempt({ STRIKEDESK_HOST: '0.0.0.0', STRIKEDESK_API_TOKEN: 'x'.repeat(20) })).toMatch(/STRIKEDESK_WEBHOOK_SECRET must be set/);
    expect(attempt({ STRIKEDESK_API_TOKEN: 'short' })).toMatch(/STRIKEDESK_API_TOKEN must be a string of at least 16 characters/);
  });

  it('rejects a broken or unknown config file naming it', () => {
    const dir = home();
    writeFileSync(join(dir, 'config.json'), '{ not json');
    expect(() => loadConfig({ env: { STRIKEDESK_HOME: dir } })).toThrow(/config\.json must be a JSON object/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ prot: 1 }));
    expect(() => loadConfig({ env: { STRIKEDESK_HOME: dir } })).toThrow(/unknown key "prot"/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ port: 'x' }));
    expect(() => loadConfig({ env: { STRIKEDESK_HOME: dir } })).toThrow(/port in .*config\.json must be an integer 0-65535/);
  });

  it('ignores switches that are not ours (Electron and Chromium add their own)', () => {
    expect([...parseCli(['--inspect', '--port', '1', '--headless', '--no-sandbox'])]).toEqual([
      ['--port', '1'],
      ['--headless', 'true'],
    ]);
  });
});

describe('configuration errors never echo a secret', () => {
  const attempt = (env: Record<string, string>) => {
    try {
      loadConfig({ env: { STRIKEDESK_HOME: home(), ...env }, argv: [] });
      return 'no error';
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };

  it('masks tokens and secrets, naming the setting', () => {
    const short = attempt({ STRIKEDESK_API_TOKEN: 'tooShortSecret' });
    expect(short).toMatch(/STRIKEDESK_API_TOKEN must be a string of at least 16 characters/);
    expect(short).not.toContain('tooShortSecret');
    const secret = attempt({ STRIKEDESK_WEBHOOK_SECRET: 'hunter2hunter' });
    expect(secret).toMatch(/STRIKEDESK_WEBHOOK_SECRET/);
    expect(secret).not.toContain('hunter2');
  });

  it('masks the credentials of URL settings', () => {
    const db = attempt({ DATABASE_URL: 'mysql://admin:Pa55word@db.internal/x' });
    expect(db).toMatch(/DATABASE_URL must be a postgres:\/\/ URL/);
    expect(db).not.toContain('Pa55word');
    const ticker = attempt({ TICKER_URL: 'ftp://kite:Pa55word@ticker/' });
    expect(ticker).toMatch(/TICKER_URL/);
    expect(ticker).not.toContain('Pa55word');
    const redis = attempt({ REDIS_URL: 'http://:Pa55word@redis:6379' });
    expect(redis).not.toContain('Pa55word');
  });

  it('does not quote a broken config file (it may hold secrets)', () => {
    const dir = home();
    writeFileSync(join(dir, 'config.json'), '{ "apiToken": "leakyleakyleaky12345", oops }');
    let message = '';
    try {
      loadConfig({ env: { STRIKEDESK_HOME: dir } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/config\.json must be a JSON object/);
    expect(message).not.toContain('leakyleaky');
  });
});
