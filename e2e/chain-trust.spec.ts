// User story: a trader can trust what the chain shows at a glance. ATM +-50 opens with ATM in view and the page (not
// a box) scrolls under a sticky toolbar and column header; expiry-wide figures are marked partial with their
// coverage; a clicked strike opens its detail and re-centring is deliberate; the ΔOI basis is the trader's choice;
// a bad token and a console that has gone each get their own words; when the feed stalls or the console stops, the
// chain dims and says "frozen since HH:MM:SS IST". The console is stopped by the last test of this file.
import { expect, test, type Page } from '@playwright/test';
import { useConsole } from './support/console';
import { devtickerUrl, setFaults } from './support/devticker';
import { nestedScrollBoxes, saveScreen } from './support/screens';

const sd = useConsole();

async function openChainWithData(page: Page) {
  await page.goto(sd().consoleUrl);
  const panel = page.locator('[data-screen="chain"] .expiry-panel').first();
  await expect(panel).toBeVisible({ timeout: 60_000 });
  // Live data near ATM (main subscribes nearest ATM first).
  await expect(panel.locator('.ladder-row.atm [data-state="live"]').first()).toBeVisible({ timeout: 150_000 });
  return panel;
}

test('ATM ±50 opens with ATM in view; the page scrolls under a sticky toolbar and column header', async ({ page }) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const panel = await openChainWithData(page);
  await page.getByRole('combobox', { name: 'Strikes each side of ATM' }).selectOption('50');
  await expect.poll(() => panel.locator('.ladder-row[data-strike]').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(80);
  const atm = panel.locator('.ladder-row.atm');
  await expect(atm).toBeInViewport();
  // No nested scroll box: the ladder is as tall as its rows, and the page is what scrolls.
  expect(await nestedScrollBoxes(page, '[data-screen="chain"]')).toBe(0);
  expect(await page.evaluate<boolean>('document.documentElement.scrollHeight > window.innerHeight')).toBe(true);
  // ATM sits near the middle of what is visible.
  const box = await atm.boundingBox();
  expect(Math.abs(box!.y + box!.height / 2 - 450)).toBeLessThan(300);
  // Scrolling keeps the toolbar and the column header in view.
  await page.mouse.wheel(0, 1500);
  await expect(page.getByRole('combobox', { name: 'Underlying' })).toBeInViewport();
  await expect(panel.locator('.ladder-head')).toBeInViewport();
  await expect(page.getByTestId('app-head')).toBeInViewport();
  await saveScreen(page, 'chain-atm50-scrolled', { fullPage: false });
  await page.getByRole('combobox', { name: 'Strikes each side of ATM' }).selectOption('10');
});

test('expiry-wide figures sit in a header strip, marked partial while the chain is not complete', async ({ page }) => {
  const panel = await openChainWithData(page);
  const figures = panel.getByTestId('chain-figures');
  for (const label of ['PCR (OI)', 'PCR (vol)', 'Max pain', 'ATM IV', 'DTE']) await expect(figures).toContainText(label);
  await expect(page.getByTestId('spot')).toContainText(/NIFTY spot [\d,]+\.\d\d/);
  // Either partial with what it covers, or complete over all listed legs: never unmarked.
  const partial = await figures.getAttribute('data-partial');
  if (partial === 'true') await expect(figures.getByTestId('partial-mark')).toContainText(/partial/);
  else await expect(figures.getByTestId('coverage-complete')).toContainText(/all [\d,]+ listed legs/);
  // The legend explains the marks.
  await expect(panel.locator('.expiry-foot')).toContainText('illiquid (few ticks)');
  await expect(panel.locator('.expiry-foot')).toContainText('kept out of the IV smile and ATM IV');
});

test('coverage from the console: partial says how many legs have data (needs the main-side coverage)', async ({ page }) => {
  const panel = await openChainWithData(page);
  const figures = panel.getByTestId('chain-figures');
  // Until every listed leg has data the mark names the count; once complete, it says so.
  await expect(figures).toContainText(/(\d+ of \d+ legs, \d+ of \d+ strikes with data)|(all [\d,]+ listed legs)/);
  await expect(figures).not.toContainText('coverage unknown');
});

test('a strike click opens its detail; centring is a deliberate button', async ({ page }) => {
  const panel = await openChainWithData(page);
  const rows = panel.locator('.ladder-row[data-strike]');
  const atmIndex = await rows.evaluateAll((els) => els.findIndex((e) => e.classList.contains('atm')));
  const target = rows.nth(Math.max(0, atmIndex - 2));
  const strike = Number(await target.getAttribute('data-strike'));
  const requests: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/chain:distribution')) requests.push(r.postData() ?? '');
  });
  await target.getByRole('button').click();
  const detail = page.getByTestId('strike-detail');
  await expect(detail).toBeVisible();
  await expect(detail).toHaveAttribute('data-strike', String(strike));
  await expect(detail).toContainText('Theta (₹/day)');
  await expect(detail).toContainText('Vega (₹/vol pt)');
  // Opening the detail re-centred nothing.
  expect(requests.some((b) => b.includes('centerStrike'))).toBe(false);
  await saveScreen(page, 'chain-strike-detail', { fullPage: false });
  await page.getByRole('button', { name: 'Centre the chain here' }).click();
  await expect(detail).toBeHidden();
  await expect(page.getByRole('button', { name: /Centred on .* back to ATM/ })).toBeVisible();
  await expect(panel.locator('.ladder-row.centred')).toHaveAttribute('data-strike', String(strike));
  await page.getByRole('button', { name: /back to ATM/ }).click();
});

