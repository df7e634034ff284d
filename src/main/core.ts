// The console core's entry: every service (stores, PGlite, the embedded devticker, tick aggregation, the HTTP
// server) runs here, in its own process, so a busy core never freezes the window's process. Started by the
// window's process only (Electron main as a utilityProcess, the headless entry as a forked child), which sends the
// start request, relays the contract and orders the shutdown; see relay/client.ts.
import { startApp } from './app/app';
import { ConfigError, loadConfig } from './config/load';
import { rootLogger } from './log';
import { nodeCorePort } from './relay/node-transport';
import type { CorePort } from './relay/serve';
import { serveCore } from './relay/serve';
import { utilityCorePort, utilityParentPort } from './relay/utility-port';

const parent = utilityParentPort();
const port: CorePort = parent ? utilityCorePort(parent) : nodeCorePort();

const server = serveCore(port, {
  async start(request) {
    const config = loadConfig({ argv: request.argv, defaultHome: request.defaultHome });
    rootLogger().level = config.logLevel;
    const app = await startApp(config, { staticDir: request.staticDir, front: request.front });
    return {
      url: app.url,
      apiToken: app.apiToken,
      consoleUrl: app.consoleUrl,
      listenUrl: app.listenUrl,
      routes: app.routes,
      api: app.api,
      push: app.push,
      stop: app.stop,
    };
  },
  describeFailure(err) {
    // Printed here, where it happened, in the words the in-process console used; the parent exits with the code.
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return { message: err.message, exitCode: 2 };
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`Strikedesk failed to start: ${message}\n`);
    rootLogger().error({ err }, 'start-up failed');
    return { message: `Strikedesk failed to start: ${message}`, exitCode: 1 };
  },
  exit: (code) => process.exit(code),
  onStopError: (err) => rootLogger().error({ err }, 'stop failed'),
});

// Ctrl+C reaches the whole process group: the parent asks for the stop, in order. A SIGTERM sent to the core
// alone stops it the same way (the parent then reports the exit).
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void server.stop());
