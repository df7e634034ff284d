// The strike distribution as served to traders (chain:distribution and GET /fo/strike-distribution): resolve the
// chain around ATM, make sure it is subscribed (smart subscription, when asked and enabled), wait for the ATM
// strikes' first data up to the wait-timeout flag at most, and answer from the market store. A chain nobody has
// subscribed yet answers promptly with its legs 'pending' and fills in on later requests.
import type { OiChangeBasis, StrikeDistribution, StrikeHistory, SubscriptionOutcome, Timeframe, UnderlyingInfo } from '../../shared/api';
import { DomainError } from '../../shared/result';
import type { FlagValues } from '../../shared/flags';
import { daysBetween, istDate } from '../calendar';
import type { Logger } from '../log';
import type { Queryable } from '../market/db';
import {
  distributionSeries,
  latestUnderlyingPrice,
  strikeHistoryRows,
  TIMEFRAME_MINUTES,
  type LegState,
  type ListedLeg,
  type UnderlyingPrice,
} from '../market/distribution';
import type { InstrumentRegistry } from '../registry/registry';
import type { EnsureResult, SubscriptionManager } from '../subscriptions/manager';
import { noSubscriptionOutcome, subscriptionOutcome } from '../subscriptions/outcome';
import type { Scheduler } from '../../shared/clock';
import { defaultExpiries, resolveChain, type ResolvedExpiry } from './resolve';

/** An index price older than this while bars are expected is not used to centre new subscriptions if a live one is near. */
const STALE_PRICE_MS = 3 * 60_000;
/** How long a chain request waits for that live price (within its own wait budget). */
const FRESH_PRICE_WAIT_MS = 5_000;
const FRESH_PRICE_POLL_MS = 250;

export interface DistributionRequest {
  symbol: string;
  expiries?: string[];
  timeframe: Timeframe;
  strikeRange: number;
  autoSubscribe: boolean;
  centerStrike?: number;
  side?: 'CE' | 'PE' | 'both';
  /** Answer the bucket ending at or before this instant (epoch ms) instead of the latest complete one. */
  at?: number;
  /** Answer the bucket still filling, marked partial (default false: the latest complete bucket). */
  includePartial?: boolean;
  /** What oi_change compares against (default one_hour_earlier). */
  oiChangeBasis?: OiChangeBasis;
}

export interface StrikeHistoryRequest {
  symbol: string;
  expiry: string;
  strike: number;
  timeframe: Timeframe;
  /** Look-back in session minutes. */
  minutes: number;
}

export interface ChainServiceOptions {
  db: Queryable;
  registry: InstrumentRegistry;
  /** Absent: no subscription service (answers from the store only). */
  manager?: () => SubscriptionManager | undefined;
  flags: { get<K extends keyof FlagValues>(key: K): FlagValues[K] };
  scheduler: Scheduler;
  /** Whether bars are expected at an instant (session, or always with the always-open devticker). */
  expectingData: (ms: number) => boolean;
  /** The underlyings the console offers (config). */
  underlyings: readonly string[];
  logger?: Logger;
}

export class ChainService {
  constructor(private readonly opts: ChainServiceOptions) {}

  private now(): number {
    return this.opts.scheduler.now();
  }

  /** Older than a streaming index leaves it while bars are expected (a last-session close, a stalled feed). */
  private stalePrice(price: UnderlyingPrice): boolean {
    const now = this.now();
    return this.opts.expectingData(now) && now - price.at > STALE_PRICE_MS;
  }

