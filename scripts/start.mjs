#!/usr/bin/env node
// `npm start`: open the Electron window where Electron can run; otherwise run the same console headless and
// print its URL. `--headless` (npm run serve) or STRIKEDESK_HEADLESS=true forces headless.
// Electron 45 has no install script: its binary is fetched on first use. On a machine with a display this wrapper
// fetches it once (unless ELECTRON_SKIP_BINARY_DOWNLOAD=1); where that fails it runs headless and says why.
// The exit status is the child's, and 128 + the signal number when the child was killed by a signal (as a shell
// reports it), so a supervisor can tell a crash from a clean stop.
// Either child runs the console core in a process of its own (Electron: a utilityProcess; headless: a forked child,
// see src/main/headless.ts); signals forwarded here reach the child, which stops the core first, then exits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const forcedHeadless = args.includes('--headless') || /^(1|true|yes|on)$/i.test(process.env.STRIKEDESK_HEADLESS ?? '');

function electronBinary() {
  try {
    if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { ok: false, why: 'no display' };
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(pkgDir, 'path.txt');
    if (!existsSync(pathFile) && !/^(1|true)$/i.test(process.env.ELECTRON_SKIP_BINARY_DOWNLOAD ?? '')) {
      process.stderr.write('Fetching the Electron binary (first run)...\n');
      spawnSync(process.execPath, [join(pkgDir, 'install.js')], { stdio: 'inherit' });
    }
    if (!existsSync(pathFile)) return { ok: false, why: 'the Electron binary is not installed (see README: desktop set-up)' };
    const binary = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    if (!existsSync(binary)) return { ok: false, why: 'the Electron binary is missing' };
    return { ok: true, binary };
  } catch {
    return { ok: false, why: 'electron is not installed' };
  }
}

/** The status a shell would report: the exit code, or 128 + n after signal n. */
function exitStatus(code, signal) {
  if (code !== null && code !== undefined) return code;
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}

function run(command, commandArgs) {
  const child = spawn(command, commandArgs, { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(exitStatus(code, signal)));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
}

const electron = forcedHeadless ? { ok: false, why: 'headless requested' } : electronBinary();
if (electron.ok) {
  run(electron.binary, [root, ...args]);
} else {
  if (!forcedHeadless) process.stderr.write(`Running headless: ${electron.why}.\n`);
  run(process.execPath, [join(root, 'out/main/headless.js'), ...args]);
}
