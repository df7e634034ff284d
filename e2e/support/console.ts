// Starts one headless Strikedesk console for a spec file: its own data directory, its own ports (0), the embedded
// devticker with the market always open, and waits for the line the entry prints when everything is listening.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from '@playwright/test';
import type { Channel, RequestOf, ResultOf } from '../../src/shared/api';
import type { Result } from '../../src/shared/result';
import { SIM_TOKEN } from './devticker';

export interface RunningConsole {
  /** The URL the console printed, token included. */
  consoleUrl: string;
  /** Origin of the console's HTTP server. */
  base: string;
  token: string;
  home: string;
  /** Calls the ConsoleApi over HTTP, as the headless renderer does. */
  call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Result<ResultOf<C>>>;
  /** stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

const READY = /Strikedesk console: (\S+)/;
// The build to drive: `out` (npm run e2e builds it); STRIKEDESK_OUT_DIR points elsewhere (a private build).
export const outDir = (): string => resolve(process.env.STRIKEDESK_OUT_DIR ?? 'out');

export async function startConsole(options: { env?: Record<string, string>; readyTimeoutMs?: number } = {}): Promise<RunningConsole> {
  const entry = join(outDir(), 'main', 'headless.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` (npm run e2e does) first`);
  const home = await mkdtemp(join(tmpdir(), 'strikedesk-e2e-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  // Embedded defaults, as a new user gets them: no outside ticker, database, Redis or fixed token.
  for (const k of ['TICKER_URL', 'DATABASE_URL', 'REDIS_URL', 'STRIKEDESK_API_TOKEN', 'STRIKEDESK_HOME', 'STRIKEDESK_PORT', 'STRIKEDESK_CONFIG']) delete env[k];
  Object.assign(
    env,
    { DEVTICKER_SIM_TOKEN: SIM_TOKEN, STRIKEDESK_DEVTICKER_PORT: '0', STRIKEDESK_DEVTICKER_CLOCK: 'always-open', STRIKEDESK_LOG_LEVEL: 'warn' },
    options.env ?? {},
  );

  const child: ChildProcess = spawn(process.execPath, [entry, '--port', '0', '--home', home], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  const consoleUrl = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`console not ready after ${options.readyTimeoutMs ?? 90_000} ms:\n${output.slice(-4000)}`)),
      options.readyTimeoutMs ?? 90_000,
    );
    const onData = () => {
      const match = READY.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        done(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`console exited (${code}) before it was ready:\n${output.slice(-4000)}`));
    });
  });

  const url = new URL(consoleUrl);
  const token = url.searchParams.get('token') ?? '';
  const base = url.origin;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
    // E2E_CONSOLE_LOG=dir keeps each console's log lines (pino JSON) for a post-mortem.
    if (process.env.E2E_CONSOLE_LOG) await writeFile(join(process.env.E2E_CONSOLE_LOG, `console-${Date.now()}.log`), output);
    await rm(home, { recursive: true, force: true });
  };
  return {
    consoleUrl,
    base,
    token,
    home,
    output: () => output,
    stop,
    async call(channel, request) {
      const response = await fetch(`${base}/api/${channel}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(request ?? {}),
      });
      return (await response.json()) as Result<ResultOf<typeof channel>>;
    },
  };
}

/** Registers beforeAll/afterAll for the calling spec file; the getter is valid inside its tests. */
export function useConsole(options: Parameters<typeof startConsole>[0] = {}): () => RunningConsole {
  let running: RunningConsole | null = null;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    running = await startConsole(options);
  });
  test.afterAll(async () => {
    await running?.stop();
    running = null;
  });
  return () => {
    if (!running) throw new Error('console not started');
    return running;
  };
}

/** Fails with the service's own message when a call does not answer ok. */
export function valueOf<T>(result: Result<T>, what: string): T {
  if (!result.ok) throw new Error(`${what}: ${result.error.code} ${result.error.message}`);
  return result.value;
}
