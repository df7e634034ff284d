// Pure helpers of the metrics charts (tested without a DOM).

/**
 * The x range: the data's own span (padded by a step each side, at least 30 minutes wide, ending at the window's
 * end), not a fixed 6 hours with all the points squeezed against the right edge.
 */
export function fitWindow(times: number[], windowFrom: number, windowTo: number, stepSeconds = 60): [number, number] {
  if (times.length === 0) return [windowFrom, windowTo];
  const first = Math.min(...times);
  const last = Math.max(...times);
  // One bucket each side: 15 s on a 15-minute window, a minute on the longer ones.
  const pad = stepSeconds;
  const to = Math.max(last + pad, Math.min(windowTo, last + 5 * 60));
  const from = Math.max(windowFrom, Math.min(first - pad, to - 30 * 60));
  return [from, to];
}
