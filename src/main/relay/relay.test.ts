// The relay end to end: the real console core (core.ts, embedded defaults in a temporary home, port 0) forked as a
// child process through the same CoreClient the headless entry and Electron main use. Calls cross the process
// boundary with their results and their errors' shapes, pushed events arrive, the stop is ordered, and a killed
// core is reported. The client's own time-out and exit rules are checked against an in-memory port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTRACT, type FlagAuditEntry, type FlagView, type PushEvent } from '../../shared/api';
import { CoreClient, CoreStartError } from './client';
import { startFront, type RunningFront } from './front';
import { forkCore, type ForkedCore } from './node-transport';
import type { CoreExit, CoreProcess, FromCore, ToCore } from './protocol';

const CORE_ENTRY = resolve(__dirname, '../core.ts');
const ACTOR = 'os:relay-test';

function coreEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['TICKER_URL', 'DATABASE_URL', 'REDIS_URL', 'STRIKEDESK_API_TOKEN', 'STRIKEDESK_CONFIG', 'STRIKEDESK_PORT']) delete env[k];
  return {
    ...env,
    STRIKEDESK_HOME: home,
    STRIKEDESK_DEVTICKER_PORT: '0',
    STRIKEDESK_DEVTICKER_CLOCK: 'always-open',
    STRIKEDESK_POLL_INTERVAL: '3600',
    STRIKEDESK_BACKFILL_INTERVAL: '1440',
    STRIKEDESK_LOG_LEVEL: 'warn',
  };
}

/** Forks the TypeScript core entry through tsx (the build's out/main/core.js is the same module bundled). */
function forkTestCore(home: string): { core: ForkedCore; client: CoreClient; output: () => string } {
  const core = forkCore(CORE_ENTRY, { execArgv: ['--import', 'tsx'], env: coreEnv(home), stdio: 'pipe' });
  let output = '';
  core.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  core.child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return { core, client: new CoreClient(core), output: () => output };
}

function portAccepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

