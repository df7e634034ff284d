// One expiry of the chain: its header (days to expiry, stale badge, bucket time), the ladder or table, and Kite's
// footer (PCR by OI and by volume, max pain, ATM IV).
import { memo } from 'react';
import type { ExpirySeries, Timeframe } from '../../../shared/api';
import { Badge } from '../../components/Bits';
import { fmtFixed, fmtInt, fmtLakh } from '../../format/numbers';
import { fmtExpiry, istTime } from '../../format/time';
import type { ChainView } from './ChainControls';
import { dteLabel } from './ChainControls';
import { ChainTable } from './ChainTable';
import { atmIv, rowsOf, totals } from './chainModel';
import { OiLadder } from './OiLadder';

export const ExpiryPanel = memo(function ExpiryPanel(props: {
  series: ExpirySeries;
  view: ChainView;
  spot: number | null;
  timeframe: Timeframe;
  centerStrike: number | undefined;
  onRecentre: (strike: number) => void;
}) {
  const { series } = props;
  const rows = rowsOf(series);
  const sums = totals(series);
  const iv = atmIv(series);
  return (
    <section className="expiry-panel" data-testid={`expiry-${series.expiry}`} aria-label={`Expiry ${series.expiry}`}>
      <header className="expiry-head">
        <h3>
          {fmtExpiry(series.expiry)} <span className="dte">{dteLabel(series.days_to_expiry)}</span>
        </h3>
        {series.is_stale ? (
          <Badge tone="warn" title={`Latest ${props.timeframe} bar is older than two bars`}>
            stale{series.bucket_time ? ` · ${istTime(series.bucket_time)}` : ''}
          </Badge>
        ) : series.bucket_time ? (
          <span className="small muted" title="Bucket of the bars shown">
            bar {istTime(series.bucket_time)}
          </span>
        ) : (
          <Badge tone="muted">no bars yet</Badge>
        )}
        <span className="small muted">
          ATM {fmtInt(series.atm_strike)} · step {fmtInt(series.strike_step)}
        </span>
      </header>
      {props.view === 'oi' ? (
        <OiLadder series={series} rows={rows} spot={props.spot} centerStrike={props.centerStrike} onRecentre={props.onRecentre} />
      ) : (
        <ChainTable series={series} rows={rows} view={props.view} spot={props.spot} centerStrike={props.centerStrike} onRecentre={props.onRecentre} />
      )}
      <footer className="expiry-foot">
        <span title="Total put OI / total call OI over the strikes shown">
          PCR (OI) <strong>{fmtFixed(series.pcr_oi, 2)}</strong>
        </span>
        <span title="Put volume / call volume over the strikes shown">
          PCR (vol) <strong>{fmtFixed(series.pcr_volume, 2)}</strong>
        </span>
        <span title="Settlement price that minimises the total payout to option holders">
          Max pain <strong>{fmtInt(series.max_pain_strike)}</strong>
        </span>
        <span title="Mean of the ATM call and put implied volatility">
          ATM IV <strong>{iv === null ? '–' : `${iv.toFixed(2)}%`}</strong>
        </span>
        <span className="muted small">
          CE OI {fmtLakh(sums.callOi)} · PE OI {fmtLakh(sums.putOi)} · ΔOI vs {series.oi_change_basis === 'one_hour_earlier' ? '1 h ago' : 'session open'}
        </span>
      </footer>
    </section>
  );
});
