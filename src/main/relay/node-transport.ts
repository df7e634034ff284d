// The relay over Node's child_process IPC (the headless console and the relay test): the parent forks the core
// entry; messages use the 'advanced' serialization, the structured clone Electron's MessagePort uses too, so both
// transports carry the same values.
import { fork, type ChildProcess } from 'node:child_process';
import type { CorePort } from './serve';
import type { CoreExit, CoreProcess, FromCore, ToCore } from './protocol';

export interface ForkCoreOptions {
  /** Arguments for node itself (the relay test loads the TypeScript entry through tsx). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default 'inherit': the core's log lines and start-up errors reach the same terminal. */
  stdio?: 'inherit' | 'pipe';
}

export interface ForkedCore extends CoreProcess {
  readonly child: ChildProcess;
}

export function forkCore(entry: string, options: ForkCoreOptions = {}): ForkedCore {
  const stdio = options.stdio ?? 'inherit';
  const child = fork(entry, [], {
    execArgv: options.execArgv ?? [],
    env: options.env ?? process.env,
    serialization: 'advanced',
    stdio: [stdio === 'inherit' ? 'inherit' : 'ignore', stdio, stdio, 'ipc'],
  });
  const exitListeners: ((exit: CoreExit) => void)[] = [];
  let exit: CoreExit | null = null;
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    for (const listener of exitListeners) listener(exit);
  });
  // A failed send (the channel just closed) surfaces as the exit, which the client reports.
  child.on('error', () => undefined);
  return {
    child,
    port: {
      post(message: ToCore) {
        if (child.connected) child.send(message, (err) => void err);
      },
      onMessage(listener: (message: FromCore) => void) {
        const handler = (message: unknown) => listener(message as FromCore);
        child.on('message', handler);
        return () => child.off('message', handler);
      },
    },
    onExit(listener) {
      if (exit) listener(exit);
      else exitListeners.push(listener);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

/** The core's end when it was forked by Node (process.send exists). */
export function nodeCorePort(): CorePort {
  if (!process.send) throw new Error('the console core must be started by its parent (no IPC channel)');
  let lastSend: Promise<void> = Promise.resolve();
  return {
    post(message: FromCore) {
      if (!process.connected || !process.send) return;
      lastSend = new Promise((resolve) => process.send?.(message, undefined, {}, () => resolve()));
    },
    onMessage(listener: (message: ToCore) => void) {
      const handler = (message: unknown) => listener(message as ToCore);
      process.on('message', handler);
      return () => process.off('message', handler);
    },
    // Messages leave in order: the last one sent means all have.
    flush: () => lastSend,
    onParentGone(listener) {
      process.once('disconnect', listener);
    },
  };
}
