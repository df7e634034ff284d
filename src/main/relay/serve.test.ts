// The core's side of the relay on an in-memory port: what it accepts from the parent, in which order.
import { describe, expect, it } from 'vitest';
import { settle } from '../../testing/clock';
import type { FromCore, StartRequest, ToCore } from './protocol';
import { serveCore, type CorePort, type ServedCore } from './serve';

function memoryPort() {
  const sent: FromCore[] = [];
  let listener: ((message: ToCore) => void) | null = null;
  const port: CorePort = {
    post: (message) => void sent.push(message),
    onMessage: (l) => {
      listener = l;
      return () => (listener = null);
    },
    flush: async () => undefined,
    onParentGone: () => undefined,
  };
  return { port, sent, say: (message: ToCore) => listener?.(message) };
}

function fakeCore(stops: string[]): ServedCore {
  return {
    url: 'http://127.0.0.1:1',
    apiToken: 't',
    consoleUrl: 'http://127.0.0.1:1/?token=t',
    listenUrl: 'http://127.0.0.1:1',
    routes: [],
    api: { call: async () => ({ ok: true, value: null }) },
    push: { subscribe: () => () => undefined },
    stop: async () => void stops.push('stopped'),
  };
}

describe('serveCore', () => {
  const start: StartRequest = { argv: [] };

  it('does not start a core once a stop was asked for', async () => {
    const mem = memoryPort();
    const starts: StartRequest[] = [];
    const exits: number[] = [];
    serveCore(mem.port, {
      start: async (request) => {
        starts.push(request);
        return fakeCore([]);
      },
      describeFailure: () => ({ message: 'x', exitCode: 1 }),
      exit: (code) => void exits.push(code),
    });
    mem.say({ type: 'stop' });
    mem.say({ type: 'start', start });
    await settle();
    expect(starts).toEqual([]);
    expect(exits).toEqual([0]);
    expect(mem.sent).toEqual([{ type: 'stopped' }]);
  });

  it('a stop during start-up stops what started, once, and reports ready to nobody', async () => {
    const mem = memoryPort();
    const stops: string[] = [];
    const exits: number[] = [];
    let release: () => void = () => undefined;
    serveCore(mem.port, {
      start: () => new Promise<ServedCore>((resolve) => (release = () => resolve(fakeCore(stops)))),
      describeFailure: () => ({ message: 'x', exitCode: 1 }),
      exit: (code) => void exits.push(code),
    });
    mem.say({ type: 'start', start });
    mem.say({ type: 'stop' });
    mem.say({ type: 'start', start });
    release();
    await settle();
    expect(stops).toEqual(['stopped']);
    expect(exits).toEqual([0]);
    expect(mem.sent.map((m) => m.type)).toEqual(['stopped']);
  });
});
