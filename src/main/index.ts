// Electron shell only: window, IPC wiring, lifecycle. Every service is plain Node, started by the composition root.
import { app, BrowserWindow, Notification, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY } from './http/server';
import { defaultLocalActor, startApp, type RunningApp } from './app/app';
import { ConfigError, loadConfig } from './config/load';
import { rootLogger } from './log';
import { wireIpc } from './ipc';

let running: RunningApp | null = null;
let quitting = false;

async function createWindow(): Promise<void> {
  let config;
  try {
    config = loadConfig({ argv: process.argv.slice(1), defaultHome: app.getPath('userData') });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      app.exit(2);
      return;
    }
    throw err;
  }
  rootLogger().level = config.logLevel;
  running = await startApp(config, { staticDir: join(__dirname, '../renderer'), localActor: defaultLocalActor() });
  process.stdout.write(`Strikedesk console: ${running.consoleUrl}\n`);

  const rendererIndex = join(__dirname, '../renderer/index.html');
  const rendererUrl = pathToFileURL(rendererIndex).toString();
  const isTrustedUrl = (url: string) => url.split('#')[0].split('?')[0] === rendererUrl;

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, permission, allow) => allow(permission === 'notifications'));

  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1280,
    minHeight: 800,
    backgroundColor: '#0f1115',
    title: 'Strikedesk',
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  // No navigation away from the renderer and no new windows; external links open in the OS browser.
  window.webContents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });

  const unwire = wireIpc(window, running.context.api, running.context.push, defaultLocalActor(), isTrustedUrl);
  const unsubscribeAlerts = running.context.push.subscribe((event) => {
    if (event.topic === 'alerts:changed' && event.message && Notification.isSupported()) {
      new Notification({ title: 'Strikedesk alert', body: event.message }).show();
    }
  });
  window.on('closed', () => {
    unwire();
    unsubscribeAlerts();
  });
  await window.loadFile(rendererIndex);
}

async function shutdown(): Promise<void> {
  if (running) {
    const current = running;
    running = null;
    await current.stop();
  }
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.whenReady().then(createWindow).catch((err: unknown) => {
  process.stderr.write(`Strikedesk failed to start: ${(err as Error).message}\n`);
  app.exit(1);
});

app.on('window-all-closed', () => app.quit());
app.on('before-quit', (event) => {
  if (quitting || !running) return;
  event.preventDefault();
  quitting = true;
  shutdown().finally(() => app.quit());
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
