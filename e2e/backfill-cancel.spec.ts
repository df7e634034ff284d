// User story: an operator cancels a queued backfill job (and stops the running one), each with its own action, then
// resumes the cancelled one over the same window; the "queued" notice goes once its job has ended; manual and
// automatic jobs can be told apart and each shows its start, end and duration.
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
  // A cancelled job's one action is Resume.
  await expect(cancelled.getByRole('button')).toHaveCount(1);
  await expect(cancelled.getByRole('button', { name: `Resume cancelled job ${id}` })).toBeVisible();
  await expect(cancelled).toHaveAttribute('data-trigger', 'manual');

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

  // Resume: the same scope planned again over the same window; a new manual job starts with the reason given.
  const before = valueOf(await sd().call('backfill:jobs', { state: 'all', limit: 50 }), 'backfill:jobs');
  const original = before.find((j) => j.id === id)!;
  await page.getByRole('button', { name: `Resume cancelled job ${id}` }).click();
  const dialog = page.getByRole('dialog', { name: new RegExp(`Resume job #${id}`) });
  await expect(dialog.getByTestId('backfill-plan')).toBeVisible({ timeout: 90_000 });
  const start = dialog.getByRole('button', { name: 'Start backfill' });
  if (await dialog.getByTestId('plan-nothing').count()) {
    // Everything was filled meanwhile: no Start on a zero-work plan.
    await expect(start).toHaveCount(0);
    await dialog.getByRole('button', { name: 'Close' }).click();
  } else {
    await start.click();
    await expect(dialog).toBeHidden();
    await expect
      .poll(
        async () =>
          valueOf(await sd().call('backfill:jobs', { state: 'all', limit: 50 }), 'backfill:jobs').filter((j) => j.id > id && j.label === original.label).length,
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);
  }

  // Filter by who started a job: everything here was started by the operator.
  await page.getByRole('combobox', { name: 'Filter jobs by who started them' }).selectOption('automatic');
  await expect(jobs.locator('tbody tr[data-trigger="manual"]')).toHaveCount(0);
  await page.getByRole('combobox', { name: 'Filter jobs by who started them' }).selectOption('manual');
  await expect(jobs.locator('tbody tr[data-trigger="manual"]').first()).toBeVisible();

  // Once no job is queued or running, the "queued" notice is gone and every finished job shows its times.
  await expect
    .poll(
      async () =>
        valueOf(await sd().call('backfill:jobs', { state: 'all', limit: 50 }), 'backfill:jobs').filter((j) => j.state === 'queued' || j.state === 'running')
          .length,
      { timeout: 150_000 },
    )
    .toBe(0);
  await expect(page.getByTestId('backfill-notice')).toHaveCount(0);
  const done = jobs.locator('tbody tr[data-state="done"]').first();
  if (await done.count()) await expect(done.getByTestId('job-times')).toContainText(/\d\d:\d\d:\d\d · \d\d:\d\d:\d\d/);
  await expect(jobs.locator('tbody tr[data-state="done"] [data-testid="job-error"]')).toHaveCount(0);
});
