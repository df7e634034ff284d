// CE and PE open interest as mirrored bars around the strike column (calls red on the left, puts green on the right),
// with the change in OI as a thin bar and a number. ATM is highlighted, max pain marked, spot drawn between strikes,
// the ITM side shaded. Click (or Enter on) a strike to recentre the chain on it.
import { memo } from 'react';
import type { ExpirySeries, StrikeLeg } from '../../../shared/api';
import { fmtInt, fmtLakh, fmtPrice, fmtSignedLakh, isNum } from '../../format/numbers';
import { oiScale, sameLeg, spotRowIndex, type StrikeRow } from './chainModel';

export function OiLadder(props: { series: ExpirySeries; rows: StrikeRow[]; spot: number | null; centerStrike: number | undefined; onRecentre: (strike: number) => void }) {
  const { series, rows } = props;
  const scale = oiScale(series);
  const spotAt = spotRowIndex(rows, props.spot);
  return (
    <div className="ladder" role="table" aria-label={`Open interest by strike, ${series.expiry}`}>
      <div className="ladder-row ladder-head" role="row">
        <span role="columnheader" className="num">ΔOI</span>
        <span role="columnheader" className="num">Call OI</span>
        <span role="columnheader" className="center">Strike</span>
        <span role="columnheader">Put OI</span>
        <span role="columnheader">ΔOI</span>
      </div>
      <div className="ladder-body">
        {rows.map((row, i) => (
          <LadderFragment
            key={row.strike}
            row={row}
            spotHere={spotAt === i ? props.spot : null}
            atm={row.strike === series.atm_strike}
            maxPain={row.strike === series.max_pain_strike}
            centre={row.strike === props.centerStrike}
            itmCall={series.atm_strike !== null && row.strike < series.atm_strike}
            itmPut={series.atm_strike !== null && row.strike > series.atm_strike}
            maxOi={scale.oi}
            maxChange={scale.change}
            onRecentre={props.onRecentre}
          />
        ))}
        {spotAt === rows.length && <SpotLine spot={props.spot} />}
      </div>
    </div>
  );
}

function SpotLine({ spot }: { spot: number | null }) {
  return (
    <div className="spot-line" role="row" aria-label="Underlying price">
      <span role="cell">spot {fmtPrice(spot)}</span>
    </div>
  );
}

interface LadderRowProps {
  row: StrikeRow;
  spotHere: number | null;
  atm: boolean;
  maxPain: boolean;
  centre: boolean;
  itmCall: boolean;
  itmPut: boolean;
  maxOi: number;
  maxChange: number;
  onRecentre: (strike: number) => void;
}

const LadderFragment = memo(function LadderFragment(p: LadderRowProps) {
  return (
    <>
      {p.spotHere !== null && <SpotLine spot={p.spotHere} />}
      <div className={`ladder-row${p.atm ? ' atm' : ''}${p.centre ? ' centred' : ''}`} role="row" data-strike={p.row.strike}>
        <Change leg={p.row.call} />
        <Bar leg={p.row.call} side="call" maxOi={p.maxOi} maxChange={p.maxChange} itm={p.itmCall} />
        <span role="cell" className="strike-cell">
          <button type="button" className="strike" onClick={() => p.onRecentre(p.row.strike)} title="Centre the chain on this strike">
            {fmtInt(p.row.strike)}
          </button>
          {p.atm && <span className="tag tag-atm">ATM</span>}
          {p.maxPain && <span className="tag tag-pain" title="Max pain">MP</span>}
        </span>
        <Bar leg={p.row.put} side="put" maxOi={p.maxOi} maxChange={p.maxChange} itm={p.itmPut} />
        <Change leg={p.row.put} />
      </div>
    </>
  );
}, sameRow);

function sameRow(a: LadderRowProps, b: LadderRowProps): boolean {
  return (
    a.row.strike === b.row.strike &&
    sameLeg(a.row.call, b.row.call) &&
    sameLeg(a.row.put, b.row.put) &&
    a.spotHere === b.spotHere &&
    a.atm === b.atm &&
    a.maxPain === b.maxPain &&
    a.centre === b.centre &&
    a.itmCall === b.itmCall &&
    a.itmPut === b.itmPut &&
    a.maxOi === b.maxOi &&
    a.maxChange === b.maxChange &&
    a.onRecentre === b.onRecentre
  );
}

const legTitle = (leg: StrikeLeg): string =>
  `${leg.moneyness} · OI ${fmtInt(leg.oi)} · ΔOI ${fmtInt(leg.oi_change)} · vol ${fmtInt(leg.volume)} · LTP ${fmtPrice(leg.ltp)}${leg.illiquid ? ' · illiquid (few ticks)' : ''} · ${leg.state}`;

function Bar({ leg, side, maxOi, maxChange, itm }: { leg: StrikeLeg | null; side: 'call' | 'put'; maxOi: number; maxChange: number; itm: boolean }) {
  if (!leg) return <span role="cell" className={`bar-cell ${side}`} />;
  const oiPct = isNum(leg.oi) && maxOi > 0 ? (Math.abs(leg.oi) / maxOi) * 100 : 0;
  const chPct = isNum(leg.oi_change) && maxChange > 0 ? (Math.abs(leg.oi_change) / maxChange) * 100 : 0;
  const falling = isNum(leg.oi_change) && leg.oi_change < 0;
  return (
    <span role="cell" className={`bar-cell ${side}${itm ? ' itm' : ''} state-${leg.state}${leg.illiquid ? ' illiquid' : ''}`} title={legTitle(leg)} data-state={leg.state}>
      {leg.state === 'pending' && !isNum(leg.oi) ? (
        <span className="pending-bar" aria-label="waiting for data" />
      ) : leg.state === 'failed' ? (
        <span className="leg-failed">failed</span>
      ) : (
        <>
          {/* scaleX, not width: a bar that grows needs no layout. */}
          <span className="bar oi" style={{ transform: `scaleX(${(oiPct / 100).toFixed(3)})` }} />
          <span className={`bar chg${falling ? ' down' : ''}`} style={{ transform: `scaleX(${(chPct / 100).toFixed(3)})` }} />
          <span className="bar-label">
            {leg.illiquid && (
              <span className="illiquid-mark" aria-label="illiquid">
                ◌{' '}
              </span>
            )}
            {fmtLakh(leg.oi)}
          </span>
        </>
      )}
    </span>
  );
}

function Change({ leg }: { leg: StrikeLeg | null }) {
  const v = leg?.oi_change;
  return (
    <span role="cell" className={`num small ${isNum(v) ? (v > 0 ? 'up' : v < 0 ? 'down' : '') : 'muted'}`}>
      {leg ? fmtSignedLakh(v) : ''}
    </span>
  );
}
