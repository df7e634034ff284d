// Every screen opens from the navigation (and by keyboard), renders its data or a clear state (loading, error
// with retry, or "service not running"), never a crash, and is saved as a screenshot artifact.
import { expect, test } from '@playwright/test';
import { useConsole } from './support/console';
import { saveScreen } from './support/screens';

const sd = useConsole();

const SCREENS = [
  { label: 'Chain', id: 'chain' },
  { label: 'Subscriptions', id: 'subscriptions' },
  { label: 'Backfill', id: 'backfill' },
  { label: 'Metrics', id: 'metrics' },
  { label: 'Flags', id: 'flags' },
  { label: 'Settings', id: 'settings' },
] as const;

test('every screen renders its data or a clear state, and is saved as a screenshot', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(sd().consoleUrl);
  await expect(page.getByTestId('connection')).toContainText('live');

  for (const screen of SCREENS) {
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen.label, exact: true }).click();
    const view = page.locator(`[data-screen="${screen.id}"]`);
    await expect(view).toBeVisible();
    // Settled: nothing is still loading.
    await expect(view.locator('.state-loading')).toHaveCount(0, { timeout: 60_000 });
    // A service that has not landed is a clear panel with a retry, not a blank screen.
    for (const panel of await view.locator('.state-unavailable').all()) {
      await expect(panel).toContainText('Service not running');
      await expect(panel.getByRole('button', { name: 'Retry' })).toBeVisible();
    }
    await saveScreen(page, screen.id);
  }
  expect(errors).toEqual([]);
});

test('screens are reachable from the keyboard', async ({ page }) => {
  await page.goto(sd().consoleUrl);
  await expect(page.locator('[data-screen="chain"]')).toBeVisible();
  // Alt+5 is Flags, Alt+6 Settings.
  await page.keyboard.press('Alt+5');
  await expect(page.locator('[data-screen="flags"]')).toBeVisible();
  await expect(page.locator('main')).toBeFocused();
  await page.keyboard.press('Alt+6');
  await expect(page.locator('[data-screen="settings"]')).toBeVisible();
  // Tab from the page start reaches the skip link, then the navigation.
  await page.reload();
  await expect(page.locator('[data-screen="settings"]')).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Chain', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-screen="chain"]')).toBeVisible();
});

test('the token is not needed again after a reload, and the API refuses calls without it', async ({ page }) => {
  const response = await fetch(`${sd().base}/api/flags:list`, { method: 'POST', body: '{}' });
  expect(response.status).toBe(401);
  await page.goto(sd().consoleUrl);
  await page.reload();
  await page.goto(`${sd().base}/#/flags`);
  await expect(page.getByRole('switch', { name: 'smart_subscription_enabled' })).toBeVisible();
});
