// The chain resolver: for (symbol, expiries, strikes each side) the listed CE and PE tokens around ATM, in the order
// they should be subscribed. ATM is the listed strike nearest the latest underlying price; the strike step comes
// from the registry (most common gap near ATM). Default expiries: the next 2 listed on or after the IST date.
import { legKey, nearestStrike, type ExpiryChainInput } from '../market/distribution';
import type { InstrumentRegistry } from '../registry/registry';

export interface ChainLeg {
  expiry: string;
  strike: number;
  side: 'CE' | 'PE';
  token: number;
  /** Subscribe order: nearest ATM first across every expiry, then the next ring out. */
  rank: number;
}

export interface ResolvedExpiry extends ExpiryChainInput {
  /** Listed in the registry (an expired or unknown expiry is still queried from the bars). */
  listed: boolean;
  /** The strike the range is centred on (ATM, a requested centre, or the middle listed strike without a price). */
  centre: number | null;
  legs: ChainLeg[];
}

export type ChainRegistry = Pick<InstrumentRegistry, 'chain' | 'strikeStep' | 'expiries'>;

export async function defaultExpiries(registry: Pick<InstrumentRegistry, 'expiries'>, symbol: string, todayIst: string, count = 2): Promise<string[]> {
  return (await registry.expiries(symbol, todayIst)).slice(0, count);
}

export async function resolveChain(
  registry: ChainRegistry,
  req: { symbol: string; expiries: readonly string[]; strikesEachSide: number; price: number | null; centerStrike?: number; sides?: readonly ('CE' | 'PE')[] },
): Promise<ResolvedExpiry[]> {
  const sides = req.sides ?? ['CE', 'PE'];
  return Promise.all(
    req.expiries.map(async (expiry, expiryIndex): Promise<ResolvedExpiry> => {
      const instruments = await registry.chain(req.symbol, expiry);
      const listedStrikes = [...new Set(instruments.map((i) => i.strike))].sort((a, b) => a - b);
      if (listedStrikes.length === 0) return { expiry, strikes: [], atm: null, step: null, tokens: new Map(), listed: false, centre: null, legs: [] };
      const step = await registry.strikeStep(req.symbol, expiry, req.price ?? undefined);
      const atm = nearestStrike(listedStrikes, req.price);
      const centre =
        req.centerStrike !== undefined ? nearestStrike(listedStrikes, req.centerStrike) : (atm ?? listedStrikes[Math.floor(listedStrikes.length / 2)]);
      const reach = req.strikesEachSide * step + step / 1000;
      const strikes = listedStrikes.filter((k) => Math.abs(k - (centre as number)) <= reach);
      const inRange = new Set(strikes);
      const tokens = new Map<string, number>();
      const legs: ChainLeg[] = [];
      for (const inst of instruments) {
        if (!inRange.has(inst.strike) || (inst.instrumentType !== 'CE' && inst.instrumentType !== 'PE')) continue;
        tokens.set(legKey(inst.strike, inst.instrumentType), inst.token);
        if (!sides.includes(inst.instrumentType)) continue;
        const ring = Math.round(Math.abs(inst.strike - (centre as number)) / step);
        legs.push({
          expiry,
          strike: inst.strike,
          side: inst.instrumentType,
          token: inst.token,
          rank: ring * 1000 + expiryIndex * 2 + (inst.instrumentType === 'PE' ? 1 : 0),
        });
      }
      legs.sort((a, b) => a.rank - b.rank);
      return { expiry, strikes, atm, step, tokens, listed: true, centre, legs };
    }),
  );
}
