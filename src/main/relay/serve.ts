// The core's side of the relay: starts the console core when the parent asks, answers contract calls through its
// ConsoleApi, forwards its PushHub's events, and stops its services when the parent asks (or is gone).
import type { PushEvent } from '../../shared/api';
import { fail, type Result } from '../../shared/result';
import type { CoreReady, FromCore, RelayPort, StartRequest, ToCore } from './protocol';

/** The core's end of the port, plus what a process boundary needs. */
export interface CorePort extends RelayPort<FromCore, ToCore> {
  /** Resolves when every message posted so far has left the process (before exiting). */
  flush(): Promise<void>;
  /** The parent went away without asking (its end of the port closed). */
  onParentGone(listener: () => void): void;
}

/** What serveCore needs of a started console: RunningApp's fields, narrowed. */
export interface ServedCore extends CoreReady {
  api: { call(channel: string, request: unknown, ctx: { actor: string }): Promise<Result<unknown>> };
  push: { subscribe(listener: (event: PushEvent) => void): () => void };
  stop(): Promise<void>;
}

export interface ServeCoreOptions {
  start(request: StartRequest): Promise<ServedCore>;
  /** What the parent is told when start fails, and the exit status (the core prints the message itself). */
  describeFailure(err: unknown): { message: string; exitCode: number };
  /** Ends the process (tests pass a recorder). */
  exit(code: number): void;
  /** Errors while stopping go to the log. */
  onStopError?(err: unknown): void;
}

export interface CoreServer {
  /** Stops the services and exits, as a stop request does (SIGTERM sent to the core alone). */
  stop(): Promise<void>;
}

export function serveCore(port: CorePort, options: ServeCoreOptions): CoreServer {
  let starting: Promise<ServedCore | null> | null = null;
  let running: ServedCore | null = null;
  let unsubscribePush: (() => void) | null = null;
  let stopping: Promise<void> | null = null;
  let parentGone = false;

  const post = (message: FromCore) => {
    if (parentGone) return;
    try {
      port.post(message);
    } catch {
      // The channel closed under us: the parent is gone, onParentGone stops the core.
    }
  };

  const start = (request: StartRequest) => {
    // One start per process, and none once a stop was asked for (the process is on its way out: a start now would
    // open the stores and take the home's lock under an exit).
    if (starting || stopping) return;
    starting = options.start(request).then(
      (core) => {
        running = core;
        if (stopping) return core;
        unsubscribePush = core.push.subscribe((event) => post({ type: 'push', event }));
        post({ type: 'ready', ready: { url: core.url, apiToken: core.apiToken, consoleUrl: core.consoleUrl, listenUrl: core.listenUrl, routes: core.routes } });
        return core;
      },
      async (err: unknown) => {
        const failure = options.describeFailure(err);
        post({ type: 'failed', message: failure.message, exitCode: failure.exitCode });
        await port.flush().catch(() => undefined);
        options.exit(failure.exitCode);
        return null;
      },
    );
  };

  const call = (id: number, channel: string, request: unknown, actor: string) => {
    if (!running || stopping) {
      post({ type: 'result', id, result: fail('UNAVAILABLE', `${channel}: the console core is ${stopping ? 'stopping' : 'still starting'}`) });
      return;
    }
    running.api.call(channel, request, { actor }).then(
      (result) => post({ type: 'result', id, result }),
      // ConsoleApi.call turns every error into a value; this is the net under it.
      () => post({ type: 'result', id, result: fail('INTERNAL', `${channel} failed: internal error (see the console log)`) }),
    );
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      unsubscribePush?.();
      // A stop during start-up waits for the start to finish, then stops what started.
      const core = running ?? (starting ? await starting : null);
      if (core) {
        try {
          await core.stop();
        } catch (err) {
          options.onStopError?.(err);
        }
      }
      post({ type: 'stopped' });
      await port.flush().catch(() => undefined);
      options.exit(0);
    })();
    return stopping;
  };

  port.onMessage((message) => {
    switch (message.type) {
      case 'start':
        start(message.start);
        return;
      case 'call':
        call(message.id, message.channel, message.request, message.actor);
        return;
      case 'stop':
        void stop();
        return;
    }
  });
  port.onParentGone(() => {
    parentGone = true;
    void stop();
  });
  return { stop };
}
