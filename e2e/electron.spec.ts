// The same console in its Electron window, driven through Playwright's _electron, where the Electron binary exists:
// the window's calls go main -> utility process (the console core) through the relay.
// Here (no binary can be downloaded) it is skipped with the reason printed.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { outDir } from './support/console';

function electronBinary(): { path: string | null; reason: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path, reason: '' };
    return { path: null, reason: `the electron package points at ${String(path)}, which does not exist` };
  } catch (err) {
    return { path: null, reason: `no Electron binary (${(err as Error).message.split('\n')[0]}); see README for the desktop install step` };
  }
}

test('the Electron window runs the console over IPC with a hardened renderer', async () => {
  const binary = electronBinary();
  if (!binary.path) {
    process.stdout.write(`electron.spec.ts skipped: ${binary.reason}\n`);
    test.skip(true, binary.reason);
    return;
  }
  const home = await mkdtemp(join(tmpdir(), 'strikedesk-electron-'));
  const app = await electron.launch({
    executablePath: binary.path,
    args: [join(outDir(), 'main', 'index.js'), '--port', '0'],
    env: {
      ...process.env,
      STRIKEDESK_HOME: home,
      STRIKEDESK_DEVTICKER_PORT: '0',
      STRIKEDESK_DEVTICKER_CLOCK: 'always-open',
      STRIKEDESK_LOG_LEVEL: 'warn',
    } as Record<string, string>,
  });
  try {
    const win = await app.firstWindow();
    await expect(win.getByRole('navigation', { name: 'Screens' })).toBeVisible();
    // IPC transport, and no Node in the renderer.
    await expect(win.getByText('desktop', { exact: true })).toBeVisible();
    expect(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await win.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await win.evaluate(() => Object.keys((globalThis as unknown as { strikedesk: object }).strikedesk).includes('flags:set'))).toBe(true);
    // The console core runs in its own utility process; main only relays the contract.
    const processes = await app.evaluate(({ app: electronApp }) => electronApp.getAppMetrics().map((m) => ({ type: m.type, name: m.name ?? '' })));
    expect(processes).toContainEqual({ type: 'Utility', name: 'Strikedesk console core' });

    await win.getByRole('link', { name: 'Flags', exact: true }).click();
    await win.getByRole('switch', { name: 'backfill_immediate_on_subscribe' }).click();
    const dialog = win.getByRole('dialog', { name: 'Change backfill_immediate_on_subscribe' });
    await dialog.getByRole('textbox').fill('electron e2e');
    await dialog.getByRole('button', { name: 'Confirm change' }).click();
    await expect(win.getByTestId('flag-audit')).toContainText('electron e2e');
    // The OS user acts in Electron, not an API token.
    await expect(win.getByTestId('flag-audit')).toContainText('os:');
  } finally {
    await app.close();
    await rm(home, { recursive: true, force: true });
  }
});