const homes: string[] = [];
const tempHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'sd-relay-'));
  homes.push(home);
  return home;
};
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('relay to a forked console core, behind the headless front', () => {
  let forked: ReturnType<typeof forkTestCore>;
  let ready: Awaited<ReturnType<CoreClient['start']>>;
  let front: RunningFront;
  let staticDir: string;

  beforeAll(async () => {
    forked = forkTestCore(tempHome());
    staticDir = tempHome();
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>relay front</title>');
    // As the headless entry does: the front owns the address, the core listens behind it.
    front = await startFront({ host: '127.0.0.1', port: 0, staticDir, core: forked.client });
    try {
      ready = await forked.client.start({ argv: ['--port', '0'], front: { port: front.port, url: front.url } });
      front.attach({ apiToken: ready.apiToken, listenUrl: ready.listenUrl, routes: ready.routes });
    } catch (err) {
      throw new Error(`core did not start: ${(err as Error).message}\n${forked.output()}`, { cause: err });
    }
  }, 90_000);
  afterAll(async () => {
    await front?.close();
    await forked?.client.stop();
  });

  it("reports the front's address as the console's, and where the core itself listens", () => {
    expect(ready.url).toBe(front.url);
    expect(ready.apiToken.length).toBeGreaterThanOrEqual(24);
    expect(ready.consoleUrl).toBe(`${front.url}/?token=${encodeURIComponent(ready.apiToken)}`);
    expect(ready.listenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.listenUrl).not.toBe(front.url);
    expect(ready.routes).toContainEqual({ method: 'POST', path: '/internal/subscription-events' });
  });

  it('answers health:get from the core', async () => {
    const result = await forked.client.call('health:get', {}, { actor: ACTOR });
    expect(result.ok).toBe(true);
    const health = (result as { value: { timestamp: string; components: Record<string, { status: string }> } }).value;
    expect(health.components.state_store.status).toBe('ok');
    expect(health.components.market_store.status).toBe('ok');
    expect(health.timestamp).toMatch(/Z$/);
  });

  it('changes a flag as the relayed actor and pushes flags:changed', async () => {
    const pushed: PushEvent[] = [];
    const unsubscribe = forked.client.subscribe((event) => pushed.push(event));
    try {
      const set = await forked.client.call('flags:set', { key: 'backfill_immediate_on_subscribe', value: false, reason: 'relay test' }, { actor: ACTOR });
      expect(set).toMatchObject({ ok: true, value: { key: 'backfill_immediate_on_subscribe', value: false, updatedBy: ACTOR } });
      await vi.waitFor(() => expect(pushed).toContainEqual({ topic: 'flags:changed' }), { timeout: 10_000 });

      const list = await forked.client.call('flags:list', {}, { actor: ACTOR });
      expect(list.ok).toBe(true);
      const flag = (list as { value: FlagView[] }).value.find((f) => f.key === 'backfill_immediate_on_subscribe');
      expect(flag).toMatchObject({ value: false, updatedBy: ACTOR });
      const audit = await forked.client.call('flags:audit', { limit: 5 }, { actor: ACTOR });
      expect((audit as { value: FlagAuditEntry[] }).value[0]).toMatchObject({ actor: ACTOR, reason: 'relay test' });
    } finally {
      unsubscribe();
    }
  });

  it("returns a contract validation error with the contract's code, field and message", async () => {
    const request = { key: 'smart_subscription_enabled', value: false };
    // Independent expectation: what the contract's own schema says about this request.
    const parsed = CONTRACT['flags:set'].request.safeParse(request);
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues[0];
    const result = await forked.client.call('flags:set', request, { actor: ACTOR });
    expect(result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', field: 'reason' } });
    if (result.ok) return;
    expect(issue.path).toEqual(['reason']);
    expect(result.error.message).toContain(`reason: ${issue.message}`);

    const unknown = await forked.client.call('flags:nonsense', {}, { actor: ACTOR });
    expect(unknown).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'unknown channel "flags:nonsense"' } });
  });

  it('serves the contract over HTTP through the relay, with the same statuses as the core', async () => {
    const post = (channel: string, body: string, headers: Record<string, string>) =>
      fetch(`${front.url}/api/${channel}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    const auth = { Authorization: `Bearer ${ready.apiToken}` };
    expect((await post('flags:list', '{}', {})).status).toBe(401);
    const listed = await post('flags:list', '{}', auth);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { value: FlagView[] }).value.map((f) => f.key)).toContain('smart_subscription_enabled');
    const invalid = await post('flags:set', JSON.stringify({ key: 'smart_subscription_enabled', value: false }), auth);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', field: 'reason' } });
    expect((await post('flags:list', '{oops', auth)).status).toBe(400);
    expect((await post('flags:list', '{}', { ...auth, 'Content-Type': 'text/plain' })).status).toBe(415);
    // A wrong method is the core's answer, forwarded: 405 with its Allow header.
    const wrongMethod = await fetch(`${front.url}/api/flags:list`, { headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    // An actor over HTTP is the API token, as before.
    const set = await post('flags:set', JSON.stringify({ key: 'backfill_immediate_on_subscribe', value: true, reason: 'over http' }), auth);
    expect(await set.json()).toMatchObject({ ok: true, value: { updatedBy: 'api-token' } });
  });

  it('streams pushed events to the browser from the relay', async () => {
    const abort = new AbortController();
    const response = await fetch(`${front.url}/api/events?token=${encodeURIComponent(ready.apiToken)}`, { signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString('utf8');
      }
    })().catch(() => undefined);
    await forked.client.call('flags:set', { key: 'backfill_immediate_on_subscribe', value: false, reason: 'sse' }, { actor: ACTOR });
    await vi.waitFor(() => expect(text).toContain(`data: ${JSON.stringify({ topic: 'flags:changed' })}`), { timeout: 10_000 });
    abort.abort();
    await reading;
  });

  it("forwards the core's other routes with their headers, so the core's guards still decide", async () => {
    const health = await fetch(`${front.url}/internal/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { components: Record<string, unknown> }).components).toHaveProperty('market_store');
    const metrics = await fetch(`${front.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE');
    // The webhook without a signature: the core's authenticator refuses it, through the front.
    const webhook = await fetch(`${front.url}/internal/subscription-events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(webhook.status).toBe(401);
    // The core's own listener answers only requests addressed to the front (its Host allow-list has the front's port).
    const direct = await fetch(`${ready.listenUrl}/internal/health`);
    expect(direct.status).toBe(421);
    // The webhook URL the settings show is the front's.
    const settings = await forked.client.call('settings:get', {}, { actor: ACTOR });
    expect((settings as { value: { webhook: { url: string } } }).value.webhook.url).toBe(`${front.url}/internal/subscription-events`);
  });

  it('serves the renderer build itself, and refuses a foreign Host', async () => {
    const page = await fetch(`${front.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('relay front');
    const { port } = new URL(front.url);
    const misdirected = await new Promise<number>((done, failed) => {
      const req = httpRequest({ host: '127.0.0.1', port: Number(port), path: '/', headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      });
      req.on('error', failed);
      req.end();
    });
    expect(misdirected).toBe(421);
  });

  it('keeps serving the window while the core is frozen, and relays the call once it runs again', async () => {
    const pid = forked.core.child.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      // The core cannot run a single instruction now; the page still loads from the front.
      const page = await fetch(`${front.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('relay front');
      const call = forked.client.call('flags:list', {}, { actor: ACTOR });
      process.kill(pid, 'SIGCONT');
      expect((await call).ok).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('stops in order: the core stops its services (port closed) and exits 0, reported as expected', async () => {
    const exits: [CoreExit, boolean][] = [];
    forked.client.onExit((exit, expected) => exits.push([exit, expected]));
    expect(await portAccepts(ready.listenUrl)).toBe(true);
    const exit = await forked.client.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exits).toEqual([[{ code: 0, signal: null }, true]]);
    expect(await portAccepts(ready.listenUrl)).toBe(false);
    // The front, still up, answers the contract UNAVAILABLE (503) instead of hanging.
    const late = await fetch(`${front.url}/api/health:get`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ready.apiToken}` },
      body: '{}',
    });
    expect(late.status).toBe(503);
    const after = await forked.client.call('health:get', {}, { actor: ACTOR });
    expect(after).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', message: 'health:get: the console core is not running (exit code 0)' } });
  });
});

describe('relay when the core fails', () => {
  it('reports a core that was killed, and calls answer UNAVAILABLE instead of hanging', async () => {
    const { core, client, output } = forkTestCore(tempHome());
    await client.start({ argv: ['--port', '0'] }).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`, { cause: err });
    });
    const exits: [CoreExit, boolean][] = [];
    client.onExit((exit, expected) => exits.push([exit, expected]));
    core.child.kill('SIGKILL');
    await vi.waitFor(() => expect(exits).toEqual([[{ code: null, signal: 'SIGKILL' }, false]]), { timeout: 10_000 });
    expect(client.running).toBe(false);
    expect(await client.call('flags:list', {}, { actor: ACTOR })).toEqual({
      ok: false,
      error: { code: 'UNAVAILABLE', message: 'flags:list: the console core is not running (killed by SIGKILL)' },
    });
  }, 90_000);

  it("passes a configuration error's exit status 2 and message to the parent", async () => {
    const { client, output } = forkTestCore(tempHome());
    const failure = await client.start({ argv: ['--port', 'not-a-port'] }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(CoreStartError);
    expect((failure as CoreStartError).exitCode).toBe(2);
    expect((failure as CoreStartError).message).toMatch(/port/i);
    // The core printed it where the in-process console did: on its stderr.
    expect(output()).toContain((failure as CoreStartError).message);
  }, 60_000);
});

