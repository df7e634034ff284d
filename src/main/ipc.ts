// The only place main touches ipcMain: one handler per contract channel (no generic invoke), each checking that
// the sender is our own window showing our own renderer. Calls and pushed events are relayed to and from the
// console core in its utility process (relay/client.ts); main itself runs no service.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { CHANNELS, PUSH_CHANNEL } from '../shared/api';
import { fail } from '../shared/result';
import type { ContractEndpoint } from './relay/contract';

export function wireIpc(window: BrowserWindow, core: ContractEndpoint, actor: string, isTrustedUrl: (url: string) => boolean): () => void {
  const trusted = (event: IpcMainInvokeEvent) => event.sender.id === window.webContents.id && !!event.senderFrame && isTrustedUrl(event.senderFrame.url);
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event, request: unknown) => {
      if (!trusted(event)) return fail('UNAUTHORIZED', 'untrusted sender');
      return core.call(channel, request, { actor });
    });
  }
  const unsubscribe = core.subscribe((pushEvent) => {
    if (!window.isDestroyed()) window.webContents.send(PUSH_CHANNEL, pushEvent);
  });
  return () => {
    unsubscribe();
    for (const channel of CHANNELS) ipcMain.removeHandler(channel);
  };
}
