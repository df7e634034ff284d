// Coverage per strike, side and time slot (Dagster's partition grid): filled, no trades (an empty in-session answer),
// failed, missing, or not expected (outside the session or the contract's life).
import { useState } from 'react';
import type { CoverageCell, CoverageGrid as Grid } from '../../../shared/api';
import { useCoverage } from '../../api/backfill';
import { useUnderlyings } from '../../api/chain';
import { Section } from '../../components/Bits';
import { QueryView } from '../../components/States';
import { fmtInt } from '../../format/numbers';
import { fmtExpiry, istHourMinute } from '../../format/time';

const CELLS: { cell: CoverageCell; label: string }[] = [
  { cell: 'filled', label: 'filled' },
  { cell: 'no_trades', label: 'no trades' },
  { cell: 'failed', label: 'failed' },
  { cell: 'missing', label: 'missing' },
  { cell: 'not_expected', label: 'not expected' },
];
const FALLBACK = ['NIFTY', 'BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY'];

export function CoverageGrid() {
  const underlyings = useUnderlyings();
  const [symbol, setSymbol] = useState('NIFTY');
  const [chosenExpiry, setChosenExpiry] = useState<string | null>(null);
  const [strikeRange, setStrikeRange] = useState(10);
  const [slotMinutes, setSlotMinutes] = useState(15);
  const [sessions, setSessions] = useState(1);
  const symbols = underlyings.data?.length ? underlyings.data.map((u) => u.symbol) : FALLBACK;
  const expiries = underlyings.data?.find((u) => u.symbol === symbol)?.expiries ?? [];
  const expiry = chosenExpiry ?? expiries[0]?.expiry ?? null;
  const coverage = useCoverage(expiry ? { symbol, expiry, strikeRange, slotMinutes, lookbackMinutes: 375 * sessions } : null);

  return (
    <Section
      title="Coverage"
      id="coverage-title"
      actions={
        <div className="toolbar">
          <select
            value={symbol}
            aria-label="Coverage underlying"
            onChange={(e) => {
              setSymbol(e.target.value);
              setChosenExpiry(null);
            }}
          >
            {symbols.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <select value={expiry ?? ''} aria-label="Coverage expiry" onChange={(e) => setChosenExpiry(e.target.value)} disabled={expiries.length === 0}>
            {expiries.length === 0 && <option value="">no expiries</option>}
            {expiries.map((e) => (
              <option key={e.expiry} value={e.expiry}>
                {fmtExpiry(e.expiry)}
              </option>
            ))}
          </select>
          <select value={strikeRange} aria-label="Coverage strikes each side" onChange={(e) => setStrikeRange(Number(e.target.value))}>
            {[5, 10, 20, 30, 50].map((n) => (
              <option key={n} value={n}>
                ATM ± {n}
              </option>
            ))}
          </select>
          <select
            value={sessions}
            aria-label="Coverage sessions"
            onChange={(e) => {
              const n = Number(e.target.value);
              setSessions(n);
              // Several sessions at 5-minute slots would be hundreds of columns: widen the slot with the span.
              if (n >= 3 && slotMinutes < 30) setSlotMinutes(30);
            }}
          >
            {[1, 2, 3, 5].map((n) => (
              <option key={n} value={n}>
                last {n} session{n === 1 ? '' : 's'}
              </option>
            ))}
          </select>
          <select value={slotMinutes} aria-label="Slot minutes" onChange={(e) => setSlotMinutes(Number(e.target.value))}>
            {[5, 15, 30, 60].map((n) => (
              <option key={n} value={n}>
                {n} min slots
              </option>
            ))}
          </select>
        </div>
      }
    >
      {!expiry && underlyings.isError && (
        <QueryView query={underlyings} what="expiries for the coverage grid">
          {() => null}
        </QueryView>
      )}
      {!expiry && underlyings.isSuccess && <p className="muted">No expiries listed for {symbol}.</p>}
      {expiry && (
        <QueryView query={coverage} what="coverage">
          {(grid) => <GridView grid={grid} />}
        </QueryView>
      )}
    </Section>
  );
}

const dayOf = new Intl.DateTimeFormat('en-IN', { timeZone: 'Asia/Kolkata', day: '2-digit', month: 'short' });
/** "09:15", with the date on the first label of each IST day ("27 Nov 09:15"). */
function slotLabel(slots: string[], i: number): string {
  const day = dayOf.format(new Date(slots[i]));
  const firstOfDay = i === 0 || slots.slice(0, i).every((s) => dayOf.format(new Date(s)) !== day);
  return firstOfDay ? `${day} ${istHourMinute(slots[i])}` : istHourMinute(slots[i]);
}

export function countCells(grid: Grid): Record<CoverageCell, number> {
  const counts: Record<CoverageCell, number> = { filled: 0, no_trades: 0, failed: 0, missing: 0, not_expected: 0 };
  for (const row of grid.rows) for (const cell of row.cells) counts[cell] += 1;
  return counts;
}

function GridView({ grid }: { grid: Grid }) {
  const counts = countCells(grid);
  const labelEvery = Math.max(1, Math.ceil(grid.slots.length / 12));
  const expected = counts.filled + counts.no_trades + counts.failed + counts.missing;
  return (
    <div
      className="coverage"
      data-testid="coverage-grid"
      data-filled={counts.filled}
      data-missing={counts.missing}
      data-failed={counts.failed}
      data-no-trades={counts.no_trades}
    >
      <div className="legend">
        {CELLS.map((c) => (
          <span key={c.cell} className="legend-item">
            <span className={`cell cell-${c.cell}`} aria-hidden="true" /> {c.label} {fmtInt(counts[c.cell])}
          </span>
        ))}
        <span className="small muted">
          {expected > 0 ? `${(((counts.filled + counts.no_trades) / expected) * 100).toFixed(1)}% covered` : 'nothing expected in this window'} ·{' '}
          {grid.slotMinutes}-minute slots
        </span>
      </div>
      <div className="coverage-scroll" tabIndex={0} role="region" aria-label="Coverage grid">
        <table className="coverage-table" aria-label={`Coverage of ${grid.symbol} ${grid.expiry}`}>
          <thead>
            <tr>
              <th scope="col">Strike</th>
              {grid.slots.map((slot, i) => (
                <th key={slot} scope="col" className="slot-head">
                  {i % labelEvery === 0 ? slotLabel(grid.slots, i) : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {grid.rows.map((row) => (
              <tr key={`${row.strike}${row.side}`}>
                <th scope="row" className="mono small nowrap">
                  {fmtInt(row.strike)} <span className={row.side === 'CE' ? 'call-text' : 'put-text'}>{row.side}</span>
                </th>
                {row.cells.map((cell, i) => (
                  <td
                    key={i}
                    className={`cell cell-${cell}`}
                    data-cell={cell}
                    title={`${row.strike} ${row.side} ${istHourMinute(grid.slots[i])} IST: ${cell.replace('_', ' ')}`}
                  />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
