// uPlot in React: the chart is built once per `options` identity and fed new data with setData, which is what keeps
// second-by-second updates cheap. Threshold lines (the plan's alert levels) are drawn by a small plugin.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useTheme } from '../app/theme';
import { spreadTags } from './chartLabels';

export interface Threshold {
  value: number;
  label: string;
  scale?: string;
  /** Which side is bad, for the dashed line's colour hint. */
  color?: string;
  /** The short text drawn in the right gutter at the line ("95%"); the level itself when absent. */
  tag?: string;
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

const TAG_FONT_PX = 11;
const TAG_GAP_PX = 4;
/** The tag's default text: the level itself, short enough for the gutter; the full words go in the legend. */
export const thresholdTag = (t: Threshold): string => t.tag ?? String(Number.isInteger(t.value) ? t.value : Number(t.value.toFixed(2)));

/** Width of the right gutter that holds the threshold tags: the widest tag plus its gap, at least 36 px. */
let measure: CanvasRenderingContext2D | null | undefined;
export function gutterWidth(thresholds: Threshold[]): number {
  if (!thresholds.length) return 0;
  // One off-screen context for every chart and render (Metrics re-renders on each refetch).
  if (measure === undefined) measure = document.createElement('canvas').getContext('2d');
  const ctx = measure;
  if (!ctx) return 64;
  ctx.font = `${TAG_FONT_PX}px system-ui, sans-serif`;
  return Math.max(36, Math.ceil(Math.max(...thresholds.map((t) => ctx.measureText(thresholdTag(t)).width))) + 2 * TAG_GAP_PX + 2);
}

/** A tag's box in CSS pixels, relative to the chart's canvas (what the e2e overlap check reads). */
export interface TagBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The call and put colours follow the theme (darker on the light theme, so a gutter tag stays readable). */
function themedColor(color: string, css: CSSStyleDeclaration | null): string {
  const name = color === CHART_COLORS.call ? '--call' : color === CHART_COLORS.put ? '--put' : null;
  return (name && css?.getPropertyValue(name).trim()) || color;
}

/**
 * Threshold lines: a dashed line across the plot and a short tag ("95%") in the right gutter at the line's height.
 * The gutter is padding outside the plot, so a tag can never sit on a plotted line; the full words ("alert below
 * 95%") are in the legend under the chart. Reads the thresholds on every draw, so editing them needs a redraw.
 */
function thresholdPlugin(current: () => Threshold[], holder: HTMLElement): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const { ctx, bbox } = u;
        const dpr = devicePixelRatio;
        const shown = current()
          .map((t) => ({ t, y: u.valToPos(t.value, t.scale ?? 'y', true) }))
          .filter(({ y }) => Number.isFinite(y) && y >= bbox.top && y <= bbox.top + bbox.height);
        const half = (TAG_FONT_PX / 2 + 1) * dpr;
        const tagYs = spreadTags(
          shown.map((s) => s.y),
          (TAG_FONT_PX + 3) * dpr,
          half,
          ctx.canvas.height - half,
        );
        const boxes: TagBox[] = [];
        const css = shown.length ? getComputedStyle(document.documentElement) : null;
        shown.forEach(({ t, y }, i) => {
          const color = themedColor(t.color ?? CHART_COLORS.amber, css);
          ctx.save();
          ctx.strokeStyle = color;
          ctx.setLineDash([6 * dpr, 4 * dpr]);
          ctx.lineWidth = 1.5 * dpr;
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = color;
          ctx.font = `${TAG_FONT_PX * dpr}px system-ui, sans-serif`;
          ctx.textAlign = 'left';
          ctx.textBaseline = 'middle';
          const text = thresholdTag(t);
          const x = bbox.left + bbox.width + TAG_GAP_PX * dpr;
          ctx.fillText(text, x, tagYs[i]);
          const w = ctx.measureText(text).width;
          boxes.push({ x: x / dpr, y: tagYs[i] / dpr - TAG_FONT_PX / 2, w: w / dpr, h: TAG_FONT_PX });
          ctx.restore();
        });
        holder.dataset.thresholdTags = JSON.stringify(boxes);
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
  const shown = thresholds ?? [];
  // Rebuilt only when the widest tag needs a different gutter, not on every threshold edit.
  const gutter = gutterWidth(shown);

  useEffect(() => {
    latest.current = data;
    thresholdsRef.current = thresholds ?? [];
    rangeRef.current = xRange ?? null;
  });

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const plugin = thresholdPlugin(() => thresholdsRef.current, el);
    // A chart with thresholds keeps a right gutter for their tags, outside the plot.
    const padding: uPlot.Padding | undefined = gutter > 0 ? [null, gutter, null, null] : options.padding;
    const chart = new uPlot(
      { ...options, padding, axes: themedAxes(options.axes), width: Math.max(200, el.clientWidth), height, plugins: [...(options.plugins ?? []), plugin] },
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
  }, [options, height, theme, gutter]);

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

  return (
    <>
      <div ref={holder} className="chart" role="img" aria-label={label} data-testid={testId} />
      {shown.length > 0 && (
        <ul className="threshold-legend" aria-label={`${label}: thresholds`} data-testid={testId ? `${testId}-thresholds` : undefined}>
          {shown.map((t) => (
            <li key={`${t.label}|${t.value}`}>
              <span
                className={`threshold-swatch${t.color === CHART_COLORS.call ? ' call' : t.color === CHART_COLORS.put ? ' put' : ''}`}
                style={t.color === CHART_COLORS.call || t.color === CHART_COLORS.put ? undefined : { borderTopColor: t.color ?? CHART_COLORS.amber }}
                aria-hidden="true"
              />
              {t.label}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