  async distribution(req: DistributionRequest): Promise<StrikeDistribution> {
    const started = this.now();
    const symbol = req.symbol.toUpperCase();
    const { registry, db } = this.opts;
    const listed = await registry.underlyings();
    if (!listed.includes(symbol) && !this.opts.underlyings.includes(symbol)) {
      throw new DomainError('NOT_FOUND', `unknown underlying ${symbol} (listed: ${listed.join(', ') || 'none'})`, 'symbol');
    }
    const today = istDate(started);
    const expiries = req.expiries?.length ? [...new Set(req.expiries)].sort() : await defaultExpiries(registry, symbol, today);
    const indexToken = registry.underlyingToken(symbol);
    const sides = req.side === 'CE' ? (['CE'] as const) : req.side === 'PE' ? (['PE'] as const) : (['CE', 'PE'] as const);

    const manager = this.opts.manager?.();
    const enabled = req.autoSubscribe && manager !== undefined && this.opts.flags.get('smart_subscription_enabled');
    const deadline = started + this.opts.flags.get('smart_subscription_wait_timeout') * 1000;
    const owner = (expiry: string) => `auto:${symbol} ${expiry}`;
    const chainOwner = owner(expiries[0] ?? today);
    let price = await latestUnderlyingPrice(db, { symbol, indexToken, atOrBefore: req.at, now: started });
    const results: EnsureResult[] = [];
    let capacityError: DomainError | null = null;

    // Without a price (or with only an old one) ATM is unknown: get the index streaming first (briefly), so the chain
    // is centred right.
    if (enabled && manager && (price === null || this.stalePrice(price)) && indexToken !== null && req.at === undefined) {
      try {
        results.push(await manager.ensureSubscribed([indexToken], { owner: chainOwner, rank: () => -1, waitMs: Math.max(0, deadline - this.now()), symbol }));
      } catch (err) {
        if (!(err instanceof DomainError && err.code === 'CAPACITY')) throw err;
        capacityError = err;
      }
      price = (await latestUnderlyingPrice(db, { symbol, indexToken, now: this.now() })) ?? price;
    }
    // The index's first stored data may be a backfilled bar of the last session (before the open, or with the
    // always-open devticker) while its live ticks are a few seconds away: centring the chain's subscriptions on it
    // would spend the 30-a-minute budget on strikes far from ATM. Wait briefly for a live price.
    const indexComing = () => indexToken !== null && manager !== undefined && ['active', 'pending'].includes(manager.statusOf(indexToken));
    if (enabled && req.at === undefined && price !== null && this.stalePrice(price) && indexComing()) {
      const until = Math.min(deadline, this.now() + FRESH_PRICE_WAIT_MS);
      while (price !== null && this.stalePrice(price) && this.now() < until) {
        await this.opts.scheduler.sleep(FRESH_PRICE_POLL_MS);
        price = (await latestUnderlyingPrice(db, { symbol, indexToken, now: this.now() })) ?? price;
      }
    }

    let chains = await resolveChain(registry, {
      symbol,
      expiries,
      strikesEachSide: req.strikeRange,
      price: price?.price ?? null,
      centerStrike: req.centerStrike,
      sides,
    });
    const legs = chains.flatMap((c) => c.legs);
    // Still no price although the index is on its way: subscribing strikes around a guessed centre would spend the
    // 30-a-minute budget (and reloads) on the wrong strikes. The next request, with a price, subscribes the chain.
    const centreKnown = price !== null || req.centerStrike !== undefined || indexToken === null;
    if (enabled && manager && !capacityError && req.at === undefined && centreKnown) {
      const ownerOf = new Map(legs.map((l) => [l.token, owner(l.expiry)]));
      const rankOf = new Map(legs.map((l) => [l.token, l.rank]));
      const tokens = legs.map((l) => l.token);
      if (indexToken !== null) {
        tokens.unshift(indexToken);
        ownerOf.set(indexToken, chainOwner);
        rankOf.set(indexToken, -1);
      }
      // The wait ends when the ATM strikes have data: the rest of the chain fills in on later requests.
      const atm = chains.flatMap((c) => c.legs.filter((l) => l.strike === c.centre).map((l) => l.token));
      try {
        results.push(
          await manager.ensureSubscribed(tokens, {
            owner: (t) => ownerOf.get(t) ?? chainOwner,
            rank: (t) => rankOf.get(t) ?? 0,
            waitFor: atm,
            waitMs: Math.max(0, deadline - this.now()),
            symbol,
          }),
        );
      } catch (err) {
        if (!(err instanceof DomainError && err.code === 'CAPACITY')) throw err;
        capacityError = err;
      }
      // Data may have arrived while waiting: centre on the freshest price.
      if (price === null) {
        price = await latestUnderlyingPrice(db, { symbol, indexToken, now: this.now() });
        if (price)
          chains = await resolveChain(registry, {
            symbol,
            expiries,
            strikesEachSide: req.strikeRange,
            price: price.price,
            centerStrike: req.centerStrike,
            sides,
          });
      }
    }

    const series = await distributionSeries(db, {
      symbol,
      timeframe: req.timeframe,
      expiries: chains,
      at: req.at,
      includePartial: req.includePartial,
      oiChangeBasis: req.oiChangeBasis,
      now: this.now(),
      expectingData: this.opts.expectingData,
      // Every listed option of the expiry: PCR and max pain are expiry-wide, whatever the strike window.
      listedLegs: async (expiry) =>
        (await registry.chain(symbol, expiry)).flatMap((i): ListedLeg[] =>
          i.instrumentType === 'CE' || i.instrumentType === 'PE' ? [{ strike: i.strike, side: i.instrumentType, token: i.token }] : [],
        ),
      legState: (token) => legState(manager, token),
      sides: { call: sides.includes('CE' as never), put: sides.includes('PE' as never) },
      price: price?.price ?? null,
    });
    const subscription = outcome(req.autoSubscribe, enabled, results, capacityError, chains, manager !== undefined);
    return {
      status: 'ok',
      symbol,
      timeframe: req.timeframe,
      series,
      metadata: {
        expiries,
        underlying_price: price?.price ?? null,
        underlying_time: price ? new Date(price.at).toISOString() : null,
        auto_subscribed: subscription.newly.length > 0,
        subscription,
      },
    };
  }

