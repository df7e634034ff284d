// User story: a trader reads every OI figure at a glance and an operator reads every chart without labels colliding.
// On the chain's OI ladder a value never sits on its bar (walls included) nor on its neighbour's value, for the OI
// bars and the lighter OI-change bars, at 1440x900 and 1024x700 in both themes. On Metrics, a threshold's tag sits
// in the gutter right of the plot (where no data is drawn), its words in a legend under the chart, and no two tags
// or legend entries overlap.
import { expect, test, type Page } from '@playwright/test';
import { useConsole } from './support/console';
import { openScreen, saveScreen } from './support/screens';

const sd = useConsole();

const SIZES = [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
] as const;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Ladder geometry, read in the page: per row, each cell's label box and bar box (as painted, transforms included). */
interface LadderRow {
  strike: string;
  cells: { kind: 'oi' | 'chg'; wall: boolean; cell: Box | null; label: Box | null; bar: Box | null }[];
}

/** Ladder geometry, read in the page: per row, each cell's label box and bar box (as painted, transforms included). */
async function ladderBoxes(page: Page): Promise<LadderRow[]> {
  // A string, like the other specs' page scripts: the e2e project is typed without the DOM library.
  return page.evaluate<LadderRow[]>(`(() => {
    const box = (el) => {
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 ? { x: r.left, y: r.top, w: r.width, h: r.height } : null;
    };
    const inView = (r) => r.bottom > 0 && r.top < innerHeight;
    return [...document.querySelectorAll('[data-screen="chain"] .ladder-body .ladder-row')]
      .filter((row) => inView(row.getBoundingClientRect()))
      .map((row) => ({
        strike: row.dataset.strike ?? '',
        cells: [...row.querySelectorAll('.bar-cell, .chg-cell')]
          .filter((c) => getComputedStyle(c).display !== 'none')
          .map((c) => ({
            kind: c.classList.contains('bar-cell') ? 'oi' : 'chg',
            wall: c.dataset.wall !== undefined,
            cell: box(c),
            label: box(c.querySelector('.bar-label, .chg-label')),
            bar: box(c.querySelector('.bar')),
          })),
      }));
  })()`);
}

const intersects = (a: Box, b: Box, slack = 0.5): boolean =>
  a.x + slack < b.x + b.w && b.x + slack < a.x + a.w && a.y + slack < b.y + b.h && b.y + slack < a.y + a.h;
const inside = (a: Box, b: Box, slack = 0.5): boolean =>
  a.x >= b.x - slack && a.y >= b.y - slack && a.x + a.w <= b.x + b.w + slack && a.y + a.h <= b.y + b.h + slack;

async function assertLadderLabelsClear(page: Page, where: string) {
  const rows = await ladderBoxes(page);
  expect(rows.length, `${where}: ladder rows in view`).toBeGreaterThan(5);
  let checked = 0;
  let walls = 0;
  for (const row of rows) {
    const labels: Box[] = [];
    for (const c of row.cells) {
      if (!c.label || !c.cell) continue;
      labels.push(c.label);
      const what = `${where}, strike ${row.strike}, ${c.kind}${c.wall ? ' wall' : ''}`;
      expect(inside(c.label, c.cell), `${what}: label inside its cell`).toBe(true);
      if (c.bar) {
        checked++;
        if (c.wall) walls++;
        expect(intersects(c.label, c.bar), `${what}: label ${JSON.stringify(c.label)} clear of bar ${JSON.stringify(c.bar)}`).toBe(false);
      }
    }
    for (let i = 0; i < labels.length; i++)
      for (let j = i + 1; j < labels.length; j++)
        expect(intersects(labels[i], labels[j]), `${where}, strike ${row.strike}: labels ${i} and ${j} overlap`).toBe(false);
  }
  expect(checked, `${where}: label and bar pairs checked`).toBeGreaterThan(10);
  return walls;
}

