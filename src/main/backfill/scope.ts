// Which instruments a backfill scope means: one instrument (an option with its other leg), an option chain around
// ATM, an underlying (index + near future + ATM chain), or the actively subscribed set. With the flag
// backfill_subscription_aware off, or when the subscription snapshot cannot be had, the configured underlyings are
// used instead, and the notes say so.
import type { BackfillScope } from '../../shared/api';
import { istDate } from '../calendar';
import type { PlannedInstrument, RegistryInstrument, RegistryView, SnapshotSource } from './types';

export interface ScopeDeps {
  registry: RegistryView | undefined;
  subscriptions: SnapshotSource | undefined;
  subscriptionAware: boolean;
  underlyings: readonly string[];
  strikesEachSide: number;
  /** Latest underlying price, or null when none is known. */
  spot(symbol: string, indexToken: number | null): Promise<number | null>;
  nowMs: number;
}

export interface ResolvedScope {
  instruments: PlannedInstrument[];
  label: string;
  notes: string[];
  /** The snapshot could not be had: the configured underlyings were used. */
  fellBack: boolean;
}

/** Registry instrument -> planner instrument; null for instruments backfill has no bar table for. */
export function toPlanned(inst: RegistryInstrument): PlannedInstrument | null {
  const type = inst.instrumentType.toUpperCase();
  const base = { token: inst.token, symbol: inst.name, tradingsymbol: inst.tradingsymbol, expiry: inst.expiry };
  if (type === 'CE' || type === 'PE') return { ...base, kind: 'option', strike: inst.strike, side: type };
  if (type === 'FUT') return { ...base, kind: 'future', strike: null, side: null };
  if (inst.segment.toUpperCase() === 'INDICES') return { ...base, kind: 'index', expiry: null, strike: null, side: null };
  return null;
}

function uniqueByToken(list: PlannedInstrument[]): PlannedInstrument[] {
  const seen = new Set<number>();
  return list.filter((i) => (seen.has(i.token) ? false : (seen.add(i.token), true)));
}

/** The listed strikes of a chain within `range` strikes of the one nearest `spot` (the middle one without a spot). */
export function atmSlice(chain: readonly RegistryInstrument[], spot: number | null, range: number): RegistryInstrument[] {
  const strikes = [...new Set(chain.map((i) => i.strike))].sort((a, b) => a - b);
  if (strikes.length === 0) return [];
  let atm = Math.floor((strikes.length - 1) / 2);
  if (spot !== null) {
    for (let i = 0; i < strikes.length; i++) if (Math.abs(strikes[i] - spot) < Math.abs(strikes[atm] - spot)) atm = i;
  }
  const wanted = new Set(strikes.slice(Math.max(0, atm - range), atm + range + 1));
  return chain.filter((i) => wanted.has(i.strike));
}

const planned = (list: RegistryInstrument[]): PlannedInstrument[] => list.map(toPlanned).filter((i): i is PlannedInstrument => i !== null);

async function chainInstruments(
  deps: ScopeDeps,
  registry: RegistryView,
  symbol: string,
  expiries: readonly string[],
  range: number,
  notes: string[],
): Promise<PlannedInstrument[]> {
  const indexToken = registry.underlyingToken(symbol);
  const spot = await deps.spot(symbol, indexToken);
  if (spot === null) notes.push(`${symbol}: no underlying price known, chain centred on the middle listed strike`);
  const out: PlannedInstrument[] = [];
  for (const expiry of expiries) {
    const chain = await registry.chain(symbol, expiry);
    if (chain.length === 0) notes.push(`${symbol} ${expiry}: no listed options`);
    // Strike order, call before put: both legs of a strike sit together in the plan.
    const legs = planned(atmSlice(chain, spot, range)).sort((a, b) => (a.strike ?? 0) - (b.strike ?? 0) || (a.side ?? '').localeCompare(b.side ?? ''));
    out.push(...legs);
  }
  return out;
}

