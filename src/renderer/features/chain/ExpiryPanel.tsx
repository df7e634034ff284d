// One expiry of the chain. Its header strip carries what Sensibull and Opstra put above the chain: days to expiry,
// PCR by OI and by volume, max pain and ATM IV (expiry-wide, marked partial with the coverage while the chain is
// not complete), the bar shown and a stale mark; then the ladder or table and its legend.
import { memo, useCallback } from 'react';
import type { ExpirySeries, OiChangeBasis, Timeframe } from '../../../shared/api';
import { Badge } from '../../components/Bits';
import { fmtFixed, fmtInt } from '../../format/numbers';
import { fmtExpiry, istTime } from '../../format/time';
import type { ChainView } from './ChainControls';
import { BASIS_LABEL, dteLabel } from './ChainControls';
import { ChainTable } from './ChainTable';
import { aggregatesPartial, atmIv, coverageOf, coverageText, oiWalls, rowsOf } from './chainModel';
import { OiLadder } from './OiLadder';

export const ExpiryPanel = memo(function ExpiryPanel(props: {
  series: ExpirySeries;
  view: ChainView;
  spot: number | null;
  timeframe: Timeframe;
  centerStrike: number | undefined;
  now: number;
  onStrike: (expiry: string, strike: number) => void;
  /** The ΔOI basis the trader chose; the series may answer another (an hour earlier than the open is the open). */
  basisAsked?: OiChangeBasis;
}) {
  const { series } = props;
  const rows = rowsOf(series);
  const iv = atmIv(series);
  const walls = oiWalls(series);
  const partial = aggregatesPartial(series);
  const coverage = coverageOf(series);
  // Stable across updates: every row's memo compares it, so a fresh closure here would redraw every row.
  const { onStrike: pickStrike } = props;
  const onStrike = useCallback((strike: number) => pickStrike(series.expiry, strike), [pickStrike, series.expiry]);
  const partialTitle = `Expiry-wide figures over ${coverageText(series)}${series.partial ? '; the bar is still filling' : ''}`;
  return (
    <section
      className={`expiry-panel${series.is_stale ? ' stale' : ''}`}
      data-testid={`expiry-${series.expiry}`}
      aria-labelledby={`expiry-title-${series.expiry}`}
    >
      <header className="expiry-head">
        <h2 id={`expiry-title-${series.expiry}`}>
          {fmtExpiry(series.expiry)} <span className="dte">{dteLabel(series.days_to_expiry)} to expiry</span>
        </h2>
        {series.is_stale ? (
          <Badge tone="warn" title={`Latest ${props.timeframe} bar is older than two bars`}>
            stale{series.bucket_end ? ` · bars end ${istTime(series.bucket_end)}` : series.bucket_time ? ` · ${istTime(series.bucket_time)}` : ''}
          </Badge>
        ) : series.bucket_time ? (
          <span className="small muted" title="The bar shown: start to end, IST">
            bar {istTime(series.bucket_time)}
            {series.bucket_end ? `–${istTime(series.bucket_end)}` : ''}
            {series.partial ? ' (filling)' : ''}
          </span>
        ) : (
          <Badge tone="muted">no bars yet</Badge>
        )}
        <span className="small muted expiry-atm">
          ATM {fmtInt(series.atm_strike)} · step {fmtInt(series.strike_step)}
        </span>
      </header>
      <div
        className={`figures${partial ? ' partial' : ''}`}
        data-testid="chain-figures"
        data-partial={partial}
        title={partial ? partialTitle : 'Expiry-wide, over every listed strike'}
      >
        <Figure label="PCR (OI)" value={fmtFixed(series.pcr_oi, 2)} title="Put OI / call OI over every listed strike of the expiry" />
        <Figure label="PCR (vol)" value={fmtFixed(series.pcr_volume, 2)} title="Put day volume / call day volume over every listed strike" />
        <Figure
          label="Max pain"
          value={fmtInt(series.max_pain_strike)}
          title="Settlement that minimises the payout to option holders, over every listed strike"
        />
        <Figure label="ATM IV" value={iv === null ? '–' : `${iv.toFixed(2)}%`} title="Mean of the ATM call and put IV (illiquid or stale legs left out)" />
        <Figure label="DTE" value={dteLabel(series.days_to_expiry)} title="Calendar days to expiry" />
        {partial ? (
          <span className="partial-mark" data-testid="partial-mark">
            <Badge tone="warn">partial</Badge> <span className="small">{coverage ? coverageText(series) : 'coverage unknown'}</span>
            {series.partial && <span className="small"> · bar still filling</span>}
          </span>
        ) : (
          <span className="small muted" data-testid="coverage-complete">
            all {fmtInt(coverage?.legs_listed)} listed legs
          </span>
        )}
      </div>
      {props.view === 'oi' ? (
        <OiLadder series={series} rows={rows} spot={props.spot} centerStrike={props.centerStrike} walls={walls} now={props.now} onStrike={onStrike} />
      ) : (
        <ChainTable series={series} rows={rows} view={props.view} spot={props.spot} centerStrike={props.centerStrike} now={props.now} onStrike={onStrike} />
      )}
      <footer className="expiry-foot small">
        <span className="legend-item">
          <span className="illiquid-mark" aria-hidden="true">
            ◌
          </span>{' '}
          illiquid (few ticks)
        </span>
        <span className="legend-item">
          <span className="stale-mark" aria-hidden="true">
            ‖
          </span>{' '}
          stale (no data for two bars)
        </span>
        <span className="muted">both kept out of the IV smile and ATM IV</span>
        {props.view === 'oi' && (
          <>
            <span className="legend-item">
              <span className="legend-swatch wall" aria-hidden="true" /> biggest walls
            </span>
            <span className="legend-item">▼ unwinding (OI falling)</span>
          </>
        )}
        <span className="muted" data-testid="basis-legend">
          ΔOI vs {BASIS_LABEL[series.oi_change_basis] ?? series.oi_change_basis}
          {props.basisAsked && props.basisAsked !== series.oi_change_basis
            ? ` (you chose ${BASIS_LABEL[props.basisAsked]}: that is before this session opened)`
            : ''}{' '}
          · OI and volume in lakh
        </span>
      </footer>
    </section>
  );
});

function Figure({ label, value, title }: { label: string; value: string; title: string }) {
  return (
    <span className="figure" title={title}>
      <span className="figure-label">{label}</span> <strong>{value}</strong>
    </span>
  );
}
