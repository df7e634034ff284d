// Pure shaping of a StrikeDistribution for the screen: rows by strike, fill progress, ATM IV and the smile's
// aligned arrays. Kept free of React so it is tested directly.
import type { ChainCoverage, ExpirySeries, StrikeDistribution, StrikeLeg, Timeframe } from '../../../shared/api';
import type { ConnectionState } from '../../api/transport';
import { ivPercent, isNum } from '../../format/numbers';

export interface StrikeRow {
  strike: number;
  call: StrikeLeg | null;
  put: StrikeLeg | null;
}

/** Call and put legs side by side, ascending strike (the contract lists both sides; a side may lack a strike). */
export function rowsOf(series: ExpirySeries): StrikeRow[] {
  const byStrike = new Map<number, StrikeRow>();
  for (const leg of series.call) byStrike.set(leg.strike, { strike: leg.strike, call: leg, put: byStrike.get(leg.strike)?.put ?? null });
  for (const leg of series.put) {
    const row = byStrike.get(leg.strike);
    if (row) row.put = leg;
    else byStrike.set(leg.strike, { strike: leg.strike, call: null, put: leg });
  }
  return [...byStrike.values()].sort((a, b) => a.strike - b.strike);
}

export interface FillProgress {
  strikes: number;
  liveStrikes: number;
  legs: number;
  live: number;
  pending: number;
  failed: number;
  missing: number;
  /** Still filling: some leg is pending. */
  filling: boolean;
}

/** "subscribing N strikes, M live": a strike counts as live once every listed leg of it has a bar. */
export function fillProgress(distribution: StrikeDistribution): FillProgress {
  const progress: FillProgress = { strikes: 0, liveStrikes: 0, legs: 0, live: 0, pending: 0, failed: 0, missing: 0, filling: false };
  for (const series of distribution.series) {
    for (const row of rowsOf(series)) {
      progress.strikes += 1;
      const legs = [row.call, row.put].filter((l): l is StrikeLeg => l !== null);
      if (legs.length > 0 && legs.every((l) => l.state === 'live')) progress.liveStrikes += 1;
      for (const leg of legs) {
        progress.legs += 1;
        progress[leg.state] += 1;
      }
    }
  }
  progress.filling = progress.pending > 0;
  return progress;
}

/**
 * A leg whose numbers are fit for summaries (the IV smile, ATM IV): it has data, trades (not illiquid) and is not
 * stale. An illiquid leg's IV comes from a quote nobody traded on; a stale one's from minutes ago.
 */
export const summarisable = (leg: StrikeLeg): boolean => leg.state === 'live' && !leg.illiquid && !leg.stale;

/** The strip's words: never "live" while the chain is frozen. */
export function fillText(progress: FillProgress, autoSubscribeOff: boolean, liveness: LivenessView): string {
  if (liveness.state !== 'live') return `Not live: ${progress.liveStrikes} of ${progress.strikes} strikes had data`;
  if (autoSubscribeOff && progress.live === 0)
    return `Auto-subscribe is off (flag smart_subscription_enabled); ${progress.liveStrikes} of ${progress.strikes} strikes have data`;
  if (progress.filling) return `Subscribing ${progress.strikes} strikes, ${progress.liveStrikes} live`;
  if (progress.liveStrikes === progress.strikes) return `${progress.strikes} strikes live`;
  return `${progress.liveStrikes} of ${progress.strikes} strikes live`;
}

/** ATM IV (percent): mean of the ATM call and put IVs that exist, from legs fit for summaries. */
export function atmIv(series: ExpirySeries): number | null {
  if (series.atm_strike === null) return null;
  const ivs = [...series.call, ...series.put]
    .filter((leg) => leg.strike === series.atm_strike && summarisable(leg))
    .map((leg) => ivPercent(leg.iv))
    .filter(isNum);
  return ivs.length ? ivs.reduce((a, b) => a + b, 0) / ivs.length : null;
}

