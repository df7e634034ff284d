// Headless entry: the same console without a window (servers, CI, machines where Electron cannot run).
// Prints "Strikedesk console: http://127.0.0.1:8081/?token=..." once everything is listening.
//
// Which process does what: this process only supervises. The console core (relay/ and core.ts) runs in a child
// process started through the same relay Electron uses, so `npm run serve` exercises the relay the window relies
// on. The core serves the console's HTTP port itself (the renderer build, /api/* and its push stream, webhook,
// /metrics, /fo/*): a browser is its own process, so no window shares the core's thread here, and one listener
// keeps the guards (Host allow-list, token, webhook signature) in the process that knows every route.
// Shutdown is ordered: SIGTERM/SIGINT -> this process asks the core to stop -> the core stops its services and
// exits -> this process exits 0. A core that ends on its own is reported and this process exits 1 (or with the
// core's own status when it never became ready: 2 for a configuration error).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreClient, CoreStartError } from './relay/client';
import { forkCore } from './relay/node-transport';
import { describeExit } from './relay/protocol';

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const client = new CoreClient(forkCore(join(here, 'core.js')));
  let stopping = false;
  client.onExit((exit, expected) => {
    if (expected || stopping) return;
    process.stderr.write(`Strikedesk console core stopped unexpectedly (${describeExit(exit)}); the console is shutting down.\n`);
    process.exit(1);
  });
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    client.stop().then(
      (exit) => process.exit(exit.code === 0 ? 0 : 1),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    const ready = await client.start({ argv: process.argv.slice(2), staticDir: join(here, '../renderer') });
    if (!stopping) process.stdout.write(`Strikedesk console: ${ready.consoleUrl}\n`);
  } catch (err) {
    if (stopping) return;
    // The core printed the cause itself; exit with its status (2: configuration, 1: anything else).
    stopping = true;
    process.exit(err instanceof CoreStartError ? err.exitCode : 1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Strikedesk failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
