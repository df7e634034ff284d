// User story: a trader opens a NIFTY chain nobody has subscribed and watches it fill, nearest ATM first; then reads
// it (ATM, OI bars, PCR / max pain / ATM IV footer, IV smile), recentres on a strike and switches to greeks.
import { expect, test } from '@playwright/test';
import { useConsole, valueOf } from './support/console';
import { saveScreen } from './support/screens';

const sd = useConsole();

test('an unsubscribed NIFTY chain fills in as data arrives', async ({ page }) => {
  test.setTimeout(240_000);
  // Nobody has subscribed anything yet.
  const before = valueOf(await sd().call('subscriptions:list', { state: 'all', search: 'NIFTY' }), 'subscriptions:list');
  expect(before.filter((s) => s.state === 'active')).toEqual([]);

  // Record every text the fill strip shows, to prove it went through "subscribing N strikes, M live".
  await page.addInitScript({
    content: `
      window.__fill = [];
      new MutationObserver(() => {
        const text = document.querySelector('[data-testid="fill-status"] .fill-text')?.textContent;
        if (text && window.__fill[window.__fill.length - 1] !== text) window.__fill.push(text);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    `,
  });
  await page.goto(sd().consoleUrl);
  const chain = page.locator('[data-screen="chain"]');
  await expect(chain).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Underlying' })).toHaveValue('NIFTY');

  const strip = page.getByTestId('fill-status');
  await expect(strip).toBeVisible({ timeout: 60_000 });
  await saveScreen(page, 'chain-filling');

  // Filled: every strike shown has its bars, pushed from main (no reload, no polling loop in the page).
  await expect
    .poll(async () => {
      const strikes = Number(await strip.getAttribute('data-strikes'));
      const live = Number(await strip.getAttribute('data-live'));
      return strikes > 0 && live === strikes;
    }, { timeout: 180_000, intervals: [1000] })
    .toBe(true);
  await expect(strip).toHaveAttribute('data-filling', 'false');
  const seen = (await page.evaluate('window.__fill')) as string[];
  expect(seen.some((t) => /^Subscribing \d+ strikes, \d+ live$/.test(t)), `fill texts seen: ${seen.join(' | ')}`).toBe(true);
  await expect(strip.locator('.fill-text')).toHaveText(/^\d+ strikes live$/);

  // Reading the chain: ATM highlighted, OI bars on both sides, the footer's numbers.
  const panel = chain.locator('.expiry-panel').first();
  await expect(panel.locator('.ladder-row.atm')).toHaveCount(1);
  expect(await panel.locator('.bar-cell.call .bar.oi').count()).toBeGreaterThan(0);
  expect(await panel.locator('.bar-cell.put .bar.oi').count()).toBeGreaterThan(0);
  await expect(panel.locator('.expiry-foot')).toContainText(/PCR \(OI\) \d+\.\d\d/);
  await expect(panel.locator('.expiry-foot')).toContainText(/Max pain [\d,]+/);
  await expect(panel.locator('.expiry-foot')).toContainText(/ATM IV \d+\.\d\d%/);
  await expect(page.getByTestId('iv-smile')).toBeVisible();
  await saveScreen(page, 'chain');

  // Click-to-recentre on the strike two rows above ATM, then back.
  const rows = panel.locator('.ladder-row[data-strike]');
  const atmIndex = await rows.evaluateAll((els) => els.findIndex((e) => e.classList.contains('atm')));
  const target = rows.nth(Math.max(0, atmIndex - 2));
  const strike = Number(await target.getAttribute('data-strike'));
  await target.getByRole('button').click();
  await expect(page.getByRole('button', { name: /Centred on .* back to ATM/ })).toBeVisible();
  await expect(panel.locator('.ladder-row.centred')).toHaveAttribute('data-strike', String(strike));

  // Greeks table.
  await page.getByRole('button', { name: 'Greeks' }).click();
  await expect(panel.locator('table.chain-table')).toBeVisible();
  await expect(panel.locator('table.chain-table thead')).toContainText('Δ');
  await saveScreen(page, 'chain-greeks');

  // A second expiry side by side.
  const add = page.getByRole('button', { name: /side by side$/ }).first();
  await add.click();
  await expect(chain.locator('.expiry-panel')).toHaveCount(2, { timeout: 60_000 });
  await saveScreen(page, 'chain-two-expiries');
});