/** An in-memory core process: what the client sent, and what the test makes the core say or do. */
function memoryCore() {
  const sent: ToCore[] = [];
  let receive: (message: FromCore) => void = () => undefined;
  let onExit: (exit: CoreExit) => void = () => undefined;
  let killed = false;
  const core: CoreProcess = {
    port: {
      post: (message) => sent.push(message),
      onMessage: (listener) => {
        receive = listener;
        return () => undefined;
      },
    },
    onExit: (listener) => (onExit = listener),
    kill: () => (killed = true),
  };
  return { core, sent, say: (m: FromCore) => receive(m), exit: (e: CoreExit) => onExit(e), killed: () => killed };
}

describe('CoreClient rules', () => {
  afterEach(() => vi.useRealTimers());

  it('answers a call in flight UNAVAILABLE when the core exits before answering', async () => {
    const mem = memoryCore();
    const client = new CoreClient(mem.core);
    const pending = client.call('backfill:plan', { x: 1 }, { actor: ACTOR });
    expect(mem.sent).toEqual([{ type: 'call', id: 1, channel: 'backfill:plan', request: { x: 1 }, actor: ACTOR }]);
    mem.exit({ code: 1, signal: null });
    expect(await pending).toEqual({
      ok: false,
      error: { code: 'UNAVAILABLE', message: 'backfill:plan: the console core exited (exit code 1) before answering' },
    });
  });

  it('answers UNAVAILABLE after the call time-out, and ignores the late answer', async () => {
    vi.useFakeTimers();
    const mem = memoryCore();
    const client = new CoreClient(mem.core, { callTimeoutMs: 5_000 });
    const pending = client.call('health:get', {}, { actor: ACTOR });
    vi.advanceTimersByTime(4_999);
    const early = await Promise.race([pending, Promise.resolve('pending')]);
    expect(early).toBe('pending');
    vi.advanceTimersByTime(1);
    expect(await pending).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: 'health:get: the console core did not answer within 5 s' } });
    mem.say({ type: 'result', id: 1, result: { ok: true, value: 'late' } });
    // Answers are matched by id: a second call gets its own answer, not the stale one.
    const second = client.call('health:get', {}, { actor: ACTOR });
    mem.say({ type: 'result', id: 2, result: { ok: true, value: 'fresh' } });
    expect(await second).toEqual({ ok: true, value: 'fresh' });
  });

  it('rejects start() with the exit status of a core that ends while starting, without an onExit report', async () => {
    const mem = memoryCore();
    const client = new CoreClient(mem.core);
    const reports: CoreExit[] = [];
    client.onExit((exit) => reports.push(exit));
    const starting = client.start({ argv: [] });
    expect(mem.sent).toEqual([{ type: 'start', start: { argv: [] } }]);
    mem.exit({ code: 2, signal: null });
    await expect(starting).rejects.toMatchObject({ name: 'CoreStartError', exitCode: 2 });
    expect(reports).toEqual([]);
  });

  it('kills a core that does not exit within the stop time-out', async () => {
    vi.useFakeTimers();
    const mem = memoryCore();
    const client = new CoreClient(mem.core, { stopTimeoutMs: 1_000 });
    const stopped = client.stop();
    expect(mem.sent).toEqual([{ type: 'stop' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(mem.killed()).toBe(true);
    mem.exit({ code: null, signal: 'SIGKILL' });
    expect(await stopped).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
