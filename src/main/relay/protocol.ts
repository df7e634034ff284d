// The relay's wire: what the window-side process (Electron main, or the headless parent) and the console core (a
// utility process or a forked child) say to each other. One message port carries the whole console contract:
// calls with their Result, pushed events, and the core's life cycle (start, ready, stop). Every message is plain
// data (structured clone on both transports), so an ApiError crosses with its code, message, field and details.
import type { PushEvent } from '../../shared/api';
import type { Result } from '../../shared/result';

/** What the parent tells the core to start with: the same inputs the console's entry points had in-process. */
export interface StartRequest {
  /** Command-line arguments for loadConfig (flags like --port, --home). */
  argv: string[];
  /** Home when neither --home, STRIKEDESK_HOME nor the config file names one (Electron: the userData folder). */
  defaultHome?: string;
  /** The renderer build the core's HTTP server serves to a browser (unset behind a front, which serves it). */
  staticDir?: string;
  /** Headless: the parent's front owns the console's address (front.ts); the core listens on loopback port 0. */
  front?: { port: number; url: string };
}

/** A route of the core's HTTP server, as the front needs it to know what to forward. */
export interface CoreRoute {
  method: string;
  /** Literal segments and `:name` parameters. */
  path: string;
}

/** What the core reports once every service is listening. */
export interface CoreReady {
  url: string;
  apiToken: string;
  /** The URL a user opens (carries the API token). */
  consoleUrl: string;
  /** Where the core's HTTP server itself listens (the front forwards there). */
  listenUrl: string;
  routes: CoreRoute[];
}

export type ToCore = { type: 'start'; start: StartRequest } | { type: 'call'; id: number; channel: string; request: unknown; actor: string } | { type: 'stop' };

export type FromCore =
  | { type: 'ready'; ready: CoreReady }
  /** Start-up failed; the core has printed why and exits with exitCode (2: configuration, 1: anything else). */
  | { type: 'failed'; message: string; exitCode: number }
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'push'; event: PushEvent }
  /** Every service has stopped; the core exits next. */
  | { type: 'stopped' };

/** One end of a message port: ordered delivery, no reply semantics (the relay numbers its own calls). */
export interface RelayPort<Out, In> {
  post(message: Out): void;
  /** Returns the unsubscribe function. */
  onMessage(listener: (message: In) => void): () => void;
}

/** How the core process ended: an exit code, or the signal that killed it (a utility process reports a code only). */
export interface CoreExit {
  code: number | null;
  signal: string | null;
}

/** The parent's handle on a running core process, whatever the transport. */
export interface CoreProcess {
  readonly port: RelayPort<ToCore, FromCore>;
  onExit(listener: (exit: CoreExit) => void): void;
  /** Ends the core without asking (after a stop request went unanswered). */
  kill(): void;
}

export function describeExit(exit: CoreExit): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code ?? 'unknown'}`;
}
