// The IV smile (OpenAlgo style): implied volatility by strike, calls solid and puts dashed, one colour per expiry.
import { memo, useMemo } from 'react';
import type uPlot from 'uplot';
import type { ExpirySeries } from '../../../shared/api';
import { Chart, CHART_COLORS, darkAxis } from '../../components/Chart';
import { fmtInt } from '../../format/numbers';
import { fmtExpiry } from '../../format/time';
import { smileData } from './chainModel';

const EXPIRY_COLORS = [CHART_COLORS.accent, CHART_COLORS.amber, CHART_COLORS.violet, '#4dd0e1', '#f06292', '#aed581'];

/** One line per expiry and side, in smileData's order (CE then PE for each expiry). */
function smileOptions(expiryKey: string): Omit<uPlot.Options, 'width' | 'height'> {
  const expiries = expiryKey ? expiryKey.split('|') : [];
  const lines = expiries.flatMap((e) => [`${e}CE`, `${e}PE`]);
  return {
    scales: { x: { time: false }, y: { auto: true } },
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    axes: [
      darkAxis({ values: (_u, splits) => splits.map((v) => fmtInt(v)) }),
      darkAxis({ label: 'IV %', size: 50, values: (_u, splits) => splits.map((v) => v.toFixed(1)) }),
    ],
    series: [
      { label: 'Strike', value: (_u, v) => (v == null ? '–' : fmtInt(v)) },
      ...lines.map((l) => {
        const expiry = l.slice(0, 10);
        const side = l.slice(10);
        // One expiry: calls red and puts green, as on the ladder; several: one colour per expiry.
        const color =
          expiries.length === 1 ? (side === 'CE' ? CHART_COLORS.call : CHART_COLORS.put) : EXPIRY_COLORS[expiries.indexOf(expiry) % EXPIRY_COLORS.length];
        return {
          label: `${fmtExpiry(expiry)} ${side}`,
          stroke: color,
          width: 2,
          dash: side === 'PE' ? [6, 4] : undefined,
          spanGaps: true,
          points: { show: true, size: 4 },
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : `${v.toFixed(2)}%`),
        } satisfies uPlot.Series;
      }),
    ],
  };
}

export const IvSmile = memo(function IvSmile({ series }: { series: ExpirySeries[] }) {
  const smile = smileData(series);
  const expiryKey = series.map((s) => s.expiry).join('|');
  const atm = series[0]?.atm_strike ?? null;

  const options = useMemo(() => smileOptions(expiryKey), [expiryKey]);

  const data: uPlot.AlignedData = [smile.strikes, ...smile.lines.map((l) => l.iv)];
  const hasIv = smile.lines.some((l) => l.iv.some((v) => v !== null));

  return (
    <section className="panel smile-panel" aria-labelledby="smile-title">
      <header className="panel-head">
        <h2 id="smile-title">IV smile</h2>
        <span className="small muted">calls solid, puts dashed{atm !== null ? ` · ATM ${fmtInt(atm)}` : ''} · illiquid ◌ and stale ‖ legs left out</span>
      </header>
      {hasIv ? (
        <Chart options={options} data={data} height={220} label="Implied volatility by strike" testId="iv-smile" />
      ) : (
        <p className="muted">No IV from liquid, live legs yet: the smile draws as bars arrive.</p>
      )}
    </section>
  );
});
