// Screenshots of each screen as test artifacts (test-results/screens/<name>.png), outside Playwright's outputDir
// so a later run does not wipe them and CI can publish them.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';

export const SCREENS_DIR = resolve('test-results', 'screens');

export async function saveScreen(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(SCREENS_DIR, { recursive: true });
  const path = resolve(SCREENS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: 'disabled' });
  return path;
}

/** Opens a screen by its nav link, as a user would, and waits until it is on screen. */
export async function openScreen(page: Page, label: string, screenId: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: label, exact: true }).click();
  await page.locator(`[data-screen="${screenId}"]`).waitFor();
}

/** Elements under `selector` that scroll on their own (a nested scroll box with content taller than it). */
export async function nestedScrollBoxes(page: Page, selector: string): Promise<number> {
  return page.evaluate<number>(`[...document.querySelectorAll(${JSON.stringify(`${selector} *`)})].filter((el) => {
    const style = getComputedStyle(el);
    return /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
  }).length`);
}