async function underlyingBundle(deps: ScopeDeps, registry: RegistryView, symbol: string, notes: string[]): Promise<PlannedInstrument[]> {
  const today = istDate(deps.nowMs);
  const out: PlannedInstrument[] = [];
  const indexToken = registry.underlyingToken(symbol);
  if (indexToken !== null) out.push(await indexInstrument(registry, symbol, indexToken));
  else notes.push(`${symbol}: no index token known`);
  const futures = (await registry.futures(symbol))
    .filter((f) => f.expiry !== null && f.expiry >= today)
    .sort((a, b) => (a.expiry ?? '').localeCompare(b.expiry ?? ''));
  if (futures[0]) out.push(...planned([futures[0]]));
  const [nearest] = await registry.expiries(symbol, today);
  if (nearest) out.push(...(await chainInstruments(deps, registry, symbol, [nearest], deps.strikesEachSide, notes)));
  else notes.push(`${symbol}: no live option expiry listed`);
  return out;
}

/** The index of an underlying; bars are keyed by the underlying's name even when the registry row says otherwise. */
async function indexInstrument(registry: RegistryView, symbol: string, token: number): Promise<PlannedInstrument> {
  const row = (await registry.byTokens([token])).get(token);
  return { token, kind: 'index', symbol, tradingsymbol: row?.tradingsymbol ?? symbol, expiry: null, strike: null, side: null };
}

async function fallback(deps: ScopeDeps, registry: RegistryView, notes: string[]): Promise<PlannedInstrument[]> {
  const out: PlannedInstrument[] = [];
  for (const symbol of deps.underlyings) out.push(...(await underlyingBundle(deps, registry, symbol, notes)));
  return out;
}

