// The planner: for each instrument (index, future, option leg) the missing 1-minute buckets among its expected
// session minutes in the window, read per token from the market store, then the fewest Kite-sized requests that
// cover them. Expired contracts (no intraday history at Kite) and contracts marked not backfillable are left out,
// each said in the notes.
import type { HolidayCalendar } from '../calendar';
import type { CoverageStore } from './coverage-store';
import type { Plan, PlannedChunk, PlannedInstrument } from './types';
import { chunkRuns, expectedMinutes, isExpired, runMinutes } from './window';

export interface PlanInput {
  instruments: readonly PlannedInstrument[];
  windowStart: number;
  windowEnd: number;
  nowMs: number;
  notes?: string[];
  fellBack?: boolean;
}

/** Chunks of one option strike (both legs) share a write unit; other instruments have units of their own. */
function unitKey(inst: PlannedInstrument, ordinal: number): string {
  return inst.kind === 'option' ? `${inst.symbol}|${inst.expiry}|${inst.strike}|${ordinal}` : `${inst.token}|${ordinal}`;
}

export class Planner {
  constructor(
    private readonly coverage: CoverageStore,
    private readonly calendar: HolidayCalendar,
  ) {}

  async plan(input: PlanInput): Promise<Plan> {
    const notes = [...(input.notes ?? [])];
    const { windowStart, windowEnd, nowMs } = input;
    const expired = input.instruments.filter((i) => isExpired(i, nowMs));
    if (expired.length) {
      notes.push(
        `${expired.length} expired contract${expired.length > 1 ? 's' : ''} left out (no intraday history): ${expired
          .slice(0, 5)
          .map((i) => i.tradingsymbol)
          .join(', ')}${expired.length > 5 ? ', …' : ''}`,
      );
    }
    let live = input.instruments.filter((i) => !isExpired(i, nowMs));
    const refused = await this.coverage.notBackfillable(live.map((i) => i.token));
    if (refused.size) {
      notes.push(`${refused.size} contract${refused.size > 1 ? 's' : ''} marked not backfillable left out: ${[...refused.keys()].slice(0, 5).join(', ')}`);
      live = live.filter((i) => !refused.has(i.token));
    }

    const coverage = windowEnd > windowStart && live.length ? await this.coverage.coverage(live, windowStart, windowEnd) : new Map();
    const chunks: PlannedChunk[] = [];
    const units = new Map<string, number>();
    let missingMinutes = 0;
    let instruments = 0;
    for (const inst of live) {
      const expected = expectedMinutes(this.calendar, inst, windowStart, windowEnd);
      const gaps = coverage.get(inst.token)?.gaps(expected) ?? [];
      if (gaps.length === 0) continue;
      instruments++;
      chunkRuns(gaps).forEach((c, ordinal) => {
        const key = unitKey(inst, ordinal);
        if (!units.has(key)) units.set(key, units.size);
        const missing = runMinutes(c.gaps);
        missingMinutes += missing;
        chunks.push({ instrument: inst, from: c.from, to: c.to, gaps: c.gaps, missing, unit: units.get(key) as number });
      });
    }
    chunks.sort((a, b) => a.unit - b.unit);
    if (input.instruments.length > 0 && chunks.length === 0 && windowEnd > windowStart) notes.push('no gaps: every expected minute is covered');
    if (windowEnd <= windowStart) notes.push('empty window');
    return {
      windowStart,
      windowEnd,
      considered: [...input.instruments],
      chunks,
      instruments,
      missingMinutes,
      notes,
      fellBack: input.fellBack ?? false,
    };
  }
}

/** Seconds the plan needs at `perSecond` requests per second, after `ahead` requests already queued. */
export function etaSeconds(requests: number, ahead: number, perSecond: number): number {
  if (requests + ahead <= 0) return 0;
  return Math.ceil((requests + ahead) / perSecond);
}
