// Pure shaping of a StrikeDistribution for the screen: rows by strike, fill progress, ATM IV and the smile's
// aligned arrays. Kept free of React so it is tested directly.
import type { ExpirySeries, StrikeDistribution, StrikeLeg } from '../../../shared/api';
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

/** ATM IV (percent): mean of the ATM call and put IVs that exist. */
export function atmIv(series: ExpirySeries): number | null {
  if (series.atm_strike === null) return null;
  const ivs = [...series.call, ...series.put]
    .filter((leg) => leg.strike === series.atm_strike)
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

/** Equal legs render the same: lets memoized rows skip a refetch that changed nothing for them. */
export function sameLeg(a: StrikeLeg | null, b: StrikeLeg | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.oi === b.oi &&
    a.oi_change === b.oi_change &&
    a.volume === b.volume &&
    a.ltp === b.ltp &&
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
