// `npm run devticker`: the CLI starts the production profile, prints its URL and /_sim/ token, honours its flags,
// refuses bad ones naming the flag, and stops on SIGTERM.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const CLI = ['--import', 'tsx', 'src/devticker/cli.ts'];
let child: ChildProcess | null = null;

afterEach(async () => {
  const c = child;
  child = null;
  if (c && c.exitCode === null && c.signalCode === null) {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
});

/** Starts the CLI and resolves with its first two stdout lines (URL, token). */
function startCli(args: string[]): Promise<{ url: string; token: string | null; out: string }> {
  return new Promise((resolvePromise, reject) => {
    const c = spawn(process.execPath, [...CLI, '--port', '0', '--log-level', 'silent', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    let err = '';
    c.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /listening on (http:\/\/[^ ]+)/.exec(out)?.[1];
      const token = /\/_sim\/ token: ([^ ]+) /.exec(out)?.[1] ?? null;
      if (url && (token || out.includes('/_sim/ is off'))) resolvePromise({ url, token, out });
    });
    c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    c.once('exit', (code) => reject(new Error(`devticker exited ${code}: ${err}`)));
  });
}

describe('devticker CLI', () => {
  it('--help describes the production profile and the new flags', () => {
    const r = spawnSync(process.execPath, [...CLI, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    for (const flag of [
      '--profile production|ideal',
      '--reload full|incremental|broken',
      '--instruments-csv',
      '--instrument-db',
      '--state-file',
      '--rebalancer',
      '--sim-token',
      '--no-sim',
      '--environment',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('refuses a bad flag value naming the flag', () => {
    const r = spawnSync(process.execPath, [...CLI, '--profile', 'kind'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--profile/);
  });

  it('serves the production profile by default, prints the /_sim/ token and writes the CSV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devticker-cli-'));
    try {
      const csv = join(dir, 'instruments.csv');
      const { url, token, out } = await startCli(['--clock', 'always-open', '--instruments-csv', csv, '--reload', 'broken']);
      expect(out).toContain('profile production, reload broken');
      expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(readFileSync(csv, 'utf8').split('\n')[0]).toMatch(/^instrument_token,exchange_token,/);
      expect((await fetch(`${url}/instruments`)).status).toBe(404);
      expect((await fetch(`${url}/_sim/state`)).status).toBe(401);
      const state = (await (await fetch(`${url}/_sim/state`, { headers: { 'x-sim-token': token! } })).json()) as any;
      expect(state).toMatchObject({ profile: 'production', reload_mode: 'broken', clock_mode: 'always-open' });
      const post = await fetch(`${url}/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"instrument_token": 256265}',
      });
      expect(((await post.json()) as any).account_id).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--profile ideal --no-sim: /instruments served, /_sim/ off', async () => {
    const { url, token } = await startCli(['--profile', 'ideal', '--no-sim']);
    expect(token).toBeNull();
    expect((await fetch(`${url}/_sim/state`)).status).toBe(404);
    expect((await fetch(`${url}/instruments`)).status).toBe(200);
  });
});
