// Label placement for the uPlot charts, kept pure (no canvas, no DOM) so the rules that stop labels overlapping
// each other are unit-tested.

/**
 * Spreads tag centres (sorted, in px) at least `min` apart, kept inside [lo, hi]: two close thresholds get two
 * readable tags instead of one smudge. Pure, so it is unit-tested.
 */
export function spreadTags(ys: number[], min: number, lo: number, hi: number): number[] {
  const order = ys.map((y, i) => ({ y: Math.min(hi, Math.max(lo, y)), i })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < order.length; k++) order[k].y = Math.max(order[k].y, order[k - 1].y + min);
  // Pushed past the bottom: shift the run back up from the end.
  for (let k = order.length - 1; k >= 0; k--) {
    const cap = k === order.length - 1 ? hi : order[k + 1].y - min;
    order[k].y = Math.min(order[k].y, cap);
  }
  const out = new Array<number>(ys.length);
  for (const o of order) out[o.i] = o.y;
  return out;
}

/** Bucket labels ("≤120s") need about this much room each at 11 px, with a gap, to never touch a neighbour. */
const LABEL_ROOM_PX = 44;

/** Show every n-th bucket label so that labels are at least LABEL_ROOM_PX apart at this plot width (CSS px). */
export function labelEvery(count: number, plotWidthPx: number): number {
  if (count <= 0 || plotWidthPx <= 0) return 1;
  return Math.max(1, Math.ceil(LABEL_ROOM_PX / (plotWidthPx / count)));
}
