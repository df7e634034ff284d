// Time-to-data histogram as uPlot bars: one bar per bucket upper bound (seconds), the alert threshold marked.
import { useMemo } from 'react';
import uPlot from 'uplot';
import { Chart, CHART_COLORS, darkAxis } from '../../components/Chart';

/**
 * Buckets as the summary sends them ({le, count}). Prometheus-style cumulative counts (never decreasing, the last
 * one the total) are turned into per-bucket counts so the bars show the distribution.
 */
export function perBucket(buckets: { le: number; count: number }[], total?: number): { le: number; count: number }[] {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const cumulative = total !== undefined && sorted.length > 1 && sorted.every((b, i) => i === 0 || b.count >= sorted[i - 1].count) && sorted[sorted.length - 1].count === total;
  if (!cumulative) return sorted;
  return sorted.map((b, i) => ({ le: b.le, count: b.count - (i === 0 ? 0 : sorted[i - 1].count) }));
}

function histogramOptions(boundsKey: string): Omit<uPlot.Options, 'width' | 'height'> {
  const names = boundsKey
    .split(',')
    .map(Number)
    .filter(Number.isFinite)
    .sort((a, b) => a - b)
    .map((le) => `≤${le}s`);
  return {
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] } },
    axes: [darkAxis({ values: (_u, splits) => splits.map((i) => names[i] ?? '') , splits: () => names.map((_n, i) => i) }), darkAxis({ label: 'instruments', size: 56 })],
    series: [{}, { label: 'instruments', stroke: CHART_COLORS.accent, fill: `${CHART_COLORS.accent}88`, paths: uPlot.paths.bars?.({ size: [0.7, 60] }), points: { show: false } }],
  };
}

export function Histogram({ title, buckets, threshold, total }: { title: string; buckets: { le: number; count: number }[]; threshold: number; total?: number }) {
  const bars = perBucket(buckets, total).filter((b) => Number.isFinite(b.le));
  const labels = bars.map((b) => `≤${b.le}s`);
  const boundsKey = buckets.filter((b) => Number.isFinite(b.le)).map((b) => b.le).join(',');
  const thresholdIndex = bars.findIndex((b) => b.le >= threshold);
  const options = useMemo(() => histogramOptions(boundsKey), [boundsKey]);
  const data: uPlot.AlignedData = [bars.map((_b, i) => i), bars.map((b) => b.count)];
  return (
    <div className="chart-card">
      <h3>{title}</h3>
      {bars.length === 0 || bars.every((b) => b.count === 0) ? (
        <p className="muted small chart-empty">No instrument has waited for data in this window.</p>
      ) : (
        <>
          <Chart options={options} data={data} height={180} label={title} testId="chart-ttd-histogram" />
          <p className="small muted">{thresholdIndex >= 0 ? `Bars from ${labels[thresholdIndex]} on are at or past the ${threshold} s alert.` : ''}</p>
        </>
      )}
    </div>
  );
}
