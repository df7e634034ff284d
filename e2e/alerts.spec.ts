// User story: the ticker service starts answering 429 to everything. A trader opens a chain nobody subscribed; the
// index cannot be subscribed, so there is no ATM, and the trader centres the chain on a strike by hand. Every leg's
// subscription fails honestly (the subscription list is rate limited), and the operator sees the alert banner, on
// every screen, in view under the sticky head whatever the scroll, with the rule and its message.
import { expect, test } from '@playwright/test';
import { useConsole } from './support/console';
import { devtickerUrl, setFaults } from './support/devticker';
import { openScreen, saveScreen } from './support/screens';

const sd = useConsole();

test('a 429 storm raises the alert banner', async ({ page }) => {
  test.setTimeout(120_000);
  const ticker = await devtickerUrl(sd());
  await setFaults(ticker, { rateLimitStorm: true });
  try {
    await page.goto(sd().consoleUrl);
    await expect(page.getByTestId('alert-banner')).toHaveCount(0);
    const chain = page.locator('[data-screen="chain"]');
    await expect(chain).toBeVisible();

    // No price: the chain is laid out around its middle listed strike, with nothing live.
    const panel = chain.locator('.expiry-panel').first();
    const strikes = panel.locator('.ladder-row[data-strike] button.strike');
    await expect(strikes.first()).toBeVisible({ timeout: 30_000 });
    await strikes.nth(3).click();
    await page.getByRole('button', { name: 'Centre the chain here' }).click();
    await expect(page.getByText(/Centred on/)).toBeVisible();

    // Each leg is reported failed (not pending, not silently empty), with a retry time.
    await expect(panel.locator('[data-state="failed"]').first()).toBeVisible({ timeout: 30_000 });
    const live = await panel.locator('[data-state="live"]').count();
    expect(live).toBe(0);

    const banner = page.getByTestId('alert-banner');
    await expect(banner).toBeVisible({ timeout: 60_000 });
    await expect(banner).toContainText(/auto_subscribe_failures|Auto-subscribe failures/);
    await saveScreen(page, 'alert-banner', { fullPage: false });

    // On every screen, not just the one that caused it, and in view: navigation does not scroll it away and it
    // sticks while the page scrolls.
    for (const [label, id] of [
      ['Subscriptions', 'subscriptions'],
      ['Backfill', 'backfill'],
      ['Flags', 'flags'],
      ['Settings', 'settings'],
      ['Chain', 'chain'],
      ['Metrics', 'metrics'],
    ] as const) {
      await openScreen(page, label, id);
      await expect(banner, `banner on ${id}`).toBeInViewport();
      await page.mouse.wheel(0, 800);
      await expect(banner, `banner on ${id} after scrolling`).toBeInViewport();
    }
    await expect(page.getByTestId('alerts-table')).toContainText('firing');
    await saveScreen(page, 'metrics');
  } finally {
    await setFaults(ticker, { rateLimitStorm: false });
  }
});
