// The relay in Electron: main forks the core as a utilityProcess and hands it one end of a MessageChannelMain; the
// contract travels over that MessagePortMain. Imported by the Electron main process only (it needs 'electron').
import { MessageChannelMain, utilityProcess } from 'electron';
import type { CoreExit, CoreProcess, FromCore, ToCore } from './protocol';

export function forkUtilityCore(entry: string): CoreProcess {
  const child = utilityProcess.fork(entry, [], { serviceName: 'Strikedesk console core', stdio: 'inherit' });
  const { port1, port2 } = new MessageChannelMain();
  child.postMessage({ type: 'connect' }, [port2]);
  port1.start();
  const exitListeners: ((exit: CoreExit) => void)[] = [];
  let exit: CoreExit | null = null;
  child.once('exit', (code) => {
    exit = { code, signal: null };
    port1.close();
    for (const listener of exitListeners) listener(exit);
  });
  return {
    port: {
      post(message: ToCore) {
        if (!exit) port1.postMessage(message);
      },
      onMessage(listener: (message: FromCore) => void) {
        const handler = (event: Electron.MessageEvent) => listener(event.data as FromCore);
        port1.on('message', handler);
        return () => port1.off('message', handler);
      },
    },
    onExit(listener) {
      if (exit) listener(exit);
      else exitListeners.push(listener);
    },
    kill() {
      child.kill();
    },
  };
}
