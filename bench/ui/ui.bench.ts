// The screens under load. (1) A chain of 3 expiries x 101 strikes whose data changes every second, pushed the way
// main pushes (chain:changed over SSE, then a refetch), against the same chain idle (the baseline). The chain data
// comes from a synthetic server so the figure is the renderer's, not the backend's. (2) First paint of the real
// headless console, against a minimal page.
//
// What "p95 frame under 16 ms" means here: the p95 of the FRAME COST, the main-thread time spent producing each
// frame, read from a Chromium trace (see trace.ts): a frame runs from one requestAnimationFrame callback to the
// next, and its cost is the time the page's main thread spent in tasks (script, style, layout, paint, commit) in
// that span. The interval between rAF callbacks cannot go below one vsync (16.7 ms at 60 Hz) even on an idle page,
// so it is not the target; it is still printed (the rAF line: intervals, dropped frames = intervals over 1.5
// vsync, long tasks from the Long Tasks API) next to the per-update main-thread cost (Performance.getMetrics).
// Second target: no update produces a task over 50 ms (the longest top-level task in the trace while updating).
import { resolve } from 'node:path';
import type { CDPSession, Page } from '@playwright/test';
import { expect, test } from '@playwright/test';
import { startConsole } from '../../e2e/support/console';
import { fmtStats, measureFrames, percentile } from './frames';
import { startSyntheticServer } from './synthetic-server';
import { fmtCost, traceFrameCost } from './trace';
import { Targets } from '../targets';

const FRAME_P95_TARGET_MS = 16;
const FIRST_PAINT_TARGET_MS = 500;
const LONG_TASK_MS = 50;

const MEASURE_MS = Number(process.env.BENCH_UI_SECONDS ?? 12) * 1000;
const outDir = resolve(process.env.STRIKEDESK_OUT_DIR ?? 'out');

/** Chromium's cumulative main-thread time by kind (script, layout, style), in ms. */
async function threadMetrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  const pick = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
  return {
    TaskDuration: pick('TaskDuration'),
    ScriptDuration: pick('ScriptDuration'),
    LayoutDuration: pick('LayoutDuration'),
    RecalcStyleDuration: pick('RecalcStyleDuration'),
  };
}

const split = (a: Record<string, number>, b: Record<string, number>, n: number): string =>
  `script ${((b.ScriptDuration - a.ScriptDuration) / n).toFixed(1)} ms, style ${((b.RecalcStyleDuration - a.RecalcStyleDuration) / n).toFixed(1)} ms, layout ${((b.LayoutDuration - a.LayoutDuration) / n).toFixed(1)} ms`;

async function openWideChain(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/?token=bench#/chain`);
  await page.getByTestId('fill-status').waitFor();
  await page.getByRole('combobox', { name: 'Strikes each side of ATM' }).selectOption('50');
  for (let i = 0; i < 2; i++)
    await page
      .getByRole('button', { name: /side by side$/ })
      .first()
      .click();
  await expect(page.locator('.expiry-panel')).toHaveCount(3);
  for (const panel of await page.locator('.expiry-panel').all()) await expect(panel.locator('.ladder-row[data-strike]')).toHaveCount(101);
}

