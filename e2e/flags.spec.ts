// User story: an operator flips a flag with a reason, sees it in the audit log, reloads, and it is still flipped.
// A flag pinned from the environment is shown as such and cannot be changed.
import { userInfo } from 'node:os';
import { expect, test } from '@playwright/test';
import { useConsole } from './support/console';
import { openScreen, saveScreen } from './support/screens';

// Pinned from the environment, as the plan's phased rollout does it.
const sd = useConsole({ env: { BACKFILL_SUBSCRIPTION_AWARE: 'false' } });

test('toggle a flag with a reason, see the audit entry, reload, still toggled', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));

  await page.goto(sd().consoleUrl);
  // The token leaves the address bar at once (it stays in this tab's sessionStorage).
  await expect(page).not.toHaveURL(/token=/);
  await openScreen(page, 'Flags', 'flags');

  const toggle = page.getByRole('switch', { name: 'smart_subscription_enabled' });
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByText('No flag has been changed yet.')).toBeVisible();
  await saveScreen(page, 'flags');

  await toggle.click();
  const dialog = page.getByRole('dialog', { name: 'Change smart_subscription_enabled' });
  await expect(dialog).toBeVisible();
  const confirm = dialog.getByRole('button', { name: 'Confirm change' });
  // The reason is required.
  await expect(confirm).toBeDisabled();
  await dialog.getByRole('textbox').fill('ok');
  await expect(confirm).toBeDisabled();
  const reason = 'e2e: pause auto-subscribe during the ticker upgrade';
  await dialog.getByRole('textbox').fill(reason);
  await expect(confirm).toBeEnabled();
  await saveScreen(page, 'flags-confirm', { fullPage: false });
  await confirm.click();
  await expect(dialog).toBeHidden();

  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  const audit = page.getByTestId('flag-audit');
  const entry = audit.getByRole('row').filter({ hasText: reason });
  await expect(entry).toContainText('smart_subscription_enabled');
  await expect(entry).toContainText('on → off');
  // Audit names a person: the console's own token belongs to the OS user who started it.
  await expect(entry).toContainText(`os:${userInfo().username}`);

  // A number flag: type, confirm with a reason.
  const wait = page.getByRole('spinbutton', { name: 'smart_subscription_wait_timeout' });
  await wait.fill('15');
  await page.getByTestId('flag-smart_subscription_wait_timeout').getByRole('button', { name: 'Change…' }).click();
  const numberDialog = page.getByRole('dialog', { name: 'Change smart_subscription_wait_timeout' });
  await numberDialog.getByRole('textbox').fill('e2e: slower ticker in staging');
  await numberDialog.getByRole('button', { name: 'Confirm change' }).click();
  await expect(audit.getByRole('row').filter({ hasText: 'slower ticker in staging' })).toContainText('10 s → 15 s');

  await page.reload();
  await expect(page.locator('[data-screen="flags"]')).toBeVisible();
  await expect(page.getByRole('switch', { name: 'smart_subscription_enabled' })).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByRole('spinbutton', { name: 'smart_subscription_wait_timeout' })).toHaveValue('15');
  await expect(page.getByTestId('flag-audit').getByRole('row').filter({ hasText: reason })).toBeVisible();
  await saveScreen(page, 'flags-after-reload');

  // Main agrees: the change is persisted, not just on screen.
  const flags = await sd().call('flags:list', {});
  expect(flags.ok && flags.value.find((f) => f.key === 'smart_subscription_enabled')?.value).toBe(false);
  expect(errors).toEqual([]);
});

test('a pinned flag shows the variable that pins it and cannot be changed', async ({ page }) => {
  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Flags', 'flags');
  const row = page.getByTestId('flag-backfill_subscription_aware');
  await expect(row).toContainText('Pinned by BACKFILL_SUBSCRIPTION_AWARE');
  const toggle = row.getByRole('switch', { name: 'backfill_subscription_aware' });
  await expect(toggle).toBeDisabled();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');

  // Main refuses it too (409 PINNED), and the console shows why rather than crashing.
  const refused = await sd().call('flags:set', { key: 'backfill_subscription_aware', value: true, reason: 'try to unpin' });
  expect(refused.ok).toBe(false);
  if (!refused.ok) expect(refused.error.code).toBe('PINNED');
});

test('without the token the API answers 401 and the console says what to do', async ({ page, browser }) => {
  const context = await browser.newContext();
  const fresh = await context.newPage();
  await fresh.goto(`${sd().base}/#/flags`);
  await expect(fresh.getByRole('alert').filter({ hasText: 'No API token' })).toBeVisible();
  await saveScreen(fresh, 'no-token', { fullPage: false });
  await context.close();

  // A wrong (or an old run's) token: main answers 401 {detail} and the screen shows it, with a retry.
  await page.goto(`${sd().base}/?token=not-the-token#/flags`);
  const refused = page.locator('[data-code="UNAUTHORIZED"]').first();
  await expect(refused).toContainText('missing or invalid API token');
  await expect(refused.getByRole('button', { name: 'Retry' })).toBeVisible();
});
