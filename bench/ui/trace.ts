// The cost of producing each frame, from a Chromium trace of the page's main thread.
//
// A rAF interval cannot be shorter than one vsync (16.7 ms at 60 Hz), so "p95 frame under 16 ms" has to mean the
// time the main thread spends producing a frame, not the interval between frames. Here a frame is the span from
// one requestAnimationFrame callback (FireAnimationFrame, kept running every frame by the measuring loop) to the
// next, and its cost is the main-thread time inside that span spent in top-level tasks (script, style, layout,
// paint and commit alike; nested trace events are merged, so nothing is counted twice). An idle frame costs a
// millisecond or two; a frame that an update's 60 ms task falls into costs at least 60 ms, because the next
// callback cannot run until the task ends. A frame that costs under 16.7 ms makes its vsync.
import type { Browser, Page } from '@playwright/test';
import { percentile } from './frames';

// Only what the cost needs: the detailed timeline categories slow the page they measure.
export const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline'];

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  cat?: string;
  args?: { name?: string };
}

export interface FrameCost {
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Frames whose cost exceeds one 60 Hz interval. */
  over16: number;
  /** The longest single top-level task, and how many exceeded 50 ms (a long task). */
  maxTask: number;
  tasksOver50: number;
}

const TASK_NAMES = new Set(['ThreadControllerImpl::RunTask', 'RunTask']);

/** Runs `body` under a trace of the page and returns the per-frame main-thread cost over that time. */
export async function traceFrameCost<T>(browser: Browser, page: Page, body: () => Promise<T>): Promise<{ result: T; cost: FrameCost }> {
  await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  let result: T;
  let buffer: Buffer;
  try {
    result = await body();
  } finally {
    buffer = await browser.stopTracing();
  }
  const parsed = JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
  return { result, cost: frameCost(events) };
}

export function frameCost(events: TraceEvent[]): FrameCost {
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  // The page's main thread: the renderer main thread that ran the measuring loop's callbacks.
  const rafCount = new Map<string, number>();
  for (const e of events) {
    const id = `${e.pid}:${e.tid}`;
    if (e.name === 'FireAnimationFrame' && mains.has(id)) rafCount.set(id, (rafCount.get(id) ?? 0) + 1);
  }
  const main = [...rafCount.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const on = events.filter((e) => `${e.pid}:${e.tid}` === main);
  const frameStarts = [...new Set(on.filter((e) => e.name === 'FireAnimationFrame').map((e) => e.ts))].sort((a, b) => a - b);
  // Busy intervals: top-level tasks, merged.
  const tasks = on
    .filter((e) => e.ph === 'X' && TASK_NAMES.has(e.name) && typeof e.dur === 'number')
    .map((e) => [e.ts, e.ts + (e.dur as number)] as [number, number])
    .sort((a, b) => a[0] - b[0]);
  const busy: [number, number][] = [];
  for (const t of tasks) {
    const last = busy[busy.length - 1];
    if (last && t[0] <= last[1]) last[1] = Math.max(last[1], t[1]);
    else busy.push([...t]);
  }
  const taskMs = busy.map(([a, b]) => (b - a) / 1000);
  const costs: number[] = [];
  let j = 0;
  for (let i = 0; i + 1 < frameStarts.length; i++) {
    const [from, to] = [frameStarts[i], frameStarts[i + 1]];
    while (j < busy.length && busy[j][1] <= from) j++;
    let sum = 0;
    for (let k = j; k < busy.length && busy[k][0] < to; k++) sum += Math.min(to, busy[k][1]) - Math.max(from, busy[k][0]);
    costs.push(sum / 1000);
  }
  const sorted = [...costs].sort((a, b) => a - b);
  return {
    frames: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    over16: costs.filter((c) => c > 16.7).length,
    maxTask: taskMs.length ? Math.max(...taskMs) : 0,
    tasksOver50: taskMs.filter((t) => t > 50).length,
  };
}

export const fmtCost = (c: FrameCost): string =>
  `frame cost p50 ${c.p50.toFixed(1)} ms, p95 ${c.p95.toFixed(1)} ms, p99 ${c.p99.toFixed(1)} ms, max ${c.max.toFixed(1)} ms, over 16.7 ms ${c.over16} of ${c.frames}; longest task ${c.maxTask.toFixed(1)} ms, tasks over 50 ms ${c.tasksOver50}`;