export function totals(series: ExpirySeries): { callOi: number; putOi: number; callVolume: number; putVolume: number } {
  const sum = (legs: StrikeLeg[], pick: (l: StrikeLeg) => number | null) => legs.reduce((acc, l) => acc + (pick(l) ?? 0), 0);
  return {
    callOi: sum(series.call, (l) => l.oi),
    putOi: sum(series.put, (l) => l.oi),
    callVolume: sum(series.call, (l) => l.volume),
    putVolume: sum(series.put, (l) => l.volume),
  };
}

/** Largest |OI| and |change in OI| in a series: the scale of its mirrored bars. */
export function oiScale(series: ExpirySeries): { oi: number; change: number } {
  let oi = 0;
  let change = 0;
  for (const leg of [...series.call, ...series.put]) {
    if (isNum(leg.oi)) oi = Math.max(oi, Math.abs(leg.oi));
    if (isNum(leg.oi_change)) change = Math.max(change, Math.abs(leg.oi_change));
  }
  return { oi, change };
}

/** The IV smile as uPlot wants it: one sorted strike axis and, per expiry, call and put IV (percent) aligned to it. */
export function smileData(seriesList: ExpirySeries[]): { strikes: number[]; lines: { expiry: string; side: 'CE' | 'PE'; iv: (number | null)[] }[] } {
  const strikes = [...new Set(seriesList.flatMap((s) => [...s.call, ...s.put].map((l) => l.strike)))].sort((a, b) => a - b);
  const index = new Map(strikes.map((k, i) => [k, i]));
  const lines: { expiry: string; side: 'CE' | 'PE'; iv: (number | null)[] }[] = [];
  for (const series of seriesList) {
    for (const side of ['CE', 'PE'] as const) {
      const iv: (number | null)[] = new Array(strikes.length).fill(null);
      for (const leg of side === 'CE' ? series.call : series.put) {
        if (!summarisable(leg)) continue;
        const pct = ivPercent(leg.iv);
        if (pct !== null && pct > 0) iv[index.get(leg.strike) as number] = pct;
      }
      lines.push({ expiry: series.expiry, side, iv });
    }
  }
  return { strikes, lines };
}

/** Where the underlying sits between listed strikes: the index of the first row above spot (rows ascending). */
export function spotRowIndex(rows: StrikeRow[], spot: number | null): number | null {
  if (!isNum(spot) || rows.length === 0) return null;
  if (spot < rows[0].strike || spot > rows[rows.length - 1].strike) return null;
  const i = rows.findIndex((r) => r.strike > spot);
  return i === -1 ? rows.length : i;
}

/** The coverage of the expiry-wide figures, or null from a console that predates it. */
export const coverageOf = (series: ExpirySeries): ChainCoverage | null =>
  series.coverage && typeof series.coverage.legs_listed === 'number' ? series.coverage : null;

/**
 * Whether PCR and max pain are final: the bucket is complete and every listed leg that is wanted has data. An
 * answer without coverage (an older console) is treated as partial: nothing says it covers the chain.
 */
export function aggregatesPartial(series: ExpirySeries): boolean {
  const coverage = coverageOf(series);
  return series.partial === true || !coverage || !coverage.complete;
}

/** "9 of 42 legs with data, 33 pending" for the partial mark. */
export function coverageText(series: ExpirySeries): string {
  const c = coverageOf(series);
  if (!c) return 'coverage unknown (computed over the strikes shown)';
  const parts = [`${c.legs_with_data} of ${c.legs_listed} legs`, `${c.strikes_with_data} of ${c.strikes_listed} strikes with data`];
  if (c.legs_pending > 0) parts.push(`${c.legs_pending} pending`);
  return parts.join(', ');
}

/** The biggest call and put OI strikes (the walls traders read as resistance and support). */
export function oiWalls(series: ExpirySeries, count = 2): { call: Set<number>; put: Set<number> } {
  const top = (legs: StrikeLeg[]) =>
    new Set(
      legs
        .filter((l) => isNum(l.oi) && (l.oi as number) > 0)
        .sort((a, b) => (b.oi as number) - (a.oi as number))
        .slice(0, count)
        .map((l) => l.strike),
    );
  return { call: top(series.call), put: top(series.put) };
}

/** Milliseconds since a leg last traded, or null when unknown. */
export const legAgeMs = (leg: StrikeLeg | null, now: number): number | null => (leg?.last_trade_at ? Math.max(0, now - Date.parse(leg.last_trade_at)) : null);

