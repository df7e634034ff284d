// The chain as Kite's table: call columns, strike, put columns mirrored. Two column sets: LTP / volume (with day
// and bar volume labelled, LTP change and each leg's last-trade age) and greeks (fixed decimals, units in the header:
// theta in rupees per calendar day, vega in rupees per volatility point). OI, its change and volume are in lakh.
import { memo, useRef } from 'react';
import type { ExpirySeries, StrikeLeg } from '../../../shared/api';
import { fmtChange, fmtGreekOf, fmtInt, fmtIv, fmtL, fmtPrice, fmtShortAge, fmtSignedL } from '../../format/numbers';
import type { ChainView } from './ChainControls';
import { legAgeMs, sameLeg, spotRowIndex, type StrikeRow } from './chainModel';
import { blockUnchanged, chunk, useGateObserver, useGates, type BlockGate } from './offscreen';

interface Column {
  key: string;
  label: string;
  title: string;
  cell: (leg: StrikeLeg, now: number) => string;
  tone?: (leg: StrikeLeg) => string;
}

const signTone = (v: number | null) => (v === null ? '' : v > 0 ? 'up' : v < 0 ? 'down' : '');

const LTP_COLUMNS: Column[] = [
  { key: 'age', label: 'Age', title: 'time since the last trade', cell: (l, now) => fmtShortAge(legAgeMs(l, now)) },
  { key: 'oi', label: 'OI (L)', title: 'open interest, lakh', cell: (l) => fmtL(l.oi) },
  {
    key: 'doi',
    label: 'ΔOI (L)',
    title: 'change in OI against the chosen basis, lakh',
    cell: (l) => fmtSignedL(l.oi_change),
    tone: (l) => signTone(l.oi_change),
  },
  { key: 'dvol', label: 'Day vol (L)', title: 'volume traded today up to this bar, lakh', cell: (l) => fmtL(l.day_volume) },
  { key: 'bvol', label: 'Bar vol', title: 'volume traded in this one bar', cell: (l) => fmtInt(l.volume) },
  { key: 'iv', label: 'IV %', title: 'implied volatility, percent', cell: (l) => fmtIv(l.iv) },
  {
    key: 'chg',
    label: 'Chg (%)',
    title: 'LTP change against the previous close',
    cell: (l) => fmtChange(l.ltp_change, l.ltp_change_pct),
    tone: (l) => signTone(l.ltp_change),
  },
  { key: 'ltp', label: 'LTP', title: 'last traded price', cell: (l) => fmtPrice(l.ltp) },
];
const GREEK_COLUMNS: Column[] = [
  { key: 'age', label: 'Age', title: 'time since the last trade', cell: (l, now) => fmtShortAge(legAgeMs(l, now)) },
  { key: 'iv', label: 'IV %', title: 'implied volatility, percent', cell: (l) => fmtIv(l.iv) },
  { key: 'delta', label: 'Δ', title: 'delta', cell: (l) => fmtGreekOf('delta', l.delta) },
  { key: 'gamma', label: 'Γ', title: 'gamma, per point of the underlying', cell: (l) => fmtGreekOf('gamma', l.gamma) },
  { key: 'theta', label: 'Θ ₹/day', title: 'theta, rupees per calendar day', cell: (l) => fmtGreekOf('theta', l.theta) },
  { key: 'vega', label: 'ν ₹/vol pt', title: 'vega, rupees per volatility point', cell: (l) => fmtGreekOf('vega', l.vega) },
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
  return (
    <div className="chain-table-wrap" tabIndex={0} role="region" aria-label={`Chain table, ${props.series.expiry}`}>
      <table className={`table chain-table table-${props.view}`}>
        {/* Fixed column widths (table-layout: fixed): a changed figure then never re-lays out the whole table. */}
        <colgroup>
          {columns.map((c) => (
            <col key={`c-${c.key}`} className={`w-${c.key}`} />
          ))}
          <col className="w-strike" />
          {putColumns.map((c) => (
            <col key={`p-${c.key}`} className={`w-${c.key}`} />
          ))}
        </colgroup>
        <thead>
          <tr>
            <th colSpan={columns.length} className="side-head call">
              Calls
            </th>
            <th scope="col" className="center small">
              {props.view === 'greeks' ? 'greeks' : 'lakh'}
            </th>
            <th colSpan={columns.length} className="side-head put">
              Puts
            </th>
          </tr>
          <tr>
            {columns.map((c) => (
              <th key={`c-${c.key}`} scope="col" title={`Call ${c.title}`} className="num">
                {c.label}
              </th>
            ))}
            <th scope="col" className="center">
              Strike
            </th>
            {putColumns.map((c) => (
              <th key={`p-${c.key}`} scope="col" title={`Put ${c.title}`} className="num">
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
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
      </table>
    </div>
  );
}

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

/** A few strikes in their own tbody, skipping value-only updates while out of view (see offscreen.ts). */
const TableBlock = memo(
  function TableBlock({ gate }: { items: RowProps[]; gate: BlockGate<RowProps> }) {
    const ref = useRef<HTMLTableSectionElement>(null);
    useGateObserver(ref, gate);
    return (
      <tbody ref={ref}>
        {gate.latest.map((p) => (
          <TableRow key={p.row.strike} {...p} />
        ))}
      </tbody>
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
        <tr className="spot-row">
          <td colSpan={columns.length * 2 + 1}>spot {fmtPrice(spotBefore)}</td>
        </tr>
      )}
      <tr className={`${atm ? 'atm' : ''}${centred ? ' centred' : ''}`.trim() || undefined} data-strike={row.strike}>
        {columns.map((c) => (
          <LegCell key={`c-${c.key}`} leg={row.call} column={c} itm={itmCall} now={now} />
        ))}
        <td className="strike-cell">
          <button type="button" className="strike" onClick={() => onStrike(row.strike)} title="Open this strike’s detail (OI over time, both legs)">
            {fmtInt(row.strike)}
          </button>
          {atm && <span className="tag tag-atm">ATM</span>}
        </td>
        {putColumns.map((c) => (
          <LegCell key={`p-${c.key}`} leg={row.put} column={c} itm={itmPut} now={now} />
        ))}
      </tr>
    </>
  );
}, sameRowProps);

function LegCell({ leg, column, itm, now }: { leg: StrikeLeg | null; column: Column; itm: boolean; now: number }) {
  if (!leg) return <td className={`num${itm ? ' itm' : ''}`} />;
  const cls = `num${itm ? ' itm' : ''}${leg.illiquid ? ' illiquid' : ''}${leg.stale ? ' stale' : ''} state-${leg.state} col-${column.key} ${column.tone?.(leg) ?? ''}`;
  if (leg.state === 'pending' && leg.ltp === null && leg.oi === null) return <td className={cls}>…</td>;
  const mark = column.key === 'ltp' && leg.illiquid ? '◌ ' : column.key === 'ltp' && leg.stale ? '‖ ' : '';
  return (
    <td className={cls}>
      {mark}
      {column.cell(leg, now)}
    </td>
  );
}
