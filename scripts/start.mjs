#!/usr/bin/env node
// `npm start`: open the Electron window where Electron can run; otherwise run the same console headless and
// print its URL. `--headless` (npm run serve) or STRIKEDESK_HEADLESS=true forces headless.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const forcedHeadless = args.includes('--headless') || /^(1|true|yes|on)$/i.test(process.env.STRIKEDESK_HEADLESS ?? '');

function electronBinary() {
  try {
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(pkgDir, 'path.txt');
    if (!existsSync(pathFile)) return { ok: false, why: 'the Electron binary is not installed (see README: desktop set-up)' };
    const binary = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    if (!existsSync(binary)) return { ok: false, why: 'the Electron binary is missing' };
    if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { ok: false, why: 'no display' };
    return { ok: true, binary };
  } catch {
    return { ok: false, why: 'electron is not installed' };
  }
}

const electron = forcedHeadless ? { ok: false, why: 'headless requested' } : electronBinary();
if (electron.ok) {
  const child = spawn(electron.binary, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
} else {
  if (!forcedHeadless) process.stderr.write(`Running headless: ${electron.why}.\n`);
  const child = spawn(process.execPath, [join(root, 'out/main/headless.js'), ...args], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}