export const TIMEFRAME_MS: Record<Timeframe, number> = { '1min': 60_000, '5min': 300_000, '15min': 900_000 };

/** Slack for the newest bar's own settling and the refresh after it. */
const STALE_GRACE_MS = 30_000;
const barEnd = (s: ExpirySeries): number | null => {
  const end = Date.parse(s.bucket_end ?? '');
  if (Number.isFinite(end)) return end;
  const start = Date.parse(s.bucket_time ?? '');
  return Number.isFinite(start) ? start : null;
};

export type ChainLiveness = 'live' | 'stale' | 'reconnecting' | 'unreachable' | 'unauthorized' | 'failing';
export interface LivenessView {
  state: ChainLiveness;
  /** The instant the data on screen stopped moving (IST on screen), when it has. */
  frozenSince: number | null;
  /** Why, in the trader's words. */
  reason: string;
}

/**
 * Is what the chain shows live? Not when the console is gone or refuses the token, not while the push stream is
 * down, not when the last refresh failed, and not when the series' own bars are stale. frozenSince is the last
 * answer's time for a connection problem and the newest bar's end for stale data.
 */
export function chainLiveness(input: {
  connection: ConnectionState;
  /** When the shown answer arrived (ms), 0 if never. */
  answeredAt: number;
  refreshFailed: boolean;
  series: ExpirySeries[];
  /** Now (ms) and the bar length: a newest bar older than two bars is stale even if no answer said so, because a
   * feed that stopped sends no push, so no new answer arrives to say it. */
  now?: number;
  timeframe?: Timeframe;
}): LivenessView {
  const since = input.answeredAt > 0 ? input.answeredAt : null;
  if (input.connection === 'unreachable') return { state: 'unreachable', frozenSince: since, reason: 'the console is not reachable (stopped or network down)' };
  if (input.connection === 'unauthorized') return { state: 'unauthorized', frozenSince: since, reason: 'the console refused this page’s API token (401)' };
  if (input.connection === 'lost') return { state: 'reconnecting', frozenSince: since, reason: 'the update stream dropped; reconnecting' };
  if (input.refreshFailed) return { state: 'failing', frozenSince: since, reason: 'the last refresh failed' };
  // One stale expiry dims its own panel; the whole chain is frozen when every expiry with bars is.
  const withBars = input.series.filter((s) => s.bucket_time !== null || s.is_stale);
  const stale = withBars.filter((s) => s.is_stale);
  if (stale.length > 0 && stale.length === withBars.length) {
    const ends = stale.map(barEnd).filter(isNum);
    return { state: 'stale', frozenSince: ends.length ? Math.min(...ends) : since, reason: 'no new bars: the feed has gone quiet' };
  }
  if (input.now !== undefined && input.timeframe) {
    const limit = 2 * TIMEFRAME_MS[input.timeframe] + STALE_GRACE_MS;
    const ends = input.series.map(barEnd).filter(isNum);
    const newest = ends.length ? Math.max(...ends) : null;
    if (newest !== null && input.now - newest > limit) {
      return { state: 'stale', frozenSince: newest, reason: 'no new bar for over two bars (the feed is quiet or the market is closed)' };
    }
  }
  return { state: 'live', frozenSince: null, reason: '' };
}

/** Equal legs render the same: lets memoized rows skip a refetch that changed nothing for them. */
export function sameLeg(a: StrikeLeg | null, b: StrikeLeg | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.oi === b.oi &&
    a.oi_change === b.oi_change &&
    a.volume === b.volume &&
    a.day_volume === b.day_volume &&
    a.ltp === b.ltp &&
    a.ltp_change === b.ltp_change &&
    a.last_trade_at === b.last_trade_at &&
    a.stale === b.stale &&
    a.iv === b.iv &&
    a.delta === b.delta &&
    a.gamma === b.gamma &&
    a.theta === b.theta &&
    a.vega === b.vega &&
    a.state === b.state &&
    a.illiquid === b.illiquid &&
    a.moneyness === b.moneyness &&
    a.token === b.token
  );
}