  /** OI, LTP and volume of both legs of one strike over time (chain:strikeHistory). */
  async strikeHistory(req: StrikeHistoryRequest): Promise<StrikeHistory> {
    const symbol = req.symbol.toUpperCase();
    const legs = (await this.opts.registry.chain(symbol, req.expiry)).filter((i) => i.strike === req.strike);
    const tokenOf = (side: 'CE' | 'PE') => legs.find((i) => i.instrumentType === side)?.token ?? null;
    const rows = await strikeHistoryRows(this.opts.db, {
      symbol,
      expiry: req.expiry,
      strike: req.strike,
      timeframe: req.timeframe,
      buckets: Math.ceil(req.minutes / TIMEFRAME_MINUTES[req.timeframe]),
      now: this.now(),
    });
    return {
      symbol,
      expiry: req.expiry,
      strike: req.strike,
      timeframe: req.timeframe,
      call_token: tokenOf('CE'),
      put_token: tokenOf('PE'),
      points: rows.map((r) => ({
        bucket_time: new Date(r.bucket).toISOString(),
        call_oi: r.callOi,
        put_oi: r.putOi,
        call_ltp: r.callLtp,
        put_ltp: r.putLtp,
        call_volume: r.callVolume,
        put_volume: r.putVolume,
      })),
    };
  }

  async underlyings(): Promise<UnderlyingInfo[]> {
    const { registry, db } = this.opts;
    const listed = await registry.underlyings();
    const offered = this.opts.underlyings.filter((u) => listed.includes(u));
    const names = offered.length ? offered : listed;
    const now = this.now();
    const today = istDate(now);
    return Promise.all(
      names.map(async (symbol): Promise<UnderlyingInfo> => {
        const token = registry.underlyingToken(symbol);
        const spot: UnderlyingPrice | null = await latestUnderlyingPrice(db, { symbol, indexToken: token, now });
        const expiries = await registry.expiries(symbol, today);
        const lastOfMonth = new Map<string, string>();
        for (const e of expiries) lastOfMonth.set(e.slice(0, 7), e);
        return {
          symbol,
          token,
          spot: spot?.price ?? null,
          spotTime: spot ? new Date(spot.at).toISOString() : null,
          strikeStep: expiries.length ? await registry.strikeStep(symbol, expiries[0], spot?.price) : null,
          expiries: expiries.map((expiry) => ({
            expiry,
            days_to_expiry: daysBetween(today, expiry),
            kind: lastOfMonth.get(expiry.slice(0, 7)) === expiry ? 'monthly' : 'weekly',
          })),
        };
      }),
    );
  }
}

function legState(manager: SubscriptionManager | undefined, token: number | null): Exclude<LegState, 'live'> {
  if (!manager || token === null) return 'missing';
  switch (manager.statusOf(token)) {
    case 'active':
    case 'pending':
      return 'pending';
    case 'backing_off':
    case 'failed':
      return 'failed';
    default:
      return 'missing';
  }
}

/** The subscription block of the answer, over the (at most two) ensure calls; legs refused for capacity are failed. */
function outcome(
  requested: boolean,
  enabled: boolean,
  results: EnsureResult[],
  capacityError: DomainError | null,
  chains: ResolvedExpiry[],
  hasManager: boolean,
): SubscriptionOutcome {
  if (!requested) return noSubscriptionOutcome('not_requested');
  if (!enabled || !hasManager) return noSubscriptionOutcome('disabled');
  const refused = capacityError ? chains.flatMap((c) => c.legs).map((leg) => ({ token: leg.token, reason: capacityError.message, retryAt: null })) : [];
  return subscriptionOutcome(results, refused);
}
