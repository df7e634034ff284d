// Time-to-data histogram as uPlot bars: one bar per bucket (upper bound in seconds, per-bucket counts as main
// sends them), the buckets past the alert threshold in red, and the observations beyond the last bound as "more".
import { useMemo } from 'react';
import uPlot from 'uplot';
import { Chart, CHART_COLORS, darkAxis } from '../../components/Chart';
import { labelEvery } from '../../components/chartLabels';

export interface Bar {
  label: string;
  count: number;
  /** At or past the alert threshold. */
  late: boolean;
}

/** Bars from per-bucket counts; `total` (all observations) adds the ones above the last finite bound. */
export function histogramBars(buckets: { le: number; count: number }[], total: number, threshold: number): Bar[] {
  const finite = buckets.filter((b) => Number.isFinite(b.le)).sort((a, b) => a.le - b.le);
  const bars = finite.map((b, i) => ({ label: `≤${b.le}s`, count: b.count, late: (i === 0 ? 0 : finite[i - 1].le) >= threshold }));
  const overflow = total - finite.reduce((a, b) => a + b.count, 0);
  if (finite.length && overflow > 0) bars.push({ label: `>${finite[finite.length - 1].le}s`, count: overflow, late: true });
  return bars;
}

function histogramOptions(_shapeKey: string, names: string[]): Omit<uPlot.Options, 'width' | 'height'> {
  const bars = uPlot.paths.bars?.({ size: [0.75, 40] });
  return {
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, range: (_u, min, max) => [min - 0.6, max + 0.6] } },
    axes: [
      darkAxis({
        splits: () => names.map((_n, i) => i),
        values: (u, splits) => {
          // Thinned by the plot's width, so at 1024 px (two charts a row) the labels still never overlap.
          const every = labelEvery(names.length, u.bbox.width / devicePixelRatio || u.width);
          return splits.map((i) => (i % every === 0 ? (names[i] ?? '') : ''));
        },
      }),
      darkAxis({ label: 'instruments', size: 56 }),
    ],
    series: [
      {},
      { label: 'on time', stroke: CHART_COLORS.accent, fill: `${CHART_COLORS.accent}99`, paths: bars, points: { show: false } },
      { label: 'late', stroke: CHART_COLORS.call, fill: `${CHART_COLORS.call}99`, paths: bars, points: { show: false } },
    ],
  };
}

export function Histogram({ title, buckets, threshold, total }: { title: string; buckets: { le: number; count: number }[]; threshold: number; total: number }) {
  const bars = histogramBars(buckets, total, threshold);
  // The chart is rebuilt only when its bars change (bounds, or the overflow bar appearing), not on every refetch.
  const shapeKey = `${buckets.map((b) => b.le).join(',')};${total > buckets.reduce((a, b) => a + b.count, 0)}`;
  const options = useMemo(
    () =>
      histogramOptions(
        shapeKey,
        bars.map((b) => b.label),
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [shapeKey],
  );
  const data: uPlot.AlignedData = [bars.map((_b, i) => i), bars.map((b) => (b.late ? null : b.count)), bars.map((b) => (b.late ? b.count : null))];
  const late = bars.filter((b) => b.late).reduce((a, b) => a + b.count, 0);
  return (
    <div className="chart-card">
      <h3>{title}</h3>
      {bars.every((b) => b.count === 0) ? (
        <p className="muted small chart-empty">No instrument has waited for data in this window.</p>
      ) : (
        <>
          <Chart options={options} data={data} height={180} label={title} testId="chart-ttd-histogram" />
          <p className="small muted">
            {late} of {total} past the {threshold} s alert (red).
          </p>
        </>
      )}
    </div>
  );
}
