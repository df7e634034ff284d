// The chain as Kite's table: call columns, strike, put columns mirrored. Two column sets: LTP / volume and greeks.
import { memo } from 'react';
import type { ExpirySeries, StrikeLeg } from '../../../shared/api';
import { fmtGreek, fmtInt, fmtIv, fmtLakh, fmtPrice, fmtSignedLakh } from '../../format/numbers';
import type { ChainView } from './ChainControls';
import { sameLeg, spotRowIndex, type StrikeRow } from './chainModel';

interface Column {
  label: string;
  title: string;
  cell: (leg: StrikeLeg) => string;
  tone?: (leg: StrikeLeg) => string;
}

const signTone = (v: number | null) => (v === null ? '' : v > 0 ? 'up' : v < 0 ? 'down' : '');

const LTP_COLUMNS: Column[] = [
  { label: 'OI', title: 'Open interest', cell: (l) => fmtLakh(l.oi) },
  { label: 'ΔOI', title: 'Change in OI', cell: (l) => fmtSignedLakh(l.oi_change), tone: (l) => signTone(l.oi_change) },
  { label: 'Vol', title: 'Volume in the bar', cell: (l) => fmtLakh(l.volume) },
  { label: 'IV', title: 'Implied volatility %', cell: (l) => fmtIv(l.iv) },
  { label: 'LTP', title: 'Last traded price', cell: (l) => fmtPrice(l.ltp) },
];
const GREEK_COLUMNS: Column[] = [
  { label: 'IV', title: 'Implied volatility %', cell: (l) => fmtIv(l.iv) },
  { label: 'Δ', title: 'Delta', cell: (l) => fmtGreek(l.delta) },
  { label: 'Γ', title: 'Gamma', cell: (l) => fmtGreek(l.gamma) },
  { label: 'Θ', title: 'Theta per calendar day', cell: (l) => fmtGreek(l.theta) },
  { label: 'ν', title: 'Vega per volatility point', cell: (l) => fmtGreek(l.vega) },
];

export function ChainTable(props: { series: ExpirySeries; rows: StrikeRow[]; view: Exclude<ChainView, 'oi'>; spot: number | null; centerStrike: number | undefined; onRecentre: (strike: number) => void }) {
  const columns = props.view === 'greeks' ? GREEK_COLUMNS : LTP_COLUMNS;
  const putColumns = [...columns].reverse();
  const spotAt = spotRowIndex(props.rows, props.spot);
  return (
    <div className="chain-table-wrap">
      <table className="table chain-table">
        <thead>
          <tr>
            <th colSpan={columns.length} className="side-head call">
              Calls
            </th>
            <th />
            <th colSpan={columns.length} className="side-head put">
              Puts
            </th>
          </tr>
          <tr>
            {columns.map((c) => (
              <th key={`c-${c.label}`} scope="col" title={`Call ${c.title}`} className="num">
                {c.label}
              </th>
            ))}
            <th scope="col" className="center">
              Strike
            </th>
            {putColumns.map((c) => (
              <th key={`p-${c.label}`} scope="col" title={`Put ${c.title}`} className="num">
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row, i) => (
            <TableRow
              key={row.strike}
              row={row}
              columns={columns}
              putColumns={putColumns}
              atm={row.strike === props.series.atm_strike}
              centred={row.strike === props.centerStrike}
              atmStrike={props.series.atm_strike}
              spotBefore={spotAt === i ? props.spot : null}
              onRecentre={props.onRecentre}
            />
          ))}
        </tbody>
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
  onRecentre: (strike: number) => void;
}

const TableRow = memo(
  function TableRow({ row, columns, putColumns, atm, centred, atmStrike, spotBefore, onRecentre }: RowProps) {
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
            <LegCell key={`c-${c.label}`} leg={row.call} column={c} itm={itmCall} />
          ))}
          <td className="strike-cell">
            <button type="button" className="strike" onClick={() => onRecentre(row.strike)} title="Centre the chain on this strike">
              {fmtInt(row.strike)}
            </button>
            {atm && <span className="tag tag-atm">ATM</span>}
          </td>
          {putColumns.map((c) => (
            <LegCell key={`p-${c.label}`} leg={row.put} column={c} itm={itmPut} />
          ))}
        </tr>
      </>
    );
  },
  (a, b) =>
    a.row.strike === b.row.strike &&
    sameLeg(a.row.call, b.row.call) &&
    sameLeg(a.row.put, b.row.put) &&
    a.columns === b.columns &&
    a.atm === b.atm &&
    a.centred === b.centred &&
    a.atmStrike === b.atmStrike &&
    a.spotBefore === b.spotBefore &&
    a.onRecentre === b.onRecentre,
);

function LegCell({ leg, column, itm }: { leg: StrikeLeg | null; column: Column; itm: boolean }) {
  if (!leg) return <td className={`num${itm ? ' itm' : ''}`} />;
  const cls = `num${itm ? ' itm' : ''}${leg.illiquid ? ' illiquid' : ''} state-${leg.state} ${column.tone?.(leg) ?? ''}`;
  if (leg.state === 'pending' && leg.ltp === null && leg.oi === null) return <td className={cls}>…</td>;
  return <td className={cls}>{column.cell(leg)}</td>;
}
