// User story: the ticker service starts answering 429 to everything; the operator sees the alert banner, on every
// screen, with the rule and its message.
import { expect, test } from '@playwright/test';
import { useConsole } from './support/console';
import { devtickerUrl, setFaults } from './support/devticker';
import { openScreen, saveScreen } from './support/screens';

const sd = useConsole();

test('a 429 storm raises the alert banner', async ({ page }) => {
  test.setTimeout(240_000);
  const ticker = await devtickerUrl(sd());
  await setFaults(ticker, { rateLimitStorm: true });

  await page.goto(sd().consoleUrl);
  await expect(page.getByTestId('alert-banner')).toHaveCount(0);
  // Asking for a chain nobody subscribed makes the console try to subscribe it: every attempt now fails.
  await expect(page.locator('[data-screen="chain"]')).toBeVisible();

  const banner = page.getByTestId('alert-banner');
  await expect(banner).toBeVisible({ timeout: 180_000 });
  await expect(banner).toContainText(/auto_subscribe_failures|excessive_subscription_calls|slow_data/);
  await saveScreen(page, 'alert-banner', { fullPage: false });

  // On every screen, not just the one that caused it.
  await openScreen(page, 'Flags', 'flags');
  await expect(banner).toBeVisible();
  await openScreen(page, 'Metrics', 'metrics');
  await expect(banner).toBeVisible();
  await expect(page.getByTestId('alerts-table')).toContainText('firing');
  await saveScreen(page, 'metrics');

  await setFaults(ticker, { rateLimitStorm: false });
});
