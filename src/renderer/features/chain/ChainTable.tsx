// The chain as Kite's table: call columns, strike, put columns mirrored. Two column sets: LTP / volume (with day
// and bar volume labelled, LTP change and each leg's last-trade age) and greeks (fixed decimals, units in the header:
// theta in rupees per calendar day, vega in rupees per volatility point). OI, its change and volume are in lakh.
// Built as an ARIA table of grid rows, not <table>: a row of fixed height with size and layout containment is its own
// relayout boundary, and rows out of view skip style, layout and paint (content-visibility), as in the ladder. Table
// cells can be neither, so a <table> restyled, laid out and painted every visible cell on each update (bench:ui).
import { memo, useRef, type CSSProperties } from 'react';
import type { ExpirySeries, StrikeLeg } from '../../../shared/api';
import { fmtChange, fmtGreekOf, fmtInt, fmtIv, fmtL, fmtPrice, fmtShortAge, fmtSignedL } from '../../format/numbers';
import type { ChainView } from './ChainControls';
import { legAgeMs, sameLeg, spotRowIndex, type StrikeRow } from './chainModel';
import { blockUnchanged, chunk, useGateObserver, useGates, type BlockGate } from './offscreen';

interface Column {
  key: string;
  /** Width in px at the table's minimum; wider screens share the extra space in proportion. */
  width: number;
  label: string;
  title: string;
  cell: (leg: StrikeLeg, now: number) => string;
  tone?: (leg: StrikeLeg) => string;
}

const signTone = (v: number | null) => (v === null ? '' : v > 0 ? 'up' : v < 0 ? 'down' : '');

const LTP_COLUMNS: Column[] = [
  { key: 'age', width: 40, label: 'Age', title: 'time since the last trade', cell: (l, now) => fmtShortAge(legAgeMs(l, now)) },
  { key: 'oi', width: 68, label: 'OI (L)', title: 'open interest, lakh', cell: (l) => fmtL(l.oi) },
  {
    key: 'doi',
    width: 68,
    label: 'ΔOI (L)',
    title: 'change in OI against the chosen basis, lakh',
    cell: (l) => fmtSignedL(l.oi_change),
    tone: (l) => signTone(l.oi_change),
  },
  { key: 'dvol', width: 76, label: 'Day vol (L)', title: 'volume traded today up to this bar, lakh', cell: (l) => fmtL(l.day_volume) },
  { key: 'bvol', width: 68, label: 'Bar vol', title: 'volume traded in this one bar', cell: (l) => fmtInt(l.volume) },
  { key: 'iv', width: 50, label: 'IV %', title: 'implied volatility, percent', cell: (l) => fmtIv(l.iv) },
  {
    key: 'chg',
    width: 112,
    label: 'Chg (%)',
    title: 'LTP change against the previous close',
    cell: (l) => fmtChange(l.ltp_change, l.ltp_change_pct),
    tone: (l) => signTone(l.ltp_change),
  },
  { key: 'ltp', width: 64, label: 'LTP', title: 'last traded price', cell: (l) => fmtPrice(l.ltp) },
];
const GREEK_COLUMNS: Column[] = [
  { key: 'age', width: 40, label: 'Age', title: 'time since the last trade', cell: (l, now) => fmtShortAge(legAgeMs(l, now)) },
  { key: 'iv', width: 50, label: 'IV %', title: 'implied volatility, percent', cell: (l) => fmtIv(l.iv) },
  { key: 'delta', width: 68, label: 'Δ', title: 'delta', cell: (l) => fmtGreekOf('delta', l.delta) },
  { key: 'gamma', width: 68, label: 'Γ', title: 'gamma, per point of the underlying', cell: (l) => fmtGreekOf('gamma', l.gamma) },
  { key: 'theta', width: 68, label: 'Θ ₹/day', title: 'theta, rupees per calendar day', cell: (l) => fmtGreekOf('theta', l.theta) },
  { key: 'vega', width: 76, label: 'ν ₹/vol pt', title: 'vega, rupees per volatility point', cell: (l) => fmtGreekOf('vega', l.vega) },
];

const LTP_PUT_COLUMNS = [...LTP_COLUMNS].reverse();
const GREEK_PUT_COLUMNS = [...GREEK_COLUMNS].reverse();

