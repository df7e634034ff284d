// A headless Strikedesk console in a child process, started from the build (out/main/headless.js) as a user runs it,
// for benches that measure or kill the process: its own home (a temp STRIKEDESK_HOME unless given), port 0, and the
// ConsoleApi over HTTP. Also: the resident memory of a process and its descendants, from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Channel, RequestOf, ResultOf } from '../../src/shared/api';
import type { Result } from '../../src/shared/result';

const READY = /Strikedesk console: (\S+)/;

export interface ConsoleProcess {
  pid: number;
  consoleUrl: string;
  base: string;
  token: string;
  home: string;
  /** ms from spawn to the ready line */
  readyMs: number;
  call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Result<ResultOf<C>>>;
  output(): string;
  /** SIGTERM, then SIGKILL after 20 s; removes the home unless keepHome. */
  stop(): Promise<void>;
  /** SIGKILL now (a crash); resolves when the process is gone. The home stays. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export const buildDir = (): string => resolve(process.env.STRIKEDESK_OUT_DIR ?? 'out');

export interface SpawnConsoleOptions {
  env?: Record<string, string>;
  home?: string;
  keepHome?: boolean;
  readyTimeoutMs?: number;
  /** Called with the child's pid as soon as it exists (a sampler can watch the boot). */
  onSpawn?: (pid: number) => void;
}

export async function spawnConsole(options: SpawnConsoleOptions = {}): Promise<ConsoleProcess> {
  const entry = join(buildDir(), 'main', 'headless.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (the bench's npm script does)`);
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'sd-bench-console-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  // Embedded defaults unless the caller sets them: no outside ticker, database, Redis or fixed token.
  for (const k of [
    'TICKER_URL',
    'DATABASE_URL',
    'REDIS_URL',
    'STRIKEDESK_API_TOKEN',
    'STRIKEDESK_HOME',
    'STRIKEDESK_PORT',
    'STRIKEDESK_CONFIG',
    'STRIKEDESK_INSTRUMENTS',
  ])
    delete env[k];
  Object.assign(env, { STRIKEDESK_DEVTICKER_PORT: '0', STRIKEDESK_DEVTICKER_CLOCK: 'always-open', STRIKEDESK_LOG_LEVEL: 'warn' }, options.env ?? {});
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [entry, '--port', '0', '--home', home], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  const consoleUrl = await new Promise<string>((done, fail) => {
    const timeoutMs = options.readyTimeoutMs ?? 120_000;
    const timer = setTimeout(() => fail(new Error(`console not ready after ${timeoutMs} ms:\n${output.slice(-4000)}`)), timeoutMs);
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
  const readyMs = performance.now() - started;
  const url = new URL(consoleUrl);
  const token = url.searchParams.get('token') ?? '';
  const base = url.origin;
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    pid: child.pid as number,
    consoleUrl,
    base,
    token,
    home,
    readyMs,
    exited,
    output: () => output,
    async stop() {
      if (!gone()) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(killer);
      }
      if (!options.keepHome && !options.home) rmSync(home, { recursive: true, force: true });
    },
    async kill() {
      if (!gone()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
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

/** The value of a Result, or an error naming the channel and the service's message. */
export function valueOf<T>(result: Result<T>, what: string): T {
  if (!result.ok) throw new Error(`${what}: ${result.error.code} ${result.error.message}`);
  return result.value;
}

// ---------- memory from /proc ----------

export interface ProcMemory {
  /** Resident set now, kB (VmRSS) */
  rssKb: number;
  /** Peak resident set so far, kB (VmHWM) */
  hwmKb: number;
}

export function procMemory(pid: number): ProcMemory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** The pid and every descendant (children of every thread, recursively). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
      } catch {
        // the task ended between readdir and read
      }
    }
  }
  return out;
}

/** Resident memory of a process with its descendants: the sum of VmRSS, and the sum of each one's VmHWM. */
export function treeMemory(pid: number): ProcMemory & { processes: number } {
  let rssKb = 0;
  let hwmKb = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    const m = procMemory(p);
    if (!m) continue;
    rssKb += m.rssKb;
    hwmKb += m.hwmKb;
    processes++;
  }
  return { rssKb, hwmKb, processes };
}
