// A clicked strike opens here, not a silent re-centre: both legs' numbers side by side (with units, age and
// liquidity) and call / put OI over time from chain:strikeHistory. Re-centring the chain is a deliberate button,
// because it subscribes the legs around the new centre.
import { useMemo } from 'react';
import type uPlot from 'uplot';
import type { ExpirySeries, StrikeHistory, StrikeLeg, Timeframe } from '../../../shared/api';
import { useStrikeHistory } from '../../api/chain';
import { Chart, CHART_COLORS, darkAxis, istAxisValues, istHoverTime, istTzDate } from '../../components/Chart';
import { Dialog } from '../../components/Dialog';
import { ErrorPanel, Loading } from '../../components/States';
import { fmtChange, fmtGreekOf, fmtInt, fmtIv, fmtL, fmtPrice, fmtShortAge, fmtSignedL } from '../../format/numbers';
import { fmtExpiry, istTime } from '../../format/time';
import { BASIS_LABEL } from './ChainControls';
import { legAgeMs } from './chainModel';

export interface StrikePick {
  expiry: string;
  strike: number;
}

export function StrikeDetail(props: { symbol: string; pick: StrikePick; series: ExpirySeries | undefined; timeframe: Timeframe; now: number; onClose: () => void; onCentre: (strike: number) => void }) {
  const { pick, series } = props;
  const call = series?.call.find((l) => l.strike === pick.strike) ?? null;
  const put = series?.put.find((l) => l.strike === pick.strike) ?? null;
  const history = useStrikeHistory({ symbol: props.symbol, expiry: pick.expiry, strike: pick.strike, timeframe: props.timeframe === '1min' ? '5min' : props.timeframe });
  return (
    <Dialog title={`${props.symbol} ${fmtInt(pick.strike)} · ${fmtExpiry(pick.expiry)}`} open onClose={props.onClose} labelId="strike-detail-title">
      <div className="strike-detail" data-testid="strike-detail" data-strike={pick.strike}>
        <table className="table legs-table">
          <caption className="sr-only">Both legs of the strike</caption>
          <thead>
            <tr>
              <th scope="col">Figure</th>
              <th scope="col" className="num call-text">
                Call (CE)
              </th>
              <th scope="col" className="num put-text">
                Put (PE)
              </th>
            </tr>
          </thead>
          <tbody>
            {LEG_ROWS.map((r) => (
              <tr key={r.label}>
                <th scope="row">{r.label}</th>
                <td className="num">{call ? r.cell(call, props.now) : '–'}</td>
                <td className="num">{put ? r.cell(put, props.now) : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="small muted">
          ΔOI against {series ? (BASIS_LABEL[series.oi_change_basis] ?? series.oi_change_basis) : '–'}; market depth is not part of the console’s chain data.
        </p>
        <h3>Open interest over time</h3>
        {history.isPending && history.fetchStatus !== 'idle' && <Loading what="the strike’s OI history" />}
        {history.isError && <ErrorPanel error={history.error} what="the strike’s OI history" onRetry={() => void history.refetch()} retrying={history.isFetching} />}
        {history.data && <OiHistoryChart history={history.data} />}
      </div>
      <div className="dialog-actions">
        <button type="button" onClick={() => props.onCentre(pick.strike)} title="Re-centre the ladder here (subscribes the strikes around it)">
          Centre the chain here
        </button>
        <button type="button" className="primary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

const LEG_ROWS: { label: string; cell: (leg: StrikeLeg, now: number) => string }[] = [
  { label: 'LTP', cell: (l) => fmtPrice(l.ltp) },
  { label: 'Change (%)', cell: (l) => fmtChange(l.ltp_change, l.ltp_change_pct) },
  { label: 'Last trade', cell: (l, now) => (l.last_trade_at ? `${istTime(l.last_trade_at)} (${fmtShortAge(legAgeMs(l, now))} ago)` : '–') },
  { label: 'OI (lakh)', cell: (l) => fmtL(l.oi) },
  { label: 'ΔOI (lakh)', cell: (l) => fmtSignedL(l.oi_change) },
  { label: 'Day volume (lakh)', cell: (l) => fmtL(l.day_volume) },
  { label: 'Bar volume', cell: (l) => fmtInt(l.volume) },
  { label: 'IV %', cell: (l) => fmtIv(l.iv) },
  { label: 'Delta', cell: (l) => fmtGreekOf('delta', l.delta) },
  { label: 'Gamma', cell: (l) => fmtGreekOf('gamma', l.gamma) },
  { label: 'Theta (₹/day)', cell: (l) => fmtGreekOf('theta', l.theta) },
  { label: 'Vega (₹/vol pt)', cell: (l) => fmtGreekOf('vega', l.vega) },
  { label: 'Liquidity', cell: (l) => [l.illiquid ? 'illiquid' : 'liquid', l.stale ? 'stale' : ''].filter(Boolean).join(', ') },
  { label: 'State', cell: (l) => `${l.state}${l.token ? ` · token ${l.token}` : ''}` },
];

/** uPlot data for the OI history: time (s), call OI, put OI, in lakh. Exported for tests. */
export function oiHistoryData(history: StrikeHistory): uPlot.AlignedData {
  const points = [...history.points].sort((a, b) => Date.parse(a.bucket_time) - Date.parse(b.bucket_time));
  return [
    points.map((p) => Date.parse(p.bucket_time) / 1000),
    points.map((p) => (p.call_oi === null ? null : p.call_oi / 1e5)),
    points.map((p) => (p.put_oi === null ? null : p.put_oi / 1e5)),
  ];
}

function OiHistoryChart({ history }: { history: StrikeHistory }) {
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      tzDate: istTzDate,
      legend: { show: true },
      scales: { x: { time: true } },
      axes: [darkAxis({ values: istAxisValues, space: 70 }), darkAxis({ label: 'OI (lakh)', size: 56 })],
      series: [
        { label: 'IST', value: istHoverTime },
        { label: 'Call OI', stroke: CHART_COLORS.call, width: 2, spanGaps: true, value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} L`) },
        { label: 'Put OI', stroke: CHART_COLORS.put, width: 2, spanGaps: true, value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} L`) },
      ],
    }),
    [],
  );
  if (history.points.length === 0) return <p className="muted">No bars for this strike yet.</p>;
  return <Chart options={options} data={oiHistoryData(history)} height={200} label={`Call and put OI of ${history.strike} over time`} testId="strike-oi-history" />;
}
