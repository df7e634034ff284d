// A clicked strike opens here, not a silent re-centre: both legs' numbers side by side (with units, age and
// liquidity) and call / put OI over time from chain:strikeHistory. Re-centring the chain is a deliberate button,
// because it subscribes the legs around the new centre.
import { useMemo } from 'react';
import type uPlot from 'uplot';
import type { ExpirySeries, InstrumentQuote, StrikeHistory, StrikeLeg, Timeframe } from '../../../shared/api';
import { useChainQuote, useStrikeHistory } from '../../api/chain';
import { Chart, CHART_COLORS, darkAxis, istAxisValues, istHoverTime, istTzDate } from '../../components/Chart';
import { Dialog } from '../../components/Dialog';
import { ErrorPanel, Loading } from '../../components/States';
import { fmtChange, fmtGreekOf, fmtInt, fmtIv, fmtL, fmtPrice, fmtShortAge, fmtSignedL } from '../../format/numbers';
import { fmtExpiry, istTime } from '../../format/time';
import { BASIS_LABEL } from './ChainControls';
import { legAgeMs } from './chainModel';
import { depthRows, spreadOf } from './quoteModel';

export interface StrikePick {
  expiry: string;
  strike: number;
}

export function StrikeDetail(props: {
  symbol: string;
  pick: StrikePick;
  series: ExpirySeries | undefined;
  timeframe: Timeframe;
  now: number;
  onClose: () => void;
  onCentre: (strike: number) => void;
}) {
  const { pick, series } = props;
  const call = series?.call.find((l) => l.strike === pick.strike) ?? null;
  const put = series?.put.find((l) => l.strike === pick.strike) ?? null;
  const history = useStrikeHistory({
    symbol: props.symbol,
    expiry: pick.expiry,
    strike: pick.strike,
    timeframe: props.timeframe === '1min' ? '5min' : props.timeframe,
  });
  const tokens = [call?.token, put?.token].filter((t): t is number => typeof t === 'number');
  const quote = useChainQuote(tokens.length > 0 ? { symbol: props.symbol, tokens } : null, 2_000);
  const quoteOf = (token: number | null | undefined) => (token == null ? undefined : quote.data?.quotes.find((q) => q.token === token));
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
        <p className="small muted">ΔOI against {series ? (BASIS_LABEL[series.oi_change_basis] ?? series.oi_change_basis) : '–'}.</p>
        <h3>Market depth (latest tick)</h3>
        {quote.isError && <ErrorPanel error={quote.error} what="the strike’s market depth" onRetry={() => void quote.refetch()} retrying={quote.isFetching} />}
        <div className="depth-pair" data-testid="strike-depth">
          <DepthTable title="Call (CE)" side="call" quote={quoteOf(call?.token)} loading={quote.isPending && tokens.length > 0} now={props.now} />
          <DepthTable title="Put (PE)" side="put" quote={quoteOf(put?.token)} loading={quote.isPending && tokens.length > 0} now={props.now} />
        </div>
        <h3>Open interest over time</h3>
        {history.isPending && history.fetchStatus !== 'idle' && <Loading what="the strike’s OI history" />}
        {history.isError && (
          <ErrorPanel error={history.error} what="the strike’s OI history" onRetry={() => void history.refetch()} retrying={history.isFetching} />
        )}
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

/** Five levels, bid and ask side by side as Kite shows them; quantities as the exchange reports them (units). */
function DepthTable({
  title,
  side,
  quote,
  loading,
  now,
}: {
  title: string;
  side: 'call' | 'put';
  quote: InstrumentQuote | undefined;
  loading: boolean;
  now: number;
}) {
  const rows = depthRows(quote?.depth ?? null);
  const spread = spreadOf(quote?.depth ?? null);
  const why = loading
    ? 'loading…'
    : !quote
      ? 'no token for this leg'
      : quote.ltp === null
        ? 'no tick received yet'
        : quote.depth === null
          ? 'the latest tick carried no depth (not FULL mode)'
          : null;
  return (
    <div className="depth-card" data-testid={`depth-${side}`} data-has-depth={quote?.depth ? 'true' : 'false'}>
      <table className="table depth-table">
        <caption className={`${side}-text`}>
          {title} depth
          {quote?.at ? (
            <span className="small muted">
              {' '}
              · tick {istTime(quote.at)} ({fmtShortAge(Math.max(0, now - Date.parse(quote.at)))} ago)
            </span>
          ) : null}
        </caption>
        <thead>
          <tr>
            <th scope="col" className="num">
              Bid qty
            </th>
            <th scope="col" className="num">
              Orders
            </th>
            <th scope="col" className="num">
              Bid
            </th>
            <th scope="col" className="num">
              Ask
            </th>
            <th scope="col" className="num">
              Orders
            </th>
            <th scope="col" className="num">
              Ask qty
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td className="num">{r.bid ? fmtInt(r.bid.quantity) : '–'}</td>
              <td className="num muted">{r.bid ? fmtInt(r.bid.orders) : '–'}</td>
              <td className="num put-text">{r.bid ? fmtPrice(r.bid.price) : '–'}</td>
              <td className="num call-text">{r.ask ? fmtPrice(r.ask.price) : '–'}</td>
              <td className="num muted">{r.ask ? fmtInt(r.ask.orders) : '–'}</td>
              <td className="num">{r.ask ? fmtInt(r.ask.quantity) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted depth-note">
        {why ?? (
          <>
            spread {spread === null ? '–' : fmtPrice(spread)} · total bid {fmtInt(quote?.totalBuyQuantity)} / ask {fmtInt(quote?.totalSellQuantity)}
            {quote?.depthRescaled ? ' · prices ×100 (the service sends live-tick depth 100× too small)' : ''}
          </>
        )}
      </p>
    </div>
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
  return (
    <Chart options={options} data={oiHistoryData(history)} height={200} label={`Call and put OI of ${history.strike} over time`} testId="strike-oi-history" />
  );
}
