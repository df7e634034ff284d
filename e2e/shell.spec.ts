// The shell on every screen: navigation never scrolls the page (the head and each screen's toolbar stay in view),
// axe-core finds no serious or critical violation in either theme, the theme follows the system until toggled,
// the favicon loads, and the top bar states overall health. Screenshots of every screen at 1440x900 and 1024x700
// in both themes land in SHOTS_DIR (default test-results/screens/matrix).
import AxeBuilder from '@axe-core/playwright';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { useConsole } from './support/console';
import { openScreen } from './support/screens';

// axe injects its script into the page; the console's CSP (script-src 'self') would refuse it.
test.use({ bypassCSP: true });

const sd = useConsole();

const SCREENS = [
  { label: 'Chain', id: 'chain' },
  { label: 'Subscriptions', id: 'subscriptions' },
  { label: 'Backfill', id: 'backfill' },
  { label: 'Metrics', id: 'metrics' },
  { label: 'Flags', id: 'flags' },
  { label: 'Settings', id: 'settings' },
] as const;
const SIZES = [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
] as const;
const SHOTS_DIR = resolve(process.env.SHOTS_DIR ?? resolve('test-results', 'screens', 'matrix'));

async function settled(page: Page, id: string) {
  const view = page.locator(`[data-screen="${id}"]`);
  await expect(view).toBeVisible();
  await expect(view.locator('.state-loading')).toHaveCount(0, { timeout: 60_000 });
}

async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(' | ')}`,
    );
}

test('switching screens never scrolls: the head and the screen’s top stay in view', async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.goto(sd().consoleUrl);
  await settled(page, 'chain');
  for (const screen of [...SCREENS.slice(1), SCREENS[0], SCREENS[3], SCREENS[0]]) {
    // Scroll down first, as a user reading a long list would, then switch.
    await page.mouse.wheel(0, 600);
    await openScreen(page, screen.label, screen.id);
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeInViewport();
    const first = page.locator(`[data-screen="${screen.id}"] > *`).first();
    const box = await first.boundingBox();
    const head = await page.getByTestId('app-head').boundingBox();
    expect(box, `${screen.id}: first block`).not.toBeNull();
    // The screen's first block starts right under the sticky head, not hidden beneath it.
    expect(box!.y, `${screen.id}: top of the screen under the head`).toBeGreaterThanOrEqual(head!.y + head!.height - 1);
    await expect(page.locator('main'), `${screen.id}: focus on main`).toBeFocused();
  }
  // The chain's toolbar in particular.
  await expect(page.getByRole('combobox', { name: 'Underlying' })).toBeInViewport();
});

test('every screen, both themes, both sizes: no serious or critical axe violation, and a screenshot', async ({ page }) => {
  test.setTimeout(300_000);
  await mkdir(SHOTS_DIR, { recursive: true });
  const found: string[] = [];
  for (const scheme of ['dark', 'light'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.goto(sd().consoleUrl);
      await expect(page.locator('html')).toHaveAttribute('data-theme', scheme);
      for (const screen of SCREENS) {
        await openScreen(page, screen.label, screen.id);
        await settled(page, screen.id);
        if (screen.id === 'chain') await expect(page.locator('.expiry-panel').first()).toBeVisible({ timeout: 60_000 });
        if (size.width === 1440) for (const v of await seriousViolations(page)) found.push(`${scheme} ${screen.id}: ${v}`);
        await page.screenshot({ path: resolve(SHOTS_DIR, `${screen.id}-${size.width}x${size.height}-${scheme}.png`), fullPage: false, animations: 'disabled' });
        // The whole page too: what sits below the fold (the alerts and threshold changes, the job list) is looked at.
        await page.screenshot({
          path: resolve(SHOTS_DIR, `${screen.id}-${size.width}x${size.height}-${scheme}-full.png`),
          fullPage: true,
          animations: 'disabled',
        });
      }
    }
  }
  expect(found).toEqual([]);
});

test('the theme follows the system until the toggle picks one, and the choice survives a reload', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(sd().consoleUrl);
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveAttribute('data-theme', 'dark');
  const toggle = page.getByTestId('theme-toggle');
  await expect(toggle).toHaveText('Theme: system');
  await toggle.click();
  await expect(toggle).toHaveText('Theme: light');
  await expect(html).toHaveAttribute('data-theme', 'light');
  const background = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
  expect(background).not.toBe('rgb(15, 17, 21)');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await toggle.click();
  await toggle.click();
  await expect(toggle).toHaveText('Theme: system');
  await expect(html).toHaveAttribute('data-theme', 'dark');
});

test('the favicon loads and the top bar states overall health, not just the connection', async ({ page }) => {
  const favicon = await fetch(`${sd().base}/favicon.svg`);
  expect(favicon.status).toBe(200);
  expect(favicon.headers.get('content-type')).toContain('image/svg+xml');
  const misses: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 404) misses.push(r.url());
  });
  await page.goto(sd().consoleUrl);
  await expect(page.locator('link[rel="icon"]')).toHaveAttribute('href', './favicon.svg');
  const status = page.getByTestId('connection');
  await expect(status).toContainText(/live · (healthy|degraded|down)/);
  // Whatever it says agrees with the health report.
  const health = await sd().call('health:get', {});
  if (health.ok && health.value.status === 'degraded') await expect(status).not.toContainText('healthy');
  expect(misses).toEqual([]);
});

test('metrics charts read IST on a 24-hour clock on hover, and the time-to-data card says what it measures', async ({ page }) => {
  // The chain screen's auto-subscribe gives the success-rate chart its points.
  await page.goto(sd().consoleUrl);
  await expect(page.locator('[data-screen="chain"] .expiry-panel').first()).toBeVisible({ timeout: 60_000 });
  await openScreen(page, 'Metrics', 'metrics');
  const chart = page.getByTestId('chart-success');
  await expect(chart).toBeVisible({ timeout: 60_000 });
  const over = chart.locator('.u-over');
  const box = await over.boundingBox();
  const legendTime = chart.locator('.u-legend .u-series').first().locator('.u-value');
  // Sweep across the plot until the cursor sits on a point; the legend then shows its instant.
  let text = '';
  for (let x = box!.width - 2; x > 0 && !/IST/.test(text); x -= 6) {
    await page.mouse.move(box!.x + x, box!.y + box!.height / 2);
    text = (await legendTime.textContent()) ?? '';
  }
  expect(text).toMatch(/^\d\d [A-Z][a-z]{2}, ([01]\d|2[0-3]):[0-5]\d IST$/);
  await expect(page.getByTestId('ttd-explained')).toContainText('slow_data alert looks only at the last');
});
