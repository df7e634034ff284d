// The only place main touches ipcMain: one handler per contract channel (no generic invoke), each checking that
// the sender is our own window showing our own renderer.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { CHANNELS, PUSH_CHANNEL } from '../shared/api';
import type { ConsoleApi } from './api/console-api';
import type { PushHub } from './api/push';
import { fail } from '../shared/result';

export function wireIpc(window: BrowserWindow, api: ConsoleApi, push: PushHub, actor: string, isTrustedUrl: (url: string) => boolean): () => void {
  const trusted = (event: IpcMainInvokeEvent) =>
    event.sender.id === window.webContents.id && !!event.senderFrame && isTrustedUrl(event.senderFrame.url);
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event, request: unknown) => {
      if (!trusted(event)) return fail('UNAUTHORIZED', 'untrusted sender');
      return api.call(channel, request, { actor });
    });
  }
  const unsubscribe = push.subscribe((pushEvent) => {
    if (!window.isDestroyed()) window.webContents.send(PUSH_CHANNEL, pushEvent);
  });
  return () => {
    unsubscribe();
    for (const channel of CHANNELS) ipcMain.removeHandler(channel);
  };
}
