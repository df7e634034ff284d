// Frame timing inside the page with the Performance API: requestAnimationFrame deltas and long tasks.
import type { Page } from '@playwright/test';

export interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Frames that took longer than one 60 Hz interval plus slack (a dropped frame). */
  over16: number;
  longTasks: number;
  longTaskMs: number;
}

export const percentile = (sorted: number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/** Records rAF deltas and long tasks for `ms`, then returns the statistics. */
export async function measureFrames(page: Page, ms: number): Promise<FrameStats> {
  const raw = (await page.evaluate(`new Promise((done) => {
    const deltas = [];
    const longTasks = [];
    let observer = null;
    try {
      observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
      observer.observe({ type: 'longtask', buffered: false });
    } catch {}
    let last = null;
    const end = performance.now() + ${ms};
    const frame = (t) => {
      if (last !== null) deltas.push(t - last);
      last = t;
      if (t < end) requestAnimationFrame(frame);
      else { if (observer) observer.disconnect(); done({ deltas, longTasks }); }
    };
    requestAnimationFrame(frame);
  })`)) as { deltas: number[]; longTasks: number[] };
  const sorted = [...raw.deltas].sort((a, b) => a - b);
  return {
    frames: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    over16: raw.deltas.filter((d) => d > 16.7 * 1.5).length,
    longTasks: raw.longTasks.length,
    longTaskMs: raw.longTasks.reduce((a, b) => a + b, 0),
  };
}

export const fmtStats = (s: FrameStats): string =>
  `frames ${s.frames}, p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, dropped ${s.over16}, long tasks ${s.longTasks} (${s.longTaskMs.toFixed(0)} ms)`;
