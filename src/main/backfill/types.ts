// Backfill's own vocabulary, and the parts of the other services it depends on (structural interfaces, so the
// instrument registry, subscription manager and ticker client of issue 4 plug in as they are).
import type { OptionSide } from '../../shared/api';

/** An instrument as the registry describes it (InstrumentRegistry, src/main/registry). */
export interface RegistryInstrument {
  token: number;
  tradingsymbol: string;
  /** The underlying, e.g. NIFTY. */
  name: string;
  segment: string;
  instrumentType: string;
  strike: number;
  expiry: string | null;
  tickSize?: number;
  lotSize?: number;
  exchange?: string;
  isActive?: boolean;
}

/** What the planner needs from the instrument registry. */
export interface RegistryView {
  byTokens(tokens: readonly number[]): Promise<Map<number, RegistryInstrument>>;
  expiries(symbol: string, onOrAfterIstDate: string): Promise<string[]>;
  chain(symbol: string, expiry: string): Promise<RegistryInstrument[]>;
  underlyingToken(symbol: string): number | null;
  futures(symbol: string): Promise<RegistryInstrument[]>;
  underlyings(): Promise<string[]>;
}

/** What the planner needs from the subscription manager. */
export interface SnapshotSource {
  /** Rejects when the active set cannot be had. */
  activeSnapshot(): Promise<{ tokens: Set<number>; takenAt: number }>;
}

export type InstrumentKind = 'index' | 'future' | 'option';

/** One instrument the planner considers (index, future, or one option leg). */
export interface PlannedInstrument {
  token: number;
  kind: InstrumentKind;
  /** Underlying name: the symbol of the bar rows. */
  symbol: string;
  tradingsymbol: string;
  expiry: string | null;
  /** Option legs only. */
  strike: number | null;
  side: OptionSide | null;
}

/** A run of consecutive missing 1-minute buckets [from, to), inside one session. */
export type GapRun = [from: number, to: number];

/** One planned history request. */
export interface PlannedChunk {
  instrument: PlannedInstrument;
  /** Request window [from, to), clipped to sessions and the contract's life; at most Kite's maximum days. */
  from: number;
  to: number;
  gaps: GapRun[];
  /** Missing minutes in `gaps`. */
  missing: number;
  /** Chunks sharing a unit are fetched together and written in one batch (both legs of a strike). */
  unit: number;
}

export type Trigger = 'scheduled' | 'immediate' | 'manual';

export interface Plan {
  windowStart: number;
  windowEnd: number;
  /** Instruments looked at (after scope resolution, before gap detection). */
  considered: PlannedInstrument[];
  chunks: PlannedChunk[];
  /** Instruments with at least one planned request. */
  instruments: number;
  missingMinutes: number;
  /** Human-readable facts about the plan: fallbacks, skipped contracts, nothing to do. */
  notes: string[];
  /** True when the subscription snapshot could not be had and the configured underlyings were used. */
  fellBack: boolean;
}

export const KITE_MAX_DAYS_MINUTE = 60;
export const MINUTE_MS = 60_000;
/** The Kite history budget the ETA is computed with (the TickerClient enforces it). */
export const HISTORY_REQUESTS_PER_SECOND = 3;
