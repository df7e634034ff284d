// The parent's side of the relay: the console contract (call + push) answered by a core in another process.
// CoreClient has the surface the IPC handlers use of ConsoleApi and PushHub (call -> Result, subscribe), so a
// caller cannot tell it is talking across a process boundary, with three differences it must know about:
//  - a call never hangs: it answers UNAVAILABLE when the core does not answer in time or exits first;
//  - the core's exit is reported (onExit), expected (after stop()) or not;
//  - stop() is ordered: the core is asked to stop its services and the promise settles when the process is gone.
import type { PushEvent } from '../../shared/api';
import { fail, type Result } from '../../shared/result';
import { describeExit, type CoreExit, type CoreProcess, type CoreReady, type FromCore, type StartRequest } from './protocol';

export interface CoreClientOptions {
  /** A call answers UNAVAILABLE after this long without an answer (default 120 s: a backfill plan can be slow). */
  callTimeoutMs?: number;
  /** After a stop request, the core is killed when it has not exited within this long (default 15 s). */
  stopTimeoutMs?: number;
}

/** Start-up failed: the core said why (failed) or exited first. exitCode is what the parent should exit with. */
export class CoreStartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CoreStartError';
  }
}

interface Pending {
  channel: string;
  resolve: (result: Result<unknown>) => void;
  timer: NodeJS.Timeout;
}

export class CoreClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pushListeners = new Set<(event: PushEvent) => void>();
  private readonly exitListeners = new Set<(exit: CoreExit, expected: boolean) => void>();
  private exit: CoreExit | null = null;
  private stopping = false;
  private wasReady = false;
  private readonly exited: Promise<CoreExit>;
  private readonly callTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private startWaiter: { resolve: (ready: CoreReady) => void; reject: (err: Error) => void } | null = null;

  constructor(
    private readonly core: CoreProcess,
    options: CoreClientOptions = {},
  ) {
    this.callTimeoutMs = options.callTimeoutMs ?? 120_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
    core.port.onMessage((message) => this.receive(message));
    this.exited = new Promise((resolve) => {
      core.onExit((exit) => {
        if (this.exit) return;
        this.exit = exit;
        this.failPending(exit);
        const starting = this.startWaiter;
        this.startWaiter = null;
        // Before ready, start()'s rejection is the report (with the core's exit status); onExit is for a running core.
        if (starting) starting.reject(new CoreStartError(`the console core ended before it was ready (${describeExit(exit)})`, exit.code || 1));
        if (this.wasReady) for (const listener of this.exitListeners) listener(exit, this.stopping);
        resolve(exit);
      });
    });
  }

  /** Starts the console core; resolves once every service listens. Rejects with CoreStartError. */
  start(request: StartRequest): Promise<CoreReady> {
    if (this.exit) return Promise.reject(new CoreStartError(`the console core is not running (${describeExit(this.exit)})`, 1));
    return new Promise((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.core.port.post({ type: 'start', start: request });
    });
  }

  /** One contract call. Never throws: errors come back as values, as from ConsoleApi.call. */
  call(channel: string, request: unknown, ctx: { actor: string }): Promise<Result<unknown>> {
    if (this.exit) return Promise.resolve(fail('UNAVAILABLE', `${channel}: the console core is not running (${describeExit(this.exit)})`));
    if (this.stopping) return Promise.resolve(fail('UNAVAILABLE', `${channel}: the console is shutting down`));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(fail('UNAVAILABLE', `${channel}: the console core did not answer within ${Math.round(this.callTimeoutMs / 1000)} s`));
      }, this.callTimeoutMs);
      this.pending.set(id, { channel, resolve, timer });
      this.core.port.post({ type: 'call', id, channel, request, actor: ctx.actor });
    });
  }

  /** Pushed events of the core's PushHub (already coalesced there). */
  subscribe(listener: (event: PushEvent) => void): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  /**
   * Called once when a core that became ready ends; expected is true when stop() asked for it. An exit during
   * start-up rejects start() instead (with the core's exit status).
   */
  onExit(listener: (exit: CoreExit, expected: boolean) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** Asks the core to stop its services, waits for its exit (killing it after stopTimeoutMs); idempotent. */
  async stop(): Promise<CoreExit> {
    if (this.exit) return this.exit;
    this.stopping = true;
    this.core.port.post({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.stopTimeoutMs);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') this.core.kill();
    return this.exited;
  }

  private receive(message: FromCore): void {
    switch (message.type) {
      case 'result': {
        const pending = this.pending.get(message.id);
        if (!pending) return; // answered after its timeout
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        pending.resolve(message.result);
        return;
      }
      case 'push':
        for (const listener of this.pushListeners) listener(message.event);
        return;
      case 'ready':
        this.wasReady = true;
        this.startWaiter?.resolve(message.ready);
        this.startWaiter = null;
        return;
      case 'failed':
        this.startWaiter?.reject(new CoreStartError(message.message, message.exitCode));
        this.startWaiter = null;
        return;
      case 'stopped':
        return;
    }
  }

  private failPending(exit: CoreExit): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.resolve(fail('UNAVAILABLE', `${pending.channel}: the console core exited (${describeExit(exit)}) before answering`));
      this.pending.delete(id);
    }
  }
}
