// The chain resolver over the real instrument registry (PGlite, loaded from the embedded devticker's registry as a
// Kite CSV), checked against the devticker's own list of options: which strikes a request covers, where it is centred,
// and the order its legs are subscribed in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevTicker, type DevTicker } from '../../devticker';
import { ManualClock } from '../../testing/clock';
import { fromIstWallClock } from '../calendar';
import { createTestMarketDb, type TestMarketDb } from '../market/testing/db';
import { InstrumentRegistry } from '../registry/registry';
import { defaultExpiries, resolveChain, type ChainLeg } from './resolve';

const T0 = fromIstWallClock('2025-11-04T11:00:00');
const TODAY = '2025-11-04';

let store: TestMarketDb;
let dt: DevTicker;
let registry: InstrumentRegistry;

/** Listed strikes of one expiry, from the devticker's own registry. */
const listedStrikes = (expiry: string): number[] => [...new Set(dt.registry.chain('NIFTY', expiry).map((i) => i.strike))].sort((a, b) => a - b);
const stepOf = (strikes: number[]): number => Math.min(...strikes.slice(1).map((k, i) => k - strikes[i]));
const nearestTo = (strikes: number[], price: number): number => strikes.reduce((best, k) => (Math.abs(k - price) < Math.abs(best - price) ? k : best));
const tokenOf = (expiry: string, strike: number, side: 'CE' | 'PE'): number | undefined =>
  dt.registry.chain('NIFTY', expiry).find((i) => i.strike === strike && i.instrumentType === side)?.token;

beforeAll(async () => {
  const clock = new ManualClock(T0);
  store = await createTestMarketDb('pglite');
  dt = await startDevTicker({ port: 0, clock, autoTick: false });
  registry = new InstrumentRegistry({ db: store.db, clock, source: { kind: 'text', label: 'embedded devticker registry', csv: () => dt.registry.toCsv() } });
  await registry.probe();
  await registry.refresh();
});

afterAll(async () => {
  await dt?.close();
  await store?.close();
});

describe('resolveChain', () => {
  it('covers the listed strikes within N steps of ATM, nearest ATM first across expiries, CE before PE', async () => {
    const expiries = await defaultExpiries(registry, 'NIFTY', TODAY);
    expect(expiries).toEqual(dt.registry.expiries('NIFTY').slice(0, 2));
    const first = listedStrikes(expiries[0]);
    const step = stepOf(first);
    // Between two strikes, nearer the middle one: ATM is unambiguous.
    const price = first[Math.floor(first.length / 2)] + step / 4;

    const chains = await resolveChain(registry, { symbol: 'NIFTY', expiries, strikesEachSide: 3, price });

    chains.forEach((chain, expiryIndex) => {
      const expiry = expiries[expiryIndex];
      const listed = listedStrikes(expiry);
      const atm = nearestTo(listed, price);
      expect(chain).toMatchObject({ expiry, listed: true, atm, centre: atm, step });
      expect(chain.strikes).toEqual(listed.filter((k) => Math.abs(k - atm) <= 3 * step));
      expect(chain.strikes).toHaveLength(7);
      expect(chain.legs).toHaveLength(14);
      for (const leg of chain.legs) expect(leg.token).toBe(tokenOf(expiry, leg.strike, leg.side));
    });

    // Subscribe order over both expiries: ring out from ATM, then expiry, then CE before PE (a ring's two strikes tie).
    const legs = chains.flatMap((c) => c.legs).sort((a, b) => a.rank - b.rank);
    const key = (l: ChainLeg) => [
      Math.round(Math.abs(l.strike - (chains[expiries.indexOf(l.expiry)].atm as number)) / step),
      expiries.indexOf(l.expiry),
      l.side === 'CE' ? 0 : 1,
    ];
    for (let i = 1; i < legs.length; i++) {
      const [a, b] = [key(legs[i - 1]), key(legs[i])];
      expect(a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] <= b[2])))).toBe(true);
    }
    expect(legs.slice(0, 4).map((l) => [l.expiry, l.side])).toEqual([
      [expiries[0], 'CE'],
      [expiries[0], 'PE'],
      [expiries[1], 'CE'],
      [expiries[1], 'PE'],
    ]);
  });

  it('centres on a requested strike, keeps both sides in the token map for a one-sided request', async () => {
    const [expiry] = await defaultExpiries(registry, 'NIFTY', TODAY);
    const listed = listedStrikes(expiry);
    const step = stepOf(listed);
    const atm = listed[Math.floor(listed.length / 2)];
    const [chain] = await resolveChain(registry, {
      symbol: 'NIFTY',
      expiries: [expiry],
      strikesEachSide: 2,
      price: atm,
      centerStrike: atm + 4 * step,
      sides: ['PE'],
    });

    expect(chain.atm).toBe(atm);
    expect(chain.centre).toBe(atm + 4 * step);
    expect(chain.strikes).toEqual(listed.filter((k) => Math.abs(k - (atm + 4 * step)) <= 2 * step));
    expect(chain.legs.map((l) => l.side)).toEqual(chain.strikes.map(() => 'PE'));
    expect(chain.tokens.size).toBe(2 * chain.strikes.length);
    expect(chain.legs[0]).toMatchObject({ strike: atm + 4 * step, token: tokenOf(expiry, atm + 4 * step, 'PE') });
  });

  it('without a price centres on the middle listed strike with no ATM; an unlisted expiry has no legs', async () => {
    const [expiry] = await defaultExpiries(registry, 'NIFTY', TODAY);
    const listed = listedStrikes(expiry);
    const [chain, unlisted] = await resolveChain(registry, { symbol: 'NIFTY', expiries: [expiry, '2031-01-02'], strikesEachSide: 1, price: null });

    expect(chain.atm).toBeNull();
    expect(chain.centre).toBe(listed[Math.floor(listed.length / 2)]);
    expect(chain.strikes).toHaveLength(3);
    expect(unlisted).toMatchObject({ expiry: '2031-01-02', listed: false, strikes: [], atm: null, centre: null, legs: [] });
  });
});
