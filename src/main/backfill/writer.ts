// The backfill writer: history candles -> 1-minute bars through the one bar writer (src/main/market/bars.ts), one
// idempotent batch statement per request, one transaction per write unit (both legs of a strike). Only the planned
// missing minutes are written; a complete live bucket is never clobbered (bars.ts enforces it). Rows are what
// docs/market-data.md says a history candle gives: OI snapshot, the candle's volume, greeks and underlying
// from the candle, no tick count. Minutes of the gaps without a candle are recorded as "no trades".
// Greeks are stored in true units: the real service's candles carry theta / 365 and vega / 100 like its live ticks
// (STRIKEDESK_SOURCE_GREEKS, default 'scaled'), all-zero greeks are missing, invalid values are dropped.
import { upsertInstrumentBars, upsertStrikeSides, type InstrumentBar, type StrikeSideBar } from '../market/bars';
import type { MarketDb } from '../market/db';
import { greeksInTrueUnits, SOURCE_GREEKS_DEFAULT, type SourceGreeks } from '../ingest/units';
import type { HistoryCandle } from '../ticker/types';
import type { CoverageStore } from './coverage-store';
import { candleMinute } from './fetcher';
import { MINUTE_MS, type GapRun, type PlannedInstrument } from './types';
import { runsToMinutes, toRuns } from './window';

const num = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

export function strikeSideBar(inst: PlannedInstrument, bucket: number, c: HistoryCandle, sourceGreeks: SourceGreeks = SOURCE_GREEKS_DEFAULT): StrikeSideBar {
  const g = greeksInTrueUnits({ iv: num(c.iv), delta: num(c.delta), gamma: num(c.gamma), theta: num(c.theta), vega: num(c.vega) }, sourceGreeks);
  return {
    symbol: inst.symbol,
    expiry: inst.expiry as string,
    strike: inst.strike as number,
    bucket,
    side: inst.side as 'CE' | 'PE',
    token: inst.token,
    oi: num(c.oi),
    volume: num(c.volume),
    open: num(c.open),
    high: num(c.high),
    low: num(c.low),
    close: num(c.close),
    ...g,
    ticks: null,
    greekTicks: null,
    underlyingClose: num(c.underlying),
    source: 'backfill',
    complete: true,
  };
}

export function instrumentBar(inst: PlannedInstrument, bucket: number, c: HistoryCandle): InstrumentBar {
  return {
    token: inst.token,
    bucket,
    symbol: inst.symbol,
    kind: inst.kind === 'future' ? 'future' : 'index',
    expiry: inst.kind === 'future' ? inst.expiry : null,
    open: num(c.open),
    high: num(c.high),
    low: num(c.low),
    close: num(c.close),
    volume: num(c.volume),
    oi: num(c.oi),
    ticks: null,
    source: 'backfill',
    complete: true,
  };
}

/** One fetched request of a unit: its instrument, the gap runs still missing, and the candles received. */
export interface FetchedChunk {
  instrument: PlannedInstrument;
  gaps: GapRun[];
  /** The window actually requested (failed windows inside it are cleared on success). */
  from: number;
  to: number;
  candles: HistoryCandle[];
  /** Failed windows were recorded for this instrument: clear those the request covered (saves a statement otherwise). */
  hadFailures?: boolean;
  /**
   * Only minutes that ended by this instant count as "no trades" when the answer lacks them: history of the last
   * minute or two can lag, and a no-trade record is never asked again. Later minutes stay missing for the next cycle.
   */
  settledBefore?: number;
}

/** How long after a minute ends its missing candle is taken as "no trades". */
export const NO_TRADE_SETTLE_MS = 2 * 60_000;

export interface ChunkWriteResult {
  rows: number;
  /** Missing minutes a candle was written for. */
  gapsFilled: number;
  noTradeRuns: GapRun[];
  noTradeMinutes: number;
}

/** Splits one chunk's candles into the gap minutes they fill and the gap minutes left without trades. */
export function matchCandles(chunk: FetchedChunk): { candles: Map<number, HistoryCandle>; noTrades: GapRun[] } {
  const wanted = new Set(runsToMinutes(chunk.gaps));
  const candles = new Map<number, HistoryCandle>();
  for (const c of chunk.candles) {
    const m = candleMinute(c);
    if (m !== null && wanted.has(m)) candles.set(m, c);
  }
  const settled = chunk.settledBefore ?? Number.POSITIVE_INFINITY;
  const noTrades = toRuns([...wanted].filter((m) => !candles.has(m) && m + MINUTE_MS <= settled).sort((a, b) => a - b));
  return { candles, noTrades };
}

/** Writes a unit's chunks in one transaction; returns per-chunk results in input order. */
export async function writeUnit(
  db: MarketDb,
  coverage: CoverageStore,
  chunks: readonly FetchedChunk[],
  opts: { sourceGreeks?: SourceGreeks } = {},
): Promise<ChunkWriteResult[]> {
  return db.transaction(async (tx) => {
    const results: ChunkWriteResult[] = [];
    for (const chunk of chunks) {
      const { candles, noTrades } = matchCandles(chunk);
      const inst = chunk.instrument;
      let rows = 0;
      if (candles.size > 0) {
        if (inst.kind === 'option')
          rows = await upsertStrikeSides(
            tx,
            [...candles].map(([m, c]) => strikeSideBar(inst, m, c, opts.sourceGreeks)),
          );
        else
          rows = await upsertInstrumentBars(
            tx,
            [...candles].map(([m, c]) => instrumentBar(inst, m, c)),
          );
      }
      await coverage.recordWindows(tx, inst.token, 'no_trades', noTrades, 'empty in-session history answer');
      if (chunk.hadFailures ?? true) await coverage.clearFailed(tx, inst.token, chunk.from, chunk.to);
      results.push({ rows, gapsFilled: candles.size, noTradeRuns: noTrades, noTradeMinutes: runsToMinutes(noTrades).length });
    }
    return results;
  });
}
