// uPlot in React: the chart is built once per `options` identity and fed new data with setData, which is what keeps
// second-by-second updates cheap. Threshold lines (the plan's alert levels) are drawn by a small plugin.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useTheme } from '../app/theme';

export interface Threshold {
  value: number;
  label: string;
  scale?: string;
  /** Which side is bad, for the dashed line's colour hint. */
  color?: string;
}

export const CHART_COLORS = {
  axis: '#9aa4b2',
  grid: 'rgba(154, 164, 178, 0.12)',
  call: '#ef5350',
  put: '#26a69a',
  accent: '#5c9dff',
  amber: '#f0b429',
  violet: '#b388ff',
};

export const darkAxis = (extra: uPlot.Axis = {}): uPlot.Axis => ({
  stroke: CHART_COLORS.axis,
  grid: { stroke: CHART_COLORS.grid, width: 1 },
  ticks: { stroke: CHART_COLORS.grid, width: 1 },
  font: '11px system-ui, sans-serif',
  ...extra,
});

/** IST on every time axis, whatever the machine's zone. */
export const istTzDate = (ts: number): Date => uPlot.tzDate(new Date(ts * 1e3), 'Asia/Kolkata');

const istTick = new Intl.DateTimeFormat('en-IN', { timeZone: 'Asia/Kolkata', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const istDay = new Intl.DateTimeFormat('en-IN', { timeZone: 'Asia/Kolkata', day: '2-digit', month: 'short' });

const istHover = new Intl.DateTimeFormat('en-IN', {
  timeZone: 'Asia/Kolkata',
  day: '2-digit',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
/** The legend's time on hover: IST, 24-hour ("27 Nov, 14:35"), never the machine's zone or a 12-hour clock. */
export const istHoverTime = (_u: uPlot, v: number | null): string => (v == null ? '–' : `${istHover.format(new Date(v * 1000))} IST`);

/** Axis and grid colours of the current theme, read from CSS so a theme switch needs no code path per chart. */
function themedAxes(axes: uPlot.Axis[] | undefined): uPlot.Axis[] | undefined {
  if (!axes) return axes;
  const css = getComputedStyle(document.documentElement);
  const axis = css.getPropertyValue('--chart-axis').trim() || CHART_COLORS.axis;
  const grid = css.getPropertyValue('--chart-grid').trim() || CHART_COLORS.grid;
  return axes.map((a) => ({ ...a, stroke: axis, grid: { ...a.grid, stroke: grid }, ticks: { ...a.ticks, stroke: grid } }));
}

/** Time-axis labels in IST, 24-hour, with the date under the first tick of each day ("14:30\n27 Nov"). */
export const istAxisValues = (_u: uPlot, splits: number[]): string[] => {
  let lastDay = '';
  return splits.map((s) => {
    const at = new Date(s * 1000);
    const day = istDay.format(at);
    const label = istTick.format(at);
    if (day === lastDay) return label;
    lastDay = day;
    return `${label}\n${day}`;
  });
};

/** Reads the thresholds on every draw, so editing them needs a redraw, not a rebuild. */
function thresholdPlugin(current: () => Threshold[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const { ctx, bbox } = u;
        for (const t of current()) {
          const y = u.valToPos(t.value, t.scale ?? 'y', true);
          if (!Number.isFinite(y) || y < bbox.top || y > bbox.top + bbox.height) continue;
          ctx.save();
          ctx.strokeStyle = t.color ?? CHART_COLORS.amber;
          ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = t.color ?? CHART_COLORS.amber;
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.textAlign = 'right';
          // Above the line, unless that would leave the plot (a threshold near the top of the scale).
          const labelY = y - 16 * devicePixelRatio < bbox.top ? y + 14 * devicePixelRatio : y - 4 * devicePixelRatio;
          ctx.fillText(t.label, bbox.left + bbox.width - 4 * devicePixelRatio, labelY);
          ctx.restore();
        }
      },
    },
  };
}

export interface ChartProps {
  /** Build with useMemo: a new identity rebuilds the chart. */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height: number;
  thresholds?: Threshold[];
  label: string;
  testId?: string;
  /** Fixed x range [min, max] (seconds), re-applied after each data update; otherwise the data's extent. */
  xRange?: [number, number] | null;
}

export function Chart({ options, data, height, thresholds, label, testId, xRange }: ChartProps) {
  const theme = useTheme();
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  const thresholdsRef = useRef<Threshold[]>(thresholds ?? []);
  const rangeRef = useRef<[number, number] | null>(xRange ?? null);

  useEffect(() => {
    latest.current = data;
    thresholdsRef.current = thresholds ?? [];
    rangeRef.current = xRange ?? null;
  });

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const plugin = thresholdPlugin(() => thresholdsRef.current);
    const chart = new uPlot(
      { ...options, axes: themedAxes(options.axes), width: Math.max(200, el.clientWidth), height, plugins: [...(options.plugins ?? []), plugin] },
      latest.current,
      el,
    );
    plot.current = chart;
    if (rangeRef.current) chart.setScale('x', { min: rangeRef.current[0], max: rangeRef.current[1] });
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [options, height, theme]);

  const [xMin, xMax] = xRange ?? [null, null];
  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    chart.setData(data, xMin === null);
    if (xMin !== null && xMax !== null) chart.setScale('x', { min: xMin, max: xMax });
  }, [data, xMin, xMax]);

  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [thresholds]);

  return <div ref={holder} className="chart" role="img" aria-label={label} data-testid={testId} />;
}