export function ChainTable(props: {
  series: ExpirySeries;
  rows: StrikeRow[];
  view: Exclude<ChainView, 'oi'>;
  spot: number | null;
  centerStrike: number | undefined;
  now: number;
  onStrike: (strike: number) => void;
}) {
  const columns = props.view === 'greeks' ? GREEK_COLUMNS : LTP_COLUMNS;
  // The same array each update, so the rows' memo sees the columns unchanged.
  const putColumns = props.view === 'greeks' ? GREEK_PUT_COLUMNS : LTP_PUT_COLUMNS;
  const gate = useGates<RowProps>();
  const spotAt = spotRowIndex(props.rows, props.spot);
  const template = [...columns.map((c) => c.width), STRIKE_WIDTH, ...putColumns.map((c) => c.width)].map((w) => `minmax(${w}px, ${w}fr)`).join(' ');
  const minWidth = [...columns, ...putColumns].reduce((n, c) => n + c.width, STRIKE_WIDTH);
  return (
    <div className="chain-table-wrap" tabIndex={0} role="region" aria-label={`Chain table, ${props.series.expiry}`}>
      <div
        className={`chain-table table-${props.view}`}
        role="table"
        aria-label={`${props.view === 'greeks' ? 'Greeks' : 'LTP and volume'}, ${props.series.expiry}`}
        style={{ '--ct-cols': template, minWidth } as CSSProperties}
      >
        <div className="ct-head" role="rowgroup">
          <div className="ct-row ct-sides" role="row">
            <span role="columnheader" className="side-head call" aria-colspan={columns.length} style={{ gridColumn: `span ${columns.length}` }}>
              Calls
            </span>
            <span role="columnheader" className="center small">
              {props.view === 'greeks' ? 'greeks' : 'lakh'}
            </span>
            <span role="columnheader" className="side-head put" aria-colspan={columns.length} style={{ gridColumn: `span ${columns.length}` }}>
              Puts
            </span>
          </div>
          <div className="ct-row" role="row">
            {columns.map((c) => (
              <span key={`c-${c.key}`} role="columnheader" title={`Call ${c.title}`} className="num">
                {c.label}
              </span>
            ))}
            <span role="columnheader" className="center">
              Strike
            </span>
            {putColumns.map((c) => (
              <span key={`p-${c.key}`} role="columnheader" title={`Put ${c.title}`} className="num">
                {c.label}
              </span>
            ))}
          </div>
        </div>
        <div className="ct-body" role="rowgroup">
          {chunk(
            props.rows.map((row, i): RowProps => ({
              row,
              columns,
              putColumns,
              atm: row.strike === props.series.atm_strike,
              centred: row.strike === props.centerStrike,
              atmStrike: props.series.atm_strike,
              spotBefore: spotAt === i ? props.spot : null,
              ageKey: Math.floor(props.now / 1000),
              onStrike: props.onStrike,
            })),
          ).map((items) => (
            <TableBlock key={items[0].row.strike} items={items} gate={gate(items[0].row.strike, items)} />
          ))}
        </div>
      </div>
    </div>
  );
}

/** The strike column's width at the table's minimum. */
const STRIKE_WIDTH = 96;

interface RowProps {
  row: StrikeRow;
  columns: Column[];
  putColumns: Column[];
  atm: boolean;
  centred: boolean;
  atmStrike: number | null;
  spotBefore: number | null;
  /** Whole seconds of the clock, so ages re-render once a second and nothing else does. */
  ageKey: number;
  onStrike: (strike: number) => void;
}

/** A few strikes in their own block, skipping value-only updates while out of view (see offscreen.ts). */
const TableBlock = memo(
  function TableBlock({ gate }: { items: RowProps[]; gate: BlockGate<RowProps> }) {
    const ref = useRef<HTMLDivElement>(null);
    useGateObserver(ref, gate);
    return (
      <div ref={ref} className="ct-block" role="none">
        {gate.latest.map((p) => (
          <TableRow key={p.row.strike} {...p} />
        ))}
      </div>
    );
  },
  (a, b) => blockUnchanged(a, b, sameRowProps, sameMarks),
);

function sameMarks(a: RowProps, b: RowProps): boolean {
  return (
    a.row.strike === b.row.strike &&
    a.columns === b.columns &&
    a.atm === b.atm &&
    a.centred === b.centred &&
    a.atmStrike === b.atmStrike &&
    a.spotBefore === b.spotBefore &&
    a.onStrike === b.onStrike
  );
}

const sameRowProps = (a: RowProps, b: RowProps): boolean =>
  sameMarks(a, b) && sameLeg(a.row.call, b.row.call) && sameLeg(a.row.put, b.row.put) && a.ageKey === b.ageKey;

const TableRow = memo(function TableRow({ row, columns, putColumns, atm, centred, atmStrike, spotBefore, ageKey, onStrike }: RowProps) {
  const now = ageKey * 1000;
  const itmCall = atmStrike !== null && row.strike < atmStrike;
  const itmPut = atmStrike !== null && row.strike > atmStrike;
  return (
    <>
      {spotBefore !== null && (
        <div className="ct-spot" role="row" aria-label="Underlying price">
          <span role="cell">spot {fmtPrice(spotBefore)}</span>
        </div>
      )}
      <div className={`ct-row${atm ? ' atm' : ''}${centred ? ' centred' : ''}`} role="row" data-strike={row.strike}>
        {columns.map((c) => (
          <LegCell key={`c-${c.key}`} leg={row.call} column={c} itm={itmCall} now={now} />
        ))}
        <span role="cell" className="strike-cell">
          <button type="button" className="strike" onClick={() => onStrike(row.strike)} title="Open this strike’s detail (OI over time, both legs)">
            {fmtInt(row.strike)}
          </button>
          {atm && <span className="tag tag-atm">ATM</span>}
        </span>
        {putColumns.map((c) => (
          <LegCell key={`p-${c.key}`} leg={row.put} column={c} itm={itmPut} now={now} />
        ))}
      </div>
    </>
  );
}, sameRowProps);

function LegCell({ leg, column, itm, now }: { leg: StrikeLeg | null; column: Column; itm: boolean; now: number }) {
  if (!leg) return <span role="cell" className={`num${itm ? ' itm' : ''}`} />;
  const cls = `num${itm ? ' itm' : ''}${leg.illiquid ? ' illiquid' : ''}${leg.stale ? ' stale' : ''} state-${leg.state} col-${column.key} ${column.tone?.(leg) ?? ''}`;
  if (leg.state === 'pending' && leg.ltp === null && leg.oi === null)
    return (
      <span role="cell" className={cls}>
        …
      </span>
    );
  const mark = column.key === 'ltp' && leg.illiquid ? '◌ ' : column.key === 'ltp' && leg.stale ? '‖ ' : '';
  return (
    <span role="cell" className={cls}>
      {mark}
      {column.cell(leg, now)}
    </span>
  );
}
