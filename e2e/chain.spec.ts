// User story: a trader opens a NIFTY chain nobody has subscribed and watches it fill, nearest ATM first; then reads
// it (ATM, OI bars, the PCR / max pain / ATM IV strip, IV smile), opens a strike and centres on it, switches to greeks.
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

  // It fills nearest ATM first, pushed from main (no reload, no polling loop in the page). Illiquid strikes may stay
  // silent for minutes (Kite sends ticks only on change), so they are not waited for.
  const panel = chain.locator('.expiry-panel').first();
  // Nearest ATM first: the ATM strike's two legs show data, and every leg within two strikes of ATM is subscribed at
  // the ticker (whether an illiquid one has ticked yet is the market's business, not the console's).
  const nearAtmFirst = async () => {
    const rows = panel.locator('.ladder-row[data-strike]');
    const strikes = await rows.evaluateAll((els) =>
      els.map((e) => ({
        strike: Number(e.getAttribute('data-strike')),
        atm: e.classList.contains('atm'),
        states: [...e.querySelectorAll('[data-state]')].map((c) => c.getAttribute('data-state')),
      })),
    );
    const atm = strikes.findIndex((r) => r.atm);
    if (atm < 0 || !strikes[atm].states.every((st) => st === 'live')) return false;
    const near = strikes.slice(Math.max(0, atm - 2), atm + 3).map((r) => r.strike);
    const listed = valueOf(await sd().call('subscriptions:list', { state: 'all', search: 'NIFTY' }), 'subscriptions:list');
    const active = new Set(listed.filter((x) => x.state === 'active' && x.strike !== null).map((x) => `${x.expiry}|${x.strike}|${x.type}`));
    const expiry = listed.find((x) => x.expiry !== null && near.includes(x.strike as number))?.expiry;
    return near.length === 5 && near.every((k) => active.has(`${expiry}|${k}|CE`) && active.has(`${expiry}|${k}|PE`));
  };
  await expect
    .poll(
      async () => {
        const strikes = Number(await strip.getAttribute('data-strikes'));
        const live = Number(await strip.getAttribute('data-live'));
        // The first burst (30 POSTs) covers ATM +-7; the rest follows a minute later, within the 30/min budget.
        return strikes > 0 && live > 0 && (await nearAtmFirst());
      },
      { timeout: 180_000, intervals: [1000] },
    )
    .toBe(true);
  const seen = (await page.evaluate('window.__fill')) as string[];
  expect(
    seen.some((t) => /^Subscribing \d+ strikes, \d+ live$/.test(t)),
    `fill texts seen: ${seen.join(' | ')}`,
  ).toBe(true);
  // The counts only grow: "M live" never went down while it filled.
  const lives = seen
    .map((t) => /(\d+) live$/.exec(t)?.[1])
    .filter((x): x is string => Boolean(x))
    .map(Number);
  expect(lives).toEqual([...lives].sort((a, b) => a - b));

  // Reading the chain: ATM highlighted, OI bars on both sides, the footer's numbers.
  await expect(panel.locator('.ladder-row.atm')).toHaveCount(1);
  expect(await panel.locator('.bar-cell.call .bar.oi').count()).toBeGreaterThan(0);
  expect(await panel.locator('.bar-cell.put .bar.oi').count()).toBeGreaterThan(0);
  const figures = panel.getByTestId('chain-figures');
  await expect(figures).toContainText(/PCR \(OI\) \d+\.\d\d/);
  await expect(figures).toContainText(/Max pain [\d,]+/);
  await expect(figures).toContainText(/ATM IV \d+\.\d\d%/);
  await expect(page.getByTestId('iv-smile')).toBeVisible();
  await saveScreen(page, 'chain');

  // A strike opens its detail; centring on it is the detail's button.
  const rows = panel.locator('.ladder-row[data-strike]');
  const atmIndex = await rows.evaluateAll((els) => els.findIndex((e) => e.classList.contains('atm')));
  const target = rows.nth(Math.max(0, atmIndex - 2));
  const strike = Number(await target.getAttribute('data-strike'));
  await target.getByRole('button').click();
  await page.getByRole('button', { name: 'Centre the chain here' }).click();
  await expect(page.getByRole('button', { name: /Centred on .* back to ATM/ })).toBeVisible();
  await expect(panel.locator('.ladder-row.centred')).toHaveAttribute('data-strike', String(strike));

  // Greeks table.
  await page.getByRole('button', { name: 'Greeks' }).click();
  const greeks = panel.getByRole('table', { name: /^Greeks/ });
  await expect(greeks).toBeVisible();
  await expect(greeks.getByRole('columnheader', { name: 'Δ' }).first()).toBeVisible();
  await expect(greeks.getByRole('columnheader', { name: 'Θ ₹/day' }).first()).toBeVisible();
  await expect(greeks.getByRole('columnheader', { name: 'ν ₹/vol pt' }).first()).toBeVisible();
  // Every strike row has the call columns, the strike and the put columns.
  await expect(greeks.locator('.ct-row[data-strike]').first().getByRole('cell')).toHaveCount(13);
  await saveScreen(page, 'chain-greeks');

  // A second expiry side by side.
  const add = page.getByRole('button', { name: /side by side$/ }).first();
  await add.click();
  await expect(chain.locator('.expiry-panel')).toHaveCount(2, { timeout: 60_000 });
  await saveScreen(page, 'chain-two-expiries');
});

test('the chain’s auto-subscriptions are listed with their owner, state and tick age', async ({ page }) => {
  // Runs after the first test of this file filled the NIFTY chain in the same console.
  await page.goto(sd().consoleUrl);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Subscriptions', exact: true }).click();
  const table = page.getByTestId('subscriptions-table');
  await expect(table).toBeVisible();
  const rows = table.locator('tbody tr');
  await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(21);
  await expect(rows.filter({ hasText: 'auto:NIFTY' }).first()).toBeVisible();
  await expect(rows.filter({ hasText: 'active' }).first()).toBeVisible();
  await page.getByRole('searchbox', { name: 'Search subscriptions' }).fill('CE');
  const legRows = table.locator('tbody tr[data-token]');
  await expect.poll(async () => (await legRows.allTextContents()).every((t) => t.includes('CE'))).toBe(true);
  await page.getByRole('searchbox', { name: 'Search subscriptions' }).fill('');
  await saveScreen(page, 'subscriptions-live');
});
