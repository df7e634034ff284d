// Headless entry: the same console without a window (servers, CI, machines where Electron cannot run).
// Prints "Strikedesk console: http://127.0.0.1:8081/?token=..." once everything is listening.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp } from './app/app';
import { ConfigError, loadConfig } from './config/load';
import { rootLogger } from './log';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ argv: process.argv.slice(2) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  rootLogger().level = config.logLevel;
  const here = dirname(fileURLToPath(import.meta.url));
  const app = await startApp(config, { staticDir: join(here, '../renderer') });
  process.stdout.write(`Strikedesk console: ${app.consoleUrl}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    rootLogger().info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Strikedesk failed to start: ${message}\n`);
  rootLogger().error({ err }, 'start-up failed');
  process.exit(1);
});
