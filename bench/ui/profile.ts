// Where an update's main-thread time goes: traces the live 3 x 101-strike ladder (or table with --table) for a few
// seconds and prints main-thread self time by trace event name. A tool for the work behind bench:ui, not a bench.
// Run: npx tsx bench/ui/profile.ts [--table]
import { resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { startSyntheticServer } from './synthetic-server';

const table = process.argv.includes('--table');
const server = await startSyntheticServer(resolve(process.env.STRIKEDESK_OUT_DIR ?? 'out', 'renderer'));
const browser = await chromium.launch({ executablePath: process.env.STRIKEDESK_CHROMIUM ?? '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/?token=bench#/chain`);
  await page.getByTestId('fill-status').waitFor();
  await page.getByRole('combobox', { name: 'Strikes each side of ATM' }).selectOption('50');
  for (let i = 0; i < 2; i++)
    await page
      .getByRole('button', { name: /side by side$/ })
      .first()
      .click();
  await page.locator('.expiry-panel').nth(2).waitFor();
  if (table) await page.getByRole('button', { name: 'LTP / Volume' }).click();
  server.setPushing(true);
  await page.waitForTimeout(2000);
  await browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'v8'] });
  const before = server.requests();
  await page.waitForTimeout(6000);
  const updates = server.requests() - before;
  const buf = await browser.stopTracing();
  type E = {
    name: string;
    ph: string;
    pid: number;
    tid: number;
    ts: number;
    dur?: number;
    args?: { name?: string; data?: { functionName?: string; url?: string } };
  };
  const events = (JSON.parse(buf.toString()) as { traceEvents: E[] }).traceEvents;
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const counts = new Map<string, number>();
  for (const e of events) if (e.ph === 'X' && mains.has(`${e.pid}:${e.tid}`)) counts.set(`${e.pid}:${e.tid}`, (counts.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const xs = events
    .filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === main && typeof e.dur === 'number')
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  // Self time: each event's duration minus its children's.
  const self = new Map<string, number>();
  const stack: { end: number; name: string; child: number; dur: number }[] = [];
  const pop = () => {
    const top = stack.pop();
    if (!top) return;
    self.set(top.name, (self.get(top.name) ?? 0) + top.dur - top.child);
    if (stack.length) stack[stack.length - 1].child += top.dur;
  };
  for (const e of xs) {
    while (stack.length && stack[stack.length - 1].end <= e.ts) pop();
    stack.push({ end: e.ts + (e.dur as number), name: e.name, child: 0, dur: e.dur as number });
  }
  while (stack.length) pop();
  // The same, inside long tasks (over 50 ms) only: what makes an update block the page.
  const long = xs.filter((e) => (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask') && (e.dur as number) > 50_000);
  const inLong = new Map<string, number>();
  for (const t of long) {
    const inner = xs.filter((e) => e !== t && e.ts >= t.ts && e.ts + (e.dur as number) <= t.ts + (t.dur as number) && e.name !== t.name);
    for (const e of inner.filter(
      (x) => !inner.some((y) => y !== x && y.ts <= x.ts && y.ts + (y.dur as number) >= x.ts + (x.dur as number) && (y.dur as number) > (x.dur as number)),
    ))
      inLong.set(e.name, (inLong.get(e.name) ?? 0) + (e.dur as number));
  }
  process.stdout.write(`long tasks: ${long.map((t) => ((t.dur as number) / 1000).toFixed(0)).join(', ')} ms; outermost events inside them (ms total):\n`);
  for (const [name, us] of [...inLong.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12))
    process.stdout.write(`  ${(us / 1000).toFixed(1).padStart(7)} ms  ${name}\n`);
  // Layouts: how many objects each one had to visit.
  const layouts = xs.filter((e) => e.name === 'Layout' && (e.dur as number) > 2000) as unknown as {
    dur: number;
    args: { beginData?: { dirtyObjects?: number; totalObjects?: number; partialLayout?: boolean } };
  }[];
  process.stdout.write(
    `layouts over 2 ms: ${layouts
      .slice(0, 12)
      .map(
        (l) =>
          `${(l.dur / 1000).toFixed(0)} ms (${l.args.beginData?.dirtyObjects}/${l.args.beginData?.totalObjects}${l.args.beginData?.partialLayout ? ' partial' : ''})`,
      )
      .join(', ')}\n`,
  );
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
  process.stdout.write(`${table ? 'table' : 'ladder'}: ${updates} updates; main-thread self time per update by event\n`);
  for (const [name, us] of rows) process.stdout.write(`  ${(us / 1000 / Math.max(1, updates)).toFixed(1).padStart(7)} ms  ${name}\n`);
} finally {
  await browser.close();
  await server.close();
}
