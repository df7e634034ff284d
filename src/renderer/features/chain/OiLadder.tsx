// CE and PE open interest as mirrored bars around the strike column (calls red on the left, puts green on the right).
// The change in OI has its own column of lighter bars on the outside, hatched with a ▼ where OI is unwinding; every
// OI figure is in lakh. The two biggest walls each side are outlined, ATM highlighted, max pain marked, spot drawn
// between strikes, and each leg's last-trade age sits at the edge. Clicking a strike opens its detail.
import { memo, useRef } from 'react';
import type { ExpirySeries, StrikeLeg } from '../../../shared/api';
import { fmtInt, fmtL, fmtPrice, fmtShortAge, fmtSignedL, isNum } from '../../format/numbers';
import { istTime } from '../../format/time';
import { legAgeMs, oiScale, sameLeg, spotRowIndex, type StrikeRow } from './chainModel';
import { blockUnchanged, chunk, useGateObserver, useGates, type BlockGate } from './offscreen';

export function OiLadder(props: {
  series: ExpirySeries;
  rows: StrikeRow[];
  spot: number | null;
  centerStrike: number | undefined;
  walls: { call: Set<number>; put: Set<number> };
  now: number;
  onStrike: (strike: number) => void;
}) {
  const { series, rows } = props;
  const scale = oiScale(series);
  const spotAt = spotRowIndex(rows, props.spot);
  const gate = useGates<LadderRowProps>();
  return (
    <div className="ladder" role="table" aria-label={`Open interest by strike, ${series.expiry}, in lakh`}>
      <div className="ladder-row ladder-head" role="row">
        <span role="columnheader" className="num age-cell" title="Time since the call last traded">
          Age
        </span>
        <span role="columnheader" className="num" title="Change in call OI, lakh">
          ΔOI
        </span>
        <span role="columnheader" className="num">
          Call OI
        </span>
        <span role="columnheader" className="center">
          Strike
        </span>
        <span role="columnheader">Put OI</span>
        <span role="columnheader" title="Change in put OI, lakh">
          ΔOI
        </span>
        <span role="columnheader" className="age-cell" title="Time since the put last traded">
          Age
        </span>
      </div>
      <div className="ladder-body" role="rowgroup">
        {chunk(
          rows.map((row, i): LadderRowProps => ({
            row,
            spotHere: spotAt === i ? props.spot : null,
            atm: row.strike === series.atm_strike,
            maxPain: row.strike === series.max_pain_strike,
            centre: row.strike === props.centerStrike,
            itmCall: series.atm_strike !== null && row.strike < series.atm_strike,
            itmPut: series.atm_strike !== null && row.strike > series.atm_strike,
            callWall: props.walls.call.has(row.strike),
            putWall: props.walls.put.has(row.strike),
            maxOi: scale.oi,
            maxChange: scale.change,
            callAge: fmtShortAge(legAgeMs(row.call, props.now)),
            putAge: fmtShortAge(legAgeMs(row.put, props.now)),
            onStrike: props.onStrike,
          })),
        ).map((items) => (
          <LadderBlock key={items[0].row.strike} items={items} gate={gate(items[0].row.strike, items)} />
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
  callWall: boolean;
  putWall: boolean;
  maxOi: number;
  maxChange: number;
  callAge: string;
  putAge: string;
  onStrike: (strike: number) => void;
}

interface BlockProps {
  items: LadderRowProps[];
  gate: BlockGate<LadderRowProps>;
}

/** A few rows that skip value-only updates while out of view (see offscreen.ts). */
const LadderBlock = memo(
  function LadderBlock({ gate }: BlockProps) {
    const ref = useRef<HTMLDivElement>(null);
    useGateObserver(ref, gate);
    return (
      <div ref={ref} className="ladder-block" role="none">
        {gate.latest.map((p) => (
          <LadderFragment key={p.row.strike} {...p} />
        ))}
      </div>
    );
  },
  (a, b) => blockUnchanged(a, b, sameRow, sameMarks),
);

/** What must stay right even out of view: the marks selectors and the centring look for. */
function sameMarks(a: LadderRowProps, b: LadderRowProps): boolean {
  return (
    a.row.strike === b.row.strike &&
    a.spotHere === b.spotHere &&
    a.atm === b.atm &&
    a.maxPain === b.maxPain &&
    a.centre === b.centre &&
    a.callWall === b.callWall &&
    a.putWall === b.putWall &&
    a.onStrike === b.onStrike
  );
}

const LadderFragment = memo(function LadderFragment(p: LadderRowProps) {
  return (
    <>
      {p.spotHere !== null && <SpotLine spot={p.spotHere} />}
      <div className={`ladder-row${p.atm ? ' atm' : ''}${p.centre ? ' centred' : ''}`} role="row" data-strike={p.row.strike}>
        <Age leg={p.row.call} text={p.callAge} />
        <Change leg={p.row.call} side="call" maxChange={p.maxChange} />
        <Bar leg={p.row.call} side="call" maxOi={p.maxOi} itm={p.itmCall} wall={p.callWall} />
        <span role="cell" className="strike-cell">
          <button type="button" className="strike" onClick={() => p.onStrike(p.row.strike)} title="Open this strike’s detail (OI over time, both legs)">
            {fmtInt(p.row.strike)}
          </button>
          {p.atm && <span className="tag tag-atm">ATM</span>}
          {p.maxPain && (
            <span className="tag tag-pain" title="Max pain">
              MP
            </span>
          )}
        </span>
        <Bar leg={p.row.put} side="put" maxOi={p.maxOi} itm={p.itmPut} wall={p.putWall} />
        <Change leg={p.row.put} side="put" maxChange={p.maxChange} />
        <Age leg={p.row.put} text={p.putAge} />
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
    a.callWall === b.callWall &&
    a.putWall === b.putWall &&
    a.maxOi === b.maxOi &&
    a.maxChange === b.maxChange &&
    a.callAge === b.callAge &&
    a.putAge === b.putAge &&
    a.onStrike === b.onStrike
  );
}

export const legTitle = (leg: StrikeLeg): string =>
  [
    leg.moneyness,
    `OI ${fmtL(leg.oi)}`,
    `ΔOI ${fmtSignedL(leg.oi_change)}`,
    `day vol ${fmtL(leg.day_volume)}`,
    `bar vol ${fmtInt(leg.volume)}`,
    `LTP ${fmtPrice(leg.ltp)}`,
    leg.last_trade_at ? `last trade ${istTime(leg.last_trade_at)} IST` : 'no trade seen',
    leg.illiquid ? 'illiquid (few ticks)' : '',
    leg.stale ? 'stale (no data for two bars)' : '',
    leg.state,
  ]
    .filter(Boolean)
    .join(' · ');

function Bar({ leg, side, maxOi, itm, wall }: { leg: StrikeLeg | null; side: 'call' | 'put'; maxOi: number; itm: boolean; wall: boolean }) {
  if (!leg) return <span role="cell" className={`bar-cell ${side}`} />;
  const oiPct = isNum(leg.oi) && maxOi > 0 ? (Math.abs(leg.oi) / maxOi) * 100 : 0;
  const cls = `bar-cell ${side}${itm ? ' itm' : ''}${wall ? ' wall' : ''} state-${leg.state}${leg.illiquid ? ' illiquid' : ''}${leg.stale ? ' stale' : ''}`;
  return (
    <span role="cell" className={cls} title={legTitle(leg)} data-state={leg.state} data-wall={wall || undefined}>
      {leg.state === 'pending' && !isNum(leg.oi) ? (
        <span className="pending-bar" role="img" aria-label="waiting for data" />
      ) : leg.state === 'failed' ? (
        <span className="leg-failed">failed</span>
      ) : (
        <>
          {/* scaleX, not width: a bar that grows needs no layout. */}
          <span className="bar oi" style={{ transform: `scaleX(${(oiPct / 100).toFixed(3)})` }} />
          <span className="bar-label">
            {leg.illiquid && (
              <span className="illiquid-mark" aria-label="illiquid" title="Illiquid: few ticks, kept out of the IV smile and ATM IV">
                ◌
              </span>
            )}
            {leg.stale && (
              <span className="stale-mark" aria-label="stale" title="Stale: no data for two bars">
                ‖
              </span>
            )}
            {fmtL(leg.oi)}
          </span>
        </>
      )}
    </span>
  );
}

function Change({ leg, side, maxChange }: { leg: StrikeLeg | null; side: 'call' | 'put'; maxChange: number }) {
  const v = leg?.oi_change;
  if (!leg || !isNum(v)) {
    return (
      <span role="cell" className={`chg-cell ${side} muted`}>
        {leg ? '–' : ''}
      </span>
    );
  }
  const pct = maxChange > 0 ? Math.abs(v) / maxChange : 0;
  const unwinding = v < 0;
  return (
    <span
      role="cell"
      className={`chg-cell ${side}${unwinding ? ' unwinding' : v > 0 ? ' building' : ''}`}
      title={unwinding ? 'OI falling: positions unwinding' : 'OI rising: positions building'}
    >
      <span className="bar chg" style={{ transform: `scaleX(${pct.toFixed(3)})` }} />
      <span className="chg-label">
        {unwinding && <span aria-hidden="true">▼</span>}
        {fmtSignedL(v)}
      </span>
    </span>
  );
}

function Age({ leg, text }: { leg: StrikeLeg | null; text: string }) {
  return (
    <span role="cell" className={`age-cell num${leg?.stale ? ' stale' : ''}`} title={leg?.last_trade_at ? `last trade ${text} ago` : 'no trade seen'}>
      {leg ? text : ''}
    </span>
  );
}
