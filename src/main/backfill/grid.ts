// The coverage grid of one chain: per strike, side and time slot, whether the slot's expected minutes are filled,
// had no trades, failed, are still missing, or are not expected (outside sessions, after expiry, not yet begun).
import type { CoverageCell, CoverageGrid, OptionSide } from '../../shared/api';
import { bucketStart, type HolidayCalendar } from '../calendar';
import type { CoverageStore } from './coverage-store';
import { atmSlice, toPlanned } from './scope';
import type { PlannedInstrument, RegistryView } from './types';
import { expectedMinutes, lookbackWindow } from './window';

export interface GridRequest {
  symbol: string;
  expiry: string;
  strikeRange: number;
  lookbackMinutes: number;
  slotMinutes: number;
}

export interface GridDeps {
  registry: RegistryView;
  coverage: CoverageStore;
  calendar: HolidayCalendar;
  nowMs: number;
  spot(symbol: string, indexToken: number | null): Promise<number | null>;
}

// Worst first: one failed or missing minute makes the slot so.
const RANK: Record<CoverageCell, number> = { failed: 0, missing: 1, filled: 2, no_trades: 3, not_expected: 4 };

export async function coverageGrid(req: GridRequest, deps: GridDeps): Promise<CoverageGrid> {
  const symbol = req.symbol.toUpperCase();
  const { start, end } = lookbackWindow(deps.calendar, deps.nowMs, req.lookbackMinutes);
  const sessionMinutes = deps.calendar.sessionMinutesBetween(start, end);
  const slotStarts = [...new Set(sessionMinutes.map((m) => bucketStart(m, req.slotMinutes)))].sort((a, b) => a - b);
  const slotIndex = new Map(slotStarts.map((s, i) => [s, i]));

  const chain = await deps.registry.chain(symbol, req.expiry);
  const spot = await deps.spot(symbol, deps.registry.underlyingToken(symbol));
  const legs = atmSlice(chain, spot, req.strikeRange)
    .map(toPlanned)
    .filter((l): l is PlannedInstrument => l !== null);
  const strikes = [...new Set(legs.map((l) => l.strike as number))].sort((a, b) => a - b);
  const tokens = legs.map((l) => l.token);
  const [filled, windows, refused] = await Promise.all([
    deps.coverage.filledMinutes(legs, start, end),
    deps.coverage.windows(tokens, start, end),
    deps.coverage.notBackfillable(tokens),
  ]);

  const rows: CoverageGrid['rows'] = [];
  for (const strike of strikes) {
    for (const side of ['CE', 'PE'] as OptionSide[]) {
      const leg = legs.find((l) => l.strike === strike && l.side === side);
      const cells: CoverageCell[] = slotStarts.map(() => 'not_expected');
      if (leg) {
        const have = filled.get(leg.token) ?? new Set<number>();
        const mine = windows.filter((w) => w.token === leg.token);
        const inWindow = (state: 'no_trades' | 'failed', m: number) => mine.some((w) => w.state === state && m >= w.from && m < w.to);
        for (const m of expectedMinutes(deps.calendar, leg, start, end)) {
          let cell: CoverageCell;
          if (have.has(m)) cell = 'filled';
          else if (inWindow('no_trades', m)) cell = 'no_trades';
          else if (inWindow('failed', m) || refused.has(leg.token)) cell = 'failed';
          else cell = 'missing';
          const i = slotIndex.get(bucketStart(m, req.slotMinutes)) as number;
          if (RANK[cell] < RANK[cells[i]]) cells[i] = cell;
        }
      }
      rows.push({ strike, side, token: leg?.token ?? null, cells });
    }
  }
  return { symbol, expiry: req.expiry, slots: slotStarts.map((s) => new Date(s).toISOString()), slotMinutes: req.slotMinutes, rows };
}
