// User story: an operator presses "Backfill now" for a chain, confirms the plan (requests, ETA), sees the job
// finish and the coverage grid turn green.
import { expect, test } from '@playwright/test';
import { useConsole } from './support/console';
import { openScreen, saveScreen } from './support/screens';

const sd = useConsole();

test('backfill a chain now: plan, confirm, job done, coverage green', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Backfill', 'backfill');

  await page.getByRole('button', { name: 'A chain' }).click();
  await page.getByRole('combobox', { name: 'Backfill underlying' }).selectOption('NIFTY');
  await page.getByRole('spinbutton', { name: 'Strikes each side of ATM' }).fill('5');
  await page.getByRole('button', { name: 'Backfill now…' }).click();

  const dialog = page.getByRole('dialog', { name: 'Backfill the NIFTY chain now?' });
  await expect(dialog.getByTestId('backfill-plan')).toBeVisible({ timeout: 60_000 });
  const planned = Number((await dialog.getByTestId('plan-requests').textContent())?.replace(/,/g, ''));
  expect(planned).toBeGreaterThan(0);
  await expect(dialog).toContainText('Estimated time');
  await saveScreen(page, 'backfill-plan', { fullPage: false });
  await dialog.getByRole('button', { name: 'Start backfill' }).click();
  await expect(dialog).toBeHidden();

  const job = page.getByTestId('backfill-jobs').locator('tbody tr').first();
  await expect(job).toContainText('NIFTY');
  await expect(job).toHaveAttribute('data-state', /queued|running|done/);
  await expect(job).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  await expect(job.getByRole('progressbar')).toHaveAttribute('aria-valuenow', String(planned));

  // The coverage grid of the same strikes turns green: nothing missing or failed, something filled.
  await page.getByRole('combobox', { name: 'Coverage strikes each side' }).selectOption('5');
  const grid = page.getByTestId('coverage-grid');
  await expect(grid).toBeVisible({ timeout: 60_000 });
  await expect(grid).toHaveAttribute('data-missing', '0', { timeout: 60_000 });
  await expect(grid).toHaveAttribute('data-failed', '0');
  expect(Number(await grid.getAttribute('data-filled'))).toBeGreaterThan(0);
  await saveScreen(page, 'backfill');
});
