// User story: an operator reads the subscriptions at a glance (counts per state that agree with the API and filter
// the table), groups them by underlying and expiry, sorts by any column, searches, and subscribes an instrument by
// its tradingsymbol. The page scrolls; no 420 px box.
import { expect, test } from '@playwright/test';
import { useConsole, valueOf } from './support/console';
import { nestedScrollBoxes, openScreen, saveScreen } from './support/screens';

const sd = useConsole();

test.beforeAll(async () => {
  test.setTimeout(180_000);
  // A small NIFTY chain, auto-subscribed by the console the way a trader's first look does it.
  valueOf(await sd().call('chain:distribution', { symbol: 'NIFTY', strikeRange: 3, autoSubscribe: true }), 'chain:distribution');
});

test('state counts agree with the API and filter the table; groups by underlying and expiry', async ({ page }) => {
  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Subscriptions', 'subscriptions');
  const table = page.getByTestId('subscriptions-table');
  await expect(table.locator('tbody tr[data-token]').first()).toBeVisible();
  const list = valueOf(await sd().call('subscriptions:list', { state: 'all', limit: 10000 }), 'subscriptions:list');
  const counts = page.getByTestId('state-counts');
  await expect(counts.locator('[data-bucket="all"] .count-value')).toHaveText(String(list.length));
  const active = list.filter((r) => r.state === 'active').length;
  await expect(counts.locator('[data-bucket="active"] .count-value')).toHaveText(String(active));
  await counts.locator('[data-bucket="active"]').click();
  await expect(counts.locator('[data-bucket="active"]')).toHaveAttribute('aria-pressed', 'true');
  await expect
    .poll(async () => new Set(await table.locator('tbody tr[data-token]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')))))
    .toEqual(new Set(['active']));
  await counts.locator('[data-bucket="all"]').click();
  // Grouped by underlying and expiry, each group headed with its counts.
  const groups = await table.locator('tbody[data-group]').evaluateAll((els) => els.map((e) => e.getAttribute('data-group')));
  expect(groups.some((g) => /^NIFTY · \d{4}-\d\d-\d\d$/.test(g ?? ''))).toBe(true);
  await expect(table.locator('tr.group-row').first()).toContainText(/\d+ · \d+ active/);
  // No nested scroll box.
  expect(await nestedScrollBoxes(page, '[data-screen="subscriptions"]')).toBe(0);
  await saveScreen(page, 'subscriptions-grouped');
});

test('sortable columns: instrument both ways, attempts, last tick', async ({ page }) => {
  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Subscriptions', 'subscriptions');
  await page.getByRole('checkbox', { name: 'Group by underlying and expiry' }).uncheck();
  const table = page.getByTestId('subscriptions-table');
  const symbols = () => table.locator('tbody tr[data-token] td:nth-child(2) .mono.strong').allTextContents();
  await expect(table.locator('tbody tr[data-token]').first()).toBeVisible();
  const header = table.locator('th').filter({ has: page.locator('button[data-sort="instrument"]') });
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  const ascending = await symbols();
  await page.locator('button[data-sort="instrument"]').click();
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  await expect.poll(symbols).toEqual([...ascending].reverse());
  await page.locator('button[data-sort="attempts"]').click();
  const attempts = (await table.locator('tbody tr[data-token] td:last-child').allTextContents()).map(Number);
  expect(attempts).toEqual([...attempts].sort((a, b) => a - b));
  await page.locator('button[data-sort="lastTick"]').click();
  await expect(table.locator('th').filter({ has: page.locator('button[data-sort="lastTick"]') })).toHaveAttribute('aria-sort', 'ascending');
});

test('search narrows the table; subscribe by tradingsymbol', async ({ page }) => {
  const list = valueOf(await sd().call('subscriptions:list', { state: 'all', limit: 10000 }), 'subscriptions:list');
  const puts = list.filter((r) => r.type === 'PE' && r.strike !== null);
  const [kept, dropped] = [puts[0], puts[1]];
  expect(kept && dropped, 'two auto-subscribed puts').toBeTruthy();

  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Subscriptions', 'subscriptions');
  const table = page.getByTestId('subscriptions-table');
  const search = page.getByRole('searchbox', { name: 'Search subscriptions' });
  await search.fill(kept!.tradingsymbol);
  await expect.poll(() => table.locator('tbody tr[data-token]').count()).toBe(1);
  await expect(table.locator('tbody tr[data-token]')).toHaveAttribute('data-token', String(kept!.token));

  // Unsubscribed and gone from the ticker, the put is no longer a subscription: the manual box finds it in the
  // instrument registry by its tradingsymbol, typed in lower case.
  valueOf(await sd().call('subscriptions:unsubscribe', { tokens: [dropped!.token] }), 'subscriptions:unsubscribe');
  await expect
    .poll(
      async () =>
        valueOf(await sd().call('subscriptions:list', { state: 'all', search: dropped!.tradingsymbol }), 'list').some(
          (r) => r.token === dropped!.token && r.state !== 'inactive',
        ),
      { timeout: 60_000 },
    )
    .toBe(false);
  const found = valueOf(await sd().call('instruments:search', { text: dropped!.tradingsymbol.toLowerCase() }), 'instruments:search');
  expect(found[0]?.token).toBe(dropped!.token);

  await page.getByRole('combobox', { name: 'Instruments to subscribe (tradingsymbol or token)' }).fill(dropped!.tradingsymbol.toLowerCase());
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: /new|already|pending/ })).toBeVisible({ timeout: 60_000 });
  await expect
    .poll(
      async () =>
        valueOf(await sd().call('subscriptions:list', { state: 'all', search: dropped!.tradingsymbol }), 'list').find((r) => r.token === dropped!.token)?.state,
      { timeout: 60_000 },
    )
    .toMatch(/active|pending/);
  await search.fill(dropped!.tradingsymbol);
  await expect(table.locator('tbody tr[data-token]')).toHaveAttribute('data-token', String(dropped!.token), { timeout: 30_000 });
  // An unknown symbol is named, not silently dropped.
  await page.getByRole('combobox', { name: 'Instruments to subscribe (tradingsymbol or token)' }).fill('NOSUCHSYMBOL26');
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not a live instrument: NOSUCHSYMBOL26' })).toBeVisible();
});