test('the strike detail draws OI over time (needs the main-side chain:strikeHistory)', async ({ page }) => {
  const panel = await openChainWithData(page);
  await panel.locator('.ladder-row.atm button.strike').click();
  await expect(page.getByTestId('strike-oi-history')).toBeVisible({ timeout: 30_000 });
});

test('OI change: its own column in one unit, and the basis is the trader’s choice', async ({ page }) => {
  const panel = await openChainWithData(page);
  const changes = await panel.locator('.chg-cell .chg-label').allTextContents();
  // One unit format: every non-zero figure in lakh with two decimals.
  for (const text of changes.map((t) => t.replace('▼', '').trim()).filter((t) => t !== '0' && t !== '–')) expect(text).toMatch(/^[+−]\d+(,\d\d)*\d*\.\d\d L$/);
  const oi = await panel.locator('.bar-cell .bar-label').allTextContents();
  for (const text of oi.map((t) => t.replace(/[◌‖]/g, '').trim()).filter((t) => t !== '0' && t !== '–')) expect(text).toMatch(/^\d+(,\d\d)*\d*\.\d\d L$/);
  const sent = page.waitForRequest((r) => r.url().includes('/api/chain:distribution') && (r.postData() ?? '').includes('"oiChangeBasis":"session_open"'));
  await page.getByRole('combobox', { name: 'Change in OI against' }).selectOption('session_open');
  await sent;
  await page.getByRole('combobox', { name: 'Change in OI against' }).selectOption('one_hour_earlier');
});

test('a refused token says 401, not "reconnecting"', async ({ page }) => {
  await page.goto(`${sd().base}/?token=not-the-token`);
  await expect(page.getByTestId('connection')).toContainText('not signed in (401)');
  await expect(page.getByTestId('connection-banner')).toHaveAttribute('data-state', 'unauthorized');
  await expect(page.getByText('reconnecting')).toHaveCount(0);
  await expect(page.getByText(/Service not running/)).toHaveCount(0);
});

test('a stalled feed: the chain dims and says it is stale, with the time it froze', async ({ page }) => {
  test.setTimeout(300_000);
  const ticker = await devtickerUrl(sd());
  await openChainWithData(page);
  await setFaults(ticker, { stall: true });
  try {
    // Two 1-minute bars without data make the series stale (judged by main).
    const frozen = page.getByTestId('chain-frozen');
    await expect(frozen).toHaveAttribute('data-state', 'stale', { timeout: 240_000 });
    await expect(frozen).toContainText(/Stale: frozen since \d\d:\d\d:\d\d IST/);
    await expect(page.getByTestId('chain-body')).toHaveClass(/frozen/);
    await expect(page.getByTestId('fill-status')).toContainText('Not live');
    await saveScreen(page, 'chain-stale', { fullPage: false });
  } finally {
    await setFaults(ticker, { stall: false });
  }
  await expect(page.getByTestId('chain-body')).toHaveAttribute('data-liveness', 'live', { timeout: 180_000 });
});

test('stopping the console freezes the chain unmistakably, in the right words (runs last: stops the console)', async ({ page }) => {
  await openChainWithData(page);
  const body = page.getByTestId('chain-body');
  await expect(body).toHaveAttribute('data-liveness', 'live');
  await sd().stop();
  const frozen = page.getByTestId('chain-frozen');
  await expect(frozen).toBeVisible({ timeout: 20_000 });
  await expect(frozen).toHaveAttribute('data-state', 'unreachable');
  await expect(frozen).toContainText(/Console unreachable: frozen since \d\d:\d\d:\d\d IST/);
  await expect(body).toHaveClass(/frozen/);
  // Frozen reads as greyed, not faded: colour drained from the grid, bars dimmed, text kept at readable contrast.
  const look = await page.evaluate<{ filter: string; barOpacity: number }>(
    `(() => { const bar = document.querySelector('.chain-body.frozen .expiry-grid .bar'); return { filter: getComputedStyle(document.querySelector('.chain-body.frozen .expiry-grid')).filter, barOpacity: bar ? Number(getComputedStyle(bar).opacity) : 0 }; })()`,
  );
  expect(look.filter).toMatch(/grayscale\(0\.[5-9]/);
  expect(look.barOpacity).toBeLessThan(0.7);
  await expect(page.getByTestId('connection')).toContainText('console unreachable');
  await expect(page.getByTestId('connection-banner')).toHaveAttribute('data-state', 'unreachable');
  await expect(page.getByTestId('fill-status')).toContainText('Not live');
  await expect(page.getByTestId('fill-status')).not.toContainText(/strikes live$/);
  await expect(page.getByText(/Service not running/)).toHaveCount(0);
  await saveScreen(page, 'chain-console-gone', { fullPage: false });
});
