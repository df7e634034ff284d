// Thin preload: builds window.strikedesk with one function per contract channel (an allow-list, never a generic
// invoke) and a push subscription. Nothing else crosses the bridge.
import { contextBridge, ipcRenderer } from 'electron';
import type { PushEvent } from '../shared/api';
import { CHANNEL_NAMES as CHANNELS, PUSH_CHANNEL } from '../shared/channels';

const bridge: Record<string, unknown> = {};
for (const channel of CHANNELS) {
  bridge[channel] = (request: unknown) => ipcRenderer.invoke(channel, request);
}
bridge.onPush = (listener: (event: PushEvent) => void) => {
  const handler = (_event: unknown, payload: PushEvent) => listener(payload);
  ipcRenderer.on(PUSH_CHANNEL, handler);
  return () => ipcRenderer.removeListener(PUSH_CHANNEL, handler);
};

contextBridge.exposeInMainWorld('strikedesk', Object.freeze(bridge));
