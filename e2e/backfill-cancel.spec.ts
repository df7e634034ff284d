// User story: an operator cancels a queued backfill job (and stops the running one), each with its own action.
import { expect, test } from '@playwright/test';
import { useConsole, valueOf } from './support/console';
import { devtickerUrl, setFaults } from './support/devticker';
import { openScreen, saveScreen } from './support/screens';

const sd = useConsole();

test('cancel a queued job; stop the running one', async ({ page }) => {
  test.setTimeout(180_000);
  // A slow ticker keeps the first job running, so the ones behind it wait in the queue.
  const ticker = await devtickerUrl(sd());
  await setFaults(ticker, { latencyMs: 3000 });

  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Backfill', 'backfill');
  for (const symbol of ['NIFTY', 'BANKNIFTY', 'FINNIFTY']) {
    await page.getByRole('button', { name: 'A chain' }).click();
    await page.getByRole('combobox', { name: 'Backfill underlying' }).selectOption(symbol);
    await page.getByRole('button', { name: 'Backfill now…' }).click();
    const dialog = page.getByRole('dialog', { name: `Backfill the ${symbol} chain now?` });
    await dialog.getByRole('button', { name: 'Start backfill' }).click({ timeout: 90_000 });
    await expect(dialog).toBeHidden();
  }

  const jobs = page.getByTestId('backfill-jobs');
  const queued = jobs.locator('tbody tr[data-state="queued"]').first();
  await expect(queued).toBeVisible({ timeout: 60_000 });
  const id = Number(await queued.getAttribute('data-job-id'));
  await saveScreen(page, 'backfill-queue');
  await page.getByRole('button', { name: `Cancel queued job ${id}` }).click();
  const cancelled = jobs.locator(`tbody tr[data-job-id="${id}"]`);
  await expect(cancelled).toHaveAttribute('data-state', 'cancelled');
  await expect(cancelled.getByRole('button')).toHaveCount(0);

  // Main agrees.
  const list = valueOf(await sd().call('backfill:jobs', { state: 'all', limit: 50 }), 'backfill:jobs');
  expect(list.find((j) => j.id === id)?.state).toBe('cancelled');

  // Stopping the running job is a separate action.
  const running = jobs.locator('tbody tr[data-state="running"]').first();
  if (await running.count()) {
    const runningId = Number(await running.getAttribute('data-job-id'));
    await page.getByRole('button', { name: `Stop running job ${runningId}` }).click();
    await expect(jobs.locator(`tbody tr[data-job-id="${runningId}"]`)).toHaveAttribute('data-state', /cancelled|done|failed/, { timeout: 90_000 });
  }
  await setFaults(ticker, { latencyMs: 0 });
  await saveScreen(page, 'backfill-cancelled');
});
