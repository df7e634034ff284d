// A metric over time as a uPlot line chart, IST on the x axis, with the plan's threshold drawn across it.
import { useMemo } from 'react';
import uPlot from 'uplot';
import type { MetricPoint } from '../../../shared/api';
import { fitWindow } from './chartWindow';
import { Chart, CHART_COLORS, darkAxis, istAxisValues, istHoverTime, istTzDate, type Threshold } from '../../components/Chart';

export interface Line {
  label: string;
  points: MetricPoint[];
  color: string;
  /** Scale each value (e.g. ratio -> percent). */
  map?: (v: number) => number;
  bars?: boolean;
}

/** Aligns several series on one sorted time axis (seconds, as uPlot wants), null where a series has no point. */
export function alignSeries(lines: { points: MetricPoint[]; map?: (v: number) => number }[]): uPlot.AlignedData {
  const times = [...new Set(lines.flatMap((l) => l.points.map((p) => p.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const ys = lines.map((l) => {
    const y: (number | null)[] = new Array(times.length).fill(null);
    for (const p of l.points) y[index.get(p.t) as number] = p.v === null ? null : l.map ? l.map(p.v) : p.v;
    return y;
  });
  return [times.map((t) => t / 1000), ...ys];
}

export function TimeChart({
  title,
  lines,
  unit,
  thresholds,
  height = 180,
  testId,
  yMin,
  yMax,
  window: span,
  note,
  stepSeconds,
}: {
  title: string;
  lines: Line[];
  unit: string;
  thresholds?: Threshold[];
  height?: number;
  testId?: string;
  yMin?: number;
  yMax?: number;
  window?: { from: string; to: string };
  note?: string;
  stepSeconds?: number;
}) {
  const layout = lines.map((l) => `${l.label}|${l.color}|${l.bars ? 1 : 0}`).join(';');
  const thresholdMax = Math.max(0, ...(thresholds ?? []).map((t) => t.value));
  const data = alignSeries(lines);
  const times = data[0] as number[];
  // The x range fits the data inside the summary's window (set on the live chart, no rebuild per refresh).
  // Only instants where some series has a value count: main sends every step of the window, most of them null.
  const valued = times.filter((_t, i) => data.slice(1).some((ys) => ys[i] != null));
  const xRange = span ? fitWindow(valued, Date.parse(span.from) / 1000, Date.parse(span.to) / 1000, stepSeconds) : null;
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(() => {
    const specs = layout.split(';').map((s) => s.split('|'));
    return {
      tzDate: istTzDate,
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: true },
        // Keep the threshold in view even when every value is far below it.
        y: { range: (_u, min, max) => [yMin ?? Math.min(0, min ?? 0), yMax ?? Math.max(max ?? 1, thresholdMax * 1.1, 1)] },
      },
      // space: at least 80 px between time labels, so "14:30" and its date line never collide.
      axes: [darkAxis({ values: istAxisValues, space: 80 }), darkAxis({ label: unit, size: 56, space: 30 })],
      series: [
        { label: 'IST', value: istHoverTime },
        ...specs.map(([label, color, bars]) => ({
          label,
          stroke: color,
          fill: bars === '1' ? `${color}66` : undefined,
          width: bars === '1' ? 1 : 2,
          // Per-cycle series (a backfill cycle every few minutes) are sparse: join their points and mark each.
          spanGaps: true,
          points: { show: true, size: 4 },
          paths: bars === '1' ? uPlot.paths.bars?.({ size: [0.8, 40] }) : undefined,
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : `${Number.isInteger(v) ? v : v.toFixed(2)} ${unit}`),
        })),
      ],
    };
  }, [layout, unit, thresholdMax, yMin, yMax]);
  const empty = valued.length === 0;
  return (
    <div className="chart-card">
      <h3>{title}</h3>
      {note && <p className="small muted chart-note">{note}</p>}
      {empty ? (
        <p className="muted small chart-empty">No data in this window yet.</p>
      ) : (
        <Chart options={options} data={data} height={height} thresholds={thresholds} label={title} testId={testId} xRange={xRange} />
      )}
    </div>
  );
}

export { CHART_COLORS };