test('chain of 3 expiries x 100 strikes updating every second', async ({ page }) => {
  const server = await startSyntheticServer(resolve(outDir, 'renderer'));
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await openWideChain(page, server.url);

    const idleStart = await threadMetrics(cdp);
    const browser = page.context().browser();
    if (!browser) throw new Error('bench:ui needs a browser it can trace');
    const { result: idle, cost: idleCost } = await traceFrameCost(browser, page, () => measureFrames(page, MEASURE_MS));
    const idleEnd = await threadMetrics(cdp);
    const idlePerSecond = (idleEnd.TaskDuration - idleStart.TaskDuration) / (MEASURE_MS / 1000);
    server.setPushing(true);
    const before = server.requests();
    const liveStart = await threadMetrics(cdp);
    const { result: live, cost: liveCost } = await traceFrameCost(browser, page, () => measureFrames(page, MEASURE_MS));
    const updates = server.requests() - before;
    const liveEnd = await threadMetrics(cdp);
    const workPerUpdate = (liveEnd.TaskDuration - liveStart.TaskDuration) / Math.max(1, updates);

    await page.getByRole('button', { name: 'LTP / Volume' }).click();
    await expect(page.getByRole('table', { name: /^LTP and volume/ })).toHaveCount(3);
    const beforeTable = server.requests();
    const tableStart = await threadMetrics(cdp);
    const { result: table, cost: tableCost } = await traceFrameCost(browser, page, () => measureFrames(page, MEASURE_MS));
    const tableUpdates = server.requests() - beforeTable;
    const tableEnd = await threadMetrics(cdp);
    const tableWork = (tableEnd.TaskDuration - tableStart.TaskDuration) / Math.max(1, tableUpdates);
    server.setPushing(false);

    process.stdout.write(
      [
        '',
        `bench:ui chain 3 expiries x 101 strikes, ${MEASURE_MS / 1000} s per phase, 1280x800`,
        `  idle chain (baseline):      ${fmtStats(idle)}; main thread ${idlePerSecond.toFixed(1)} ms per second (${split(idleStart, idleEnd, MEASURE_MS / 1000)})`,
        `  OI ladder, 1 update/s:      ${fmtStats(live)}; ${updates} updates, main thread ${workPerUpdate.toFixed(1)} ms per update (${split(liveStart, liveEnd, Math.max(1, updates))})`,
        `  LTP/volume table, 1 upd/s:  ${fmtStats(table)}; ${tableUpdates} updates, main thread ${tableWork.toFixed(1)} ms per update (${split(tableStart, tableEnd, Math.max(1, tableUpdates))})`,
        `  rAF intervals (>= one vsync by construction): p95 ${live.p95.toFixed(1)} ms (ladder), ${table.p95.toFixed(1)} ms (table)`,
        `  idle chain frame cost:      ${fmtCost(idleCost)}`,
        `  OI ladder frame cost:       ${fmtCost(liveCost)}`,
        `  LTP/volume frame cost:      ${fmtCost(tableCost)}`,
        `  p95 frame cost: ${liveCost.p95.toFixed(1)} ms (ladder), ${tableCost.p95.toFixed(1)} ms (table); ratio to idle ${(liveCost.p95 / Math.max(0.1, idleCost.p95)).toFixed(2)}x / ${(tableCost.p95 / Math.max(0.1, idleCost.p95)).toFixed(2)}x`,
        '',
      ].join('\n'),
    );
    const targets = new Targets();
    targets.below('ui p95 frame cost, OI ladder 3 x 101 strikes updating 1/s', Number(liveCost.p95.toFixed(1)), FRAME_P95_TARGET_MS, ' ms');
    targets.below('ui p95 frame cost, LTP/volume table 3 x 101 strikes updating 1/s', Number(tableCost.p95.toFixed(1)), FRAME_P95_TARGET_MS, ' ms');
    targets.atMost('ui longest task per update, OI ladder', Number(liveCost.maxTask.toFixed(1)), LONG_TASK_MS, ' ms');
    targets.atMost('ui longest task per update, LTP/volume table', Number(tableCost.maxTask.toFixed(1)), LONG_TASK_MS, ' ms');
    targets.print((l) => process.stdout.write(`${l}\n`));
    expect(updates).toBeGreaterThanOrEqual(Math.floor(MEASURE_MS / 1000) - 2);
    // The trace must have seen the frames the rAF loop drew, or the frame cost measured nothing.
    expect(liveCost.frames).toBeGreaterThan(live.frames / 2);
    expect(tableCost.frames).toBeGreaterThan(table.frames / 2);
  } finally {
    await server.close();
  }
});

test('first paint of the headless console', async ({ browser }) => {
  const sd = await startConsole();
  try {
    const runs: { fcp: number; ready: number }[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(sd.consoleUrl);
      await page.locator('[data-screen]').waitFor();
      const ready = (await page.evaluate('performance.now()')) as number;
      const fcp = (await page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN`)) as number;
      runs.push({ fcp, ready });
      // Baseline: a minimal page in the same browser.
      const blank = await context.newPage();
      await blank.goto('data:text/html,<p>strikedesk</p>');
      await blank.locator('p').waitFor();
      baseline.push((await blank.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN`)) as number);
      await context.close();
    }
    const fcps = runs.map((r) => r.fcp).sort((a, b) => a - b);
    const readies = runs.map((r) => r.ready).sort((a, b) => a - b);
    const base = [...baseline].sort((a, b) => a - b);
    process.stdout.write(
      [
        '',
        'bench:ui first paint of the headless console (3 fresh page loads)',
        `  first contentful paint: ${runs.map((r) => r.fcp.toFixed(0)).join(', ')} ms (median ${percentile(fcps, 50).toFixed(0)} ms)`,
        `  screen rendered:        ${runs.map((r) => r.ready.toFixed(0)).join(', ')} ms (median ${percentile(readies, 50).toFixed(0)} ms)`,
        `  minimal page FCP:       ${baseline.map((b) => b.toFixed(0)).join(', ')} ms; ratio ${(percentile(fcps, 50) / percentile(base, 50)).toFixed(2)}x`,
        '',
      ].join('\n'),
    );
    const targets = new Targets();
    targets.below('ui first paint (median FCP of the headless console)', Math.round(percentile(fcps, 50)), FIRST_PAINT_TARGET_MS, ' ms');
    targets.print((l) => process.stdout.write(`${l}\n`));
    expect(percentile(fcps, 50)).toBeLessThan(3000);
    expect(percentile(readies, 50)).toBeLessThan(3000);
  } finally {
    await sd.stop();
  }
});