test('OI ladder: no value sits on its bar or on another value, walls included, at both sizes and themes', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(sd().consoleUrl);
  const panel = page.locator('[data-screen="chain"] .expiry-panel').first();
  await expect(panel).toBeVisible({ timeout: 60_000 });
  await expect(panel.locator('.ladder-row.atm [data-state="live"]').first()).toBeVisible({ timeout: 150_000 });
  // The walls are marked once the walls' legs have OI.
  await expect(panel.locator('.bar-cell[data-wall]').first()).toBeVisible({ timeout: 120_000 });
  let wallsSeen = 0;
  for (const scheme of ['dark', 'light'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const size of SIZES) {
      await page.setViewportSize(size);
      // The biggest wall in view: scroll it to the middle, so the check covers a full-width bar and its label.
      await panel
        .locator('.bar-cell[data-wall]')
        .first()
        .evaluate((el) => el.scrollIntoView({ block: 'center' }));
      wallsSeen += await assertLadderLabelsClear(page, `${size.width}x${size.height} ${scheme}`);
      await saveScreen(page, `labels-ladder-${size.width}x${size.height}-${scheme}`, { fullPage: false });
    }
  }
  expect(wallsSeen, 'walls checked').toBeGreaterThan(0);
});

test('Metrics: threshold tags sit right of the plot, their words in a legend, nothing overlapping', async ({ page }) => {
  test.setTimeout(240_000);
  // The chain's auto-subscribe gives the charts their points.
  await page.goto(sd().consoleUrl);
  await expect(page.locator('[data-screen="chain"] .expiry-panel').first()).toBeVisible({ timeout: 60_000 });
  await openScreen(page, 'Metrics', 'metrics');
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const id of ['chart-success', 'chart-ttd', 'chart-calls']) {
      const chart = page.getByTestId(id);
      await expect(chart).toBeVisible({ timeout: 60_000 });
      // The plugin records where it drew each tag (CSS px, relative to the canvas) after every draw.
      await expect.poll(async () => JSON.parse((await chart.getAttribute('data-threshold-tags')) ?? '[]').length, { timeout: 30_000 }).toBeGreaterThan(0);
      // A page script as a string (no DOM types in the e2e project).
      const geo = (await page.evaluate(`(() => {
        const el = document.querySelector('[data-testid="${id}"]');
        const canvas = el.querySelector('canvas').getBoundingClientRect();
        const over = el.querySelector('.u-over').getBoundingClientRect();
        const tags = JSON.parse(el.dataset.thresholdTags ?? '[]');
        return {
          plot: { x: over.left, y: over.top, w: over.width, h: over.height },
          canvas: { x: canvas.left, y: canvas.top, w: canvas.width, h: canvas.height },
          tags: tags.map((t) => ({ x: canvas.left + t.x, y: canvas.top + t.y, w: t.w, h: t.h })),
        };
      })()`)) as { plot: Box; canvas: Box; tags: Box[] };
      const where = `${id} at ${size.width}x${size.height}`;
      for (const tag of geo.tags) {
        // Right of the plot area, where uPlot draws no series, and still on the canvas.
        expect(tag.x, `${where}: tag starts right of the plot`).toBeGreaterThanOrEqual(geo.plot.x + geo.plot.w);
        expect(intersects(tag, geo.plot), `${where}: tag clear of the plot`).toBe(false);
        expect(tag.x + tag.w, `${where}: tag on the canvas`).toBeLessThanOrEqual(geo.canvas.x + geo.canvas.w + 0.5);
      }
      for (let i = 0; i < geo.tags.length; i++)
        for (let j = i + 1; j < geo.tags.length; j++) expect(intersects(geo.tags[i], geo.tags[j]), `${where}: tags overlap`).toBe(false);
      // The words: a legend entry under the chart, clear of the canvas.
      const legend = page.getByTestId(`${id}-thresholds`);
      await expect(legend).toContainText(/alert (above|below)/);
      const legendBox = (await legend.boundingBox())!;
      expect(intersects({ x: legendBox.x, y: legendBox.y, w: legendBox.width, h: legendBox.height }, geo.canvas), `${where}: legend clear of the chart`).toBe(
        false,
      );
    }
    await saveScreen(page, `labels-metrics-${size.width}x${size.height}`, { fullPage: true });
  }
});