export async function resolveScope(scope: BackfillScope, deps: ScopeDeps): Promise<ResolvedScope> {
  const notes: string[] = [];
  const registry = deps.registry;
  const none = (label: string, note: string): ResolvedScope => ({ instruments: [], label, notes: [...notes, note], fellBack: false });

  if (scope.kind === 'subscribed') {
    if (!registry) return none('subscribed instruments', 'instrument registry not available: nothing can be planned');
    if (!deps.subscriptionAware) {
      notes.push(`flag backfill_subscription_aware is off: configured underlyings ${deps.underlyings.join(', ')} (index, near future, ATM chain)`);
      return {
        instruments: uniqueByToken(await fallback(deps, registry, notes)),
        label: `configured underlyings (${deps.underlyings.join(', ')})`,
        notes,
        fellBack: false,
      };
    }
    let tokens: Set<number>;
    try {
      if (!deps.subscriptions) throw new Error('subscription manager not running');
      tokens = (await deps.subscriptions.activeSnapshot()).tokens;
    } catch (err) {
      notes.push(
        `subscription snapshot unavailable (${(err as Error).message}): fell back to configured underlyings ${deps.underlyings.join(', ')} (index, near future, ATM chain)`,
      );
      return {
        instruments: uniqueByToken(await fallback(deps, registry, notes)),
        label: `configured underlyings (fallback: ${deps.underlyings.join(', ')})`,
        notes,
        fellBack: true,
      };
    }
    if (tokens.size === 0) return none('subscribed instruments', 'no active subscriptions: nothing to do');
    const found = await registry.byTokens([...tokens]);
    // Index rows carry the index's own name in a Kite dump (NIFTY 50); bars are keyed by the underlying (NIFTY).
    const indexSymbol = new Map<number, string>();
    for (const symbol of new Set([...(await registry.underlyings()), ...deps.underlyings])) {
      const token = registry.underlyingToken(symbol);
      if (token !== null) indexSymbol.set(token, symbol);
    }
    const out: PlannedInstrument[] = [];
    let unknown = 0;
    let unsupported = 0;
    for (const token of [...tokens].sort((a, b) => a - b)) {
      const inst = found.get(token);
      if (!inst) unknown++;
      else {
        const p = toPlanned(inst);
        if (p) out.push(p.kind === 'index' ? { ...p, symbol: indexSymbol.get(token) ?? p.symbol } : p);
        else unsupported++;
      }
    }
    if (unknown) notes.push(`${unknown} subscribed tokens not in the instrument registry`);
    if (unsupported) notes.push(`${unsupported} subscribed instruments are neither index, future nor option`);
    return { instruments: sortForPlan(out), label: `subscribed instruments (${tokens.size})`, notes, fellBack: false };
  }

  if (!registry) return none(describeScope(scope), 'instrument registry not available: nothing can be planned');

  if (scope.kind === 'instrument') {
    const inst = (await registry.byTokens([scope.token])).get(scope.token);
    if (!inst) return none(`token ${scope.token}`, `token ${scope.token} is not in the instrument registry`);
    const p = toPlanned(inst);
    if (!p) return none(inst.tradingsymbol, `${inst.tradingsymbol} is neither index, future nor option`);
    const out = [p];
    // Both legs of a strike: the distribution row needs the call and the put.
    if (p.kind === 'option' && p.expiry) {
      const other = (await registry.chain(p.symbol, p.expiry)).find(
        (i) => i.strike === p.strike && i.instrumentType.toUpperCase() === (p.side === 'CE' ? 'PE' : 'CE'),
      );
      const otherLeg = other ? toPlanned(other) : null;
      if (otherLeg) out.push(otherLeg);
    }
    return { instruments: sortForPlan(out), label: out.length > 1 ? `${p.tradingsymbol} (both legs)` : p.tradingsymbol, notes, fellBack: false };
  }

  if (scope.kind === 'chain') {
    const symbol = scope.symbol.toUpperCase();
    const expiries = scope.expiries?.length ? scope.expiries : (await registry.expiries(symbol, istDate(deps.nowMs))).slice(0, 1);
    if (expiries.length === 0) return none(describeScope(scope), `${symbol}: no live option expiry listed`);
    const out: PlannedInstrument[] = [];
    const indexToken = registry.underlyingToken(symbol);
    if (indexToken !== null) out.push(await indexInstrument(registry, symbol, indexToken));
    out.push(...(await chainInstruments(deps, registry, symbol, expiries, scope.strikeRange, notes)));
    return { instruments: uniqueByToken(out), label: `${symbol} chain ${expiries.join(', ')} ±${scope.strikeRange}`, notes, fellBack: false };
  }

  const symbol = scope.symbol.toUpperCase();
  return {
    instruments: uniqueByToken(await underlyingBundle(deps, registry, symbol, notes)),
    label: `${symbol} index, near future, ATM chain ±${deps.strikesEachSide}`,
    notes,
    fellBack: false,
  };
}

/** Index first, then futures, then option legs by symbol, expiry, strike, call before put. */
export function sortForPlan(list: PlannedInstrument[]): PlannedInstrument[] {
  const rank = { index: 0, future: 1, option: 2 } as const;
  return uniqueByToken(list).sort(
    (a, b) =>
      rank[a.kind] - rank[b.kind] ||
      a.symbol.localeCompare(b.symbol) ||
      (a.expiry ?? '').localeCompare(b.expiry ?? '') ||
      (a.strike ?? 0) - (b.strike ?? 0) ||
      (a.side ?? '').localeCompare(b.side ?? ''),
  );
}

export function describeScope(scope: BackfillScope): string {
  switch (scope.kind) {
    case 'instrument':
      return `token ${scope.token}`;
    case 'chain':
      return `${scope.symbol.toUpperCase()} chain${scope.expiries?.length ? ` ${scope.expiries.join(', ')}` : ''} ±${scope.strikeRange}`;
    case 'symbol':
      return scope.symbol.toUpperCase();
    case 'subscribed':
      return 'subscribed instruments';
  }
}
