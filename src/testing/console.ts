// The composed console for app tests: the real composition root (startApp) in a private temporary home, with the
// settings every app test wants (ports chosen by the OS, an embedded devticker whose market is always open, timers
// that stay quiet during a test, no log noise), plus the headless API with its token. Tests reach the services
// inside only through `services` below: the one place that knows how the running app exposes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result } from '../shared/result';
import { startApp, type RunningApp } from '../main/app/app';
import { loadConfig } from '../main/config/load';

/** The services of a running console, as tests may reach them. */
export type ConsoleServices = RunningApp['context'];

/** The one accessor from a running console to its services. */
export const servicesOf = (app: RunningApp): ConsoleServices => app.context;

/** Settings of every test console; a test's own env overrides them. */
const TEST_SETTINGS: Record<string, string> = {
  STRIKEDESK_PORT: '0',
  STRIKEDESK_DEVTICKER_PORT: '0',
  STRIKEDESK_DEVTICKER_CLOCK: 'always-open',
  // The hourly poll and the daily scheduled backfill stay out of the way; tests drive what they check.
  STRIKEDESK_POLL_INTERVAL: '3600',
  STRIKEDESK_BACKFILL_INTERVAL: '1440',
  STRIKEDESK_LOG_LEVEL: 'silent',
};

/** A fresh private home for a test console (made before the start when a test puts files in it). */
export function testConsoleHome(name = 'console'): string {
  return mkdtempSync(join(tmpdir(), `sd-${name}-`));
}

export interface ApiReply<T> {
  status: number;
  body: Result<T>;
}

export interface TestConsoleOptions {
  /** Names the temporary home (sd-<name>-XXXX). */
  name?: string;
  /** A home made with testConsoleHome(); a new one otherwise. */
  home?: string;
  /** Settings on top of the test defaults (REDIS_URL, TICKER_URL, STRIKEDESK_* ...). */
  env?: Record<string, string>;
}

export interface TestConsole {
  /** The running console; a new one after restart(). */
  readonly app: RunningApp;
  readonly services: ConsoleServices;
  readonly home: string;
  readonly env: Record<string, string>;
  readonly url: string;
  readonly apiToken: string;
  /** POST /api/<channel> with the API token: the status and the result envelope, whatever they are. */
  api<T>(channel: string, request?: unknown): Promise<ApiReply<T>>;
  /** The value of an API call that must succeed (throws with the error otherwise). */
  call<T>(channel: string, request?: unknown): Promise<T>;
  /** Stops the console and starts it again on the same home and settings. */
  restart(): Promise<void>;
  /** Stops the console and removes its home. Safe to call twice. */
  close(): Promise<void>;
}

const start = (env: Record<string, string>): Promise<RunningApp> => startApp(loadConfig({ env, argv: [] }), { env });

/**
 * Starts the console the way the app tests need it. A start that fails rethrows (a test can assert the start-up
 * error) and removes the home it made; close() removes the home in every case.
 */
export async function startTestConsole(opts: TestConsoleOptions = {}): Promise<TestConsole> {
  const home = opts.home ?? testConsoleHome(opts.name);
  const env = { ...TEST_SETTINGS, STRIKEDESK_HOME: home, ...opts.env };
  const removeHome = () => rmSync(home, { recursive: true, force: true });
  let app: RunningApp;
  try {
    app = await start(env);
  } catch (err) {
    // A home the test gave may belong to another console (the lock test): only our own is removed.
    if (opts.home === undefined) removeHome();
    throw err;
  }
  let closed = false;

  const api = async <T>(channel: string, request: unknown = {}): Promise<ApiReply<T>> => {
    const res = await fetch(`${app.url}/api/${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiToken}` },
      body: JSON.stringify(request),
    });
    return { status: res.status, body: (await res.json()) as Result<T> };
  };

  return {
    get app() {
      return app;
    },
    get services() {
      return servicesOf(app);
    },
    home,
    env,
    get url() {
      return app.url;
    },
    get apiToken() {
      return app.apiToken;
    },
    api,
    async call<T>(channel: string, request: unknown = {}): Promise<T> {
      const { status, body } = await api<T>(channel, request);
      if (!body.ok) throw new Error(`${channel} answered ${status}: ${body.error.code} ${body.error.message}`);
      return body.value;
    },
    async restart() {
      await app.stop();
      app = await start(env);
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.stop();
      removeHome();
    },
  };
}
