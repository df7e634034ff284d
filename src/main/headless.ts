// Headless entry: the same console without a window (servers, CI, machines where Electron cannot run).
// Prints "Strikedesk console: http://127.0.0.1:8081/?token=..." once everything is listening.
//
// Which process does what:
//  - this process (the parent) owns the console's address and serves the window's traffic: the renderer build,
//    the console contract (POST /api/<channel>) and the push stream (GET /api/events), relayed to the core
//    (relay/front.ts). Everything else on the port (webhook, /metrics, /fo/*, /internal/health, /openapi.json) is
//    forwarded, unchanged, to the core's own loopback listener, whose guards still apply;
//  - the console core (core.ts: stores, PGlite, the embedded devticker, tick aggregation, every service) runs in a
//    child process started through the same relay Electron uses, so `npm run serve` exercises that relay.
// Shutdown is ordered: SIGTERM/SIGINT -> the front stops taking requests -> the core is asked to stop and stops its
// services -> this process exits 0. A core that ends on its own is reported and this process exits 1; one that
// never became ready exits with the core's status (2 for a configuration error, which the core prints).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load';
import { rootLogger } from './log';
import { CoreClient, CoreStartError } from './relay/client';
import { localActor } from './relay/actor';
import { startFront, type RunningFront } from './relay/front';
import { forkCore } from './relay/node-transport';
import { describeExit } from './relay/protocol';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let config;
  try {
    // The core reads the same settings again; read here for the address this process listens on.
    config = loadConfig({ argv });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  rootLogger().level = config.logLevel;
  const log = rootLogger().child({ scope: 'front' });
  const here = dirname(fileURLToPath(import.meta.url));
  const client = new CoreClient(forkCore(join(here, 'core.js')));
  let front: RunningFront | null = null;
  let stopping = false;
  client.onExit((exit, expected) => {
    if (expected || stopping) return;
    process.stderr.write(`Strikedesk console core stopped unexpectedly (${describeExit(exit)}); the console is shutting down.\n`);
    void (front?.close() ?? Promise.resolve()).finally(() => process.exit(1));
  });
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    (async () => {
      await front?.close();
      return client.stop();
    })().then(
      (exit) => process.exit(exit.code === 0 ? 0 : 1),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    front = await startFront({
      host: config.host,
      port: config.port,
      staticDir: join(here, '../renderer'),
      core: client,
      // Who acts over HTTP: the console token's holder (this OS user) or a named operator token's name.
      apiTokenName: localActor(),
      namedTokens: config.apiTokens,
      onError: (err, what) => log.warn({ err: err instanceof Error ? err.message : String(err) }, `front: ${what} failed`),
    });
  } catch (err) {
    process.stderr.write(`Strikedesk failed to start: ${(err as Error).message}\n`);
    await client.stop();
    process.exit(1);
  }

  try {
    const ready = await client.start({ argv, front: { port: front.port, url: front.url } });
    front.attach({ apiToken: ready.apiToken, listenUrl: ready.listenUrl, routes: ready.routes });
    if (!stopping) process.stdout.write(`Strikedesk console: ${ready.consoleUrl}\n`);
  } catch (err) {
    if (stopping) return;
    // The core printed the cause itself; exit with its status (2: configuration, 1: anything else).
    stopping = true;
    await front.close();
    process.exit(err instanceof CoreStartError ? err.exitCode : 1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Strikedesk failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
