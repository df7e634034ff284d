// Electron shell only: window, IPC wiring, lifecycle. Every service runs in the console core, a utilityProcess
// (core.ts), so PGlite, SQLite, the devticker and tick aggregation never block this process or the window: main
// forks the core, relays the contract over a MessagePortMain (relay/), shows alert notifications, and orders the
// shutdown (quit -> the core stops its services -> main exits). A core that ends on its own is reported and the
// app quits.
// Hardening (see electron-policy.ts): one instance per user (the data directory's lock stops a second console on the
// same home anyway), the renderer from app://renderer (not file://), every permission denied, external links only to
// an allow-list, no navigation, no new windows, no webviews. The packaged app's fuses are in electron-builder.yml.
import { app, BrowserWindow, net, Notification, protocol, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_SCHEME, denyAllPermissions, isAllowedExternal, isTrustedRendererUrl, RENDERER_ENTRY, rendererFileFor } from './electron-policy';
import { CONTENT_SECURITY_POLICY } from './http/server';
import { wireIpc } from './ipc';
import { localActor } from './relay/actor';
import { CoreClient, CoreStartError } from './relay/client';
import { forkUtilityCore } from './relay/electron-transport';
import { describeExit } from './relay/protocol';

let running: CoreClient | null = null;
let quitting = false;
let mainWindow: BrowserWindow | null = null;

// A second launch focuses the first window instead of starting a second console.
if (!app.requestSingleInstanceLock()) {
  app.exit(0);
}
app.on('second-instance', () => {
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  }
});

// Before ready: app:// is a standard, secure scheme (so 'self' in the CSP means app://renderer and nothing else).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

async function createWindow(): Promise<void> {
  const core = new CoreClient(forkUtilityCore(join(__dirname, 'core.js')));
  running = core;
  core.onExit((exit, expected) => {
    if (expected || quitting) return;
    process.stderr.write(`Strikedesk console core stopped unexpectedly (${describeExit(exit)}); quitting.\n`);
    running = null;
    app.exit(1);
  });
  try {
    // The core loads the configuration (and prints a configuration error itself, exiting 2).
    const ready = await core.start({ argv: process.argv.slice(1), defaultHome: app.getPath('userData'), staticDir: join(__dirname, '../renderer') });
    process.stdout.write(`Strikedesk console: ${ready.consoleUrl}\n`);
  } catch (err) {
    running = null;
    if (!quitting) app.exit(err instanceof CoreStartError ? err.exitCode : 1);
    return;
  }

  const rendererDir = join(__dirname, '../renderer');
  const isTrustedUrl = isTrustedRendererUrl;

  protocol.handle(APP_SCHEME, async (request) => {
    const file = rendererFileFor(request.url, rendererDir);
    if (!file) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  // The renderer needs no permission: every request and check is refused (main shows the alert notifications).
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(denyAllPermissions()));
  session.defaultSession.setPermissionCheckHandler(denyAllPermissions);
  session.defaultSession.setDevicePermissionHandler(denyAllPermissions);

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
    if (isAllowedExternal(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  mainWindow = window;

  const unwire = wireIpc(window, core, localActor(), isTrustedUrl);
  const unsubscribeAlerts = core.subscribe((event) => {
    if (event.topic === 'alerts:changed' && event.message && Notification.isSupported()) {
      new Notification({ title: 'Strikedesk alert', body: event.message }).show();
    }
  });
  window.on('closed', () => {
    unwire();
    unsubscribeAlerts();
  });
  await window.loadURL(RENDERER_ENTRY);
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
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedRendererUrl(url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

app
  .whenReady()
  .then(createWindow)
  .catch((err: unknown) => {
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
