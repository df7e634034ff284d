// The core's end in an Electron utility process: the first message on process.parentPort carries the
// MessagePortMain the relay uses. No 'electron' import: the same core entry also runs under plain Node.
import type { CorePort } from './serve';
import type { FromCore, ToCore } from './protocol';

/** The parts of Electron's MessagePortMain and ParentPort the core uses (structurally typed, no import). */
interface PortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown; ports: PortLike[] }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
}
interface ParentPortLike {
  once(event: 'message', listener: (event: { data: unknown; ports: PortLike[] }) => void): unknown;
}

/** The parent port when this process is an Electron utility process, else null. */
export function utilityParentPort(): ParentPortLike | null {
  // Electron adds process.parentPort only in a utility process; checked by shape, so plain Node gets null.
  const candidate: unknown = Reflect.get(process, 'parentPort');
  return isParentPort(candidate) ? candidate : null;
}

const isParentPort = (value: unknown): value is ParentPortLike =>
  typeof value === 'object' && value !== null && 'once' in value && typeof value.once === 'function';

export function utilityCorePort(parent: ParentPortLike): CorePort {
  const listeners = new Set<(message: ToCore) => void>();
  const queued: ToCore[] = [];
  const outbox: FromCore[] = [];
  let port: PortLike | null = null;
  let gone: (() => void) | null = null;
  parent.once('message', (event) => {
    port = event.ports[0] ?? null;
    if (!port) return;
    port.on('message', (e) => {
      const message = e.data as ToCore;
      if (listeners.size === 0) queued.push(message);
      for (const listener of listeners) listener(message);
    });
    port.on('close', () => gone?.());
    port.start();
    for (const message of outbox.splice(0)) port.postMessage(message);
  });
  return {
    post(message) {
      if (port) port.postMessage(message);
      else outbox.push(message);
    },
    onMessage(listener) {
      listeners.add(listener);
      for (const message of queued.splice(0)) listener(message);
      return () => listeners.delete(listener);
    },
    // postMessage hands the message to the port synchronously; a short turn lets it leave before an exit.
    flush: () => new Promise((resolve) => setTimeout(resolve, 50)),
    onParentGone(listener) {
      gone = listener;
    },
  };
}
