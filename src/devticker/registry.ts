// The devticker's instrument registry: what the daily Kite instruments dump would hold on an IST date, generated
// deterministically from (seed, date). Live contracts (expiry >= date) plus recently expired ones: the real
// registry keeps expired tokens (history reaches Kite and fails), but they are inactive for subscriptions.
import {
  type HolidayCalendar,
  type IstDate,
  type Weekday,
  DEFAULT_EXPIRY_WEEKDAY,
  futureSymbol,
  isMonthlyExpiry,
  monthlyOptionSymbol,
  nextMonthlyExpiries,
  nextWeeklyExpiries,
  previousMonthlyExpiries,
  previousWeeklyExpiries,
  weeklyOptionSymbol,
} from '../shared/calendar';
import { fnv1a, hash4 } from './hash';

export const KITE_CSV_HEADER =
  'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';

export interface UnderlyingSpec {
  /** Normalized name: NIFTY, BANKNIFTY, FINNIFTY, MIDCPNIFTY. */
  name: string;
  /** Index tradingsymbol in the dump: NIFTY 50, NIFTY BANK, ... */
  indexSymbol: string;
  indexToken: number;
  step: number;
  lotSize: number;
  baseSpot: number;
  /** ATM implied vol level (decimal). */
  atmVol: number;
  /** Annualised realised vol of the index walk. */
  realisedVol: number;
  weeklies: boolean;
  /** Position in UNDERLYINGS, used as a hash key. */
  ordinal: number;
}

export const UNDERLYINGS: readonly UnderlyingSpec[] = [
  {
    name: 'NIFTY',
    indexSymbol: 'NIFTY 50',
    indexToken: 256265,
    step: 50,
    lotSize: 75,
    baseSpot: 26000,
    atmVol: 0.11,
    realisedVol: 0.12,
    weeklies: true,
    ordinal: 0,
  },
  {
    name: 'BANKNIFTY',
    indexSymbol: 'NIFTY BANK',
    indexToken: 260105,
    step: 100,
    lotSize: 35,
    baseSpot: 59000,
    atmVol: 0.13,
    realisedVol: 0.14,
    weeklies: false,
    ordinal: 1,
  },
  {
    name: 'FINNIFTY',
    indexSymbol: 'NIFTY FIN SERVICE',
    indexToken: 257801,
    step: 50,
    lotSize: 65,
    baseSpot: 27500,
    atmVol: 0.12,
    realisedVol: 0.13,
    weeklies: false,
    ordinal: 2,
  },
  {
    name: 'MIDCPNIFTY',
    indexSymbol: 'NIFTY MID SELECT',
    indexToken: 288009,
    step: 25,
    lotSize: 140,
    baseSpot: 13500,
    atmVol: 0.15,
    realisedVol: 0.16,
    weeklies: false,
    ordinal: 3,
  },
];

export type InstrumentKind = 'index' | 'option' | 'future';

/** One row of Kite's instruments dump / the service's instrument_registry table. */
export interface KiteRow {
  instrument_token: number;
  exchange_token: number;
  tradingsymbol: string;
  name: string;
  expiry: string | null;
  strike: number;
  tick_size: number;
  lot_size: number;
  instrument_type: string;
  segment: string;
  exchange: string;
  is_active: boolean;
}

export interface Instrument {
  token: number;
  exchangeToken: number;
  tradingsymbol: string;
  /** The underlying's normalized name (NIFTY for NIFTY 50 and its derivatives). */
  name: string;
  kind: InstrumentKind;
  instrumentType: 'CE' | 'PE' | 'FUT' | 'EQ';
  segment: 'INDICES' | 'NFO-OPT' | 'NFO-FUT';
  exchange: 'NSE' | 'NFO';
  expiry: IstDate | null;
  /** 0 for futures and indices. */
  strike: number;
  tickSize: number;
  lotSize: number;
  /** Weekly (non-monthly) option expiry. */
  weekly: boolean;
  underlying: UnderlyingSpec;
  /** Expired contracts stay known (history answers 502) but are inactive (POST answers 404). */
  expired: boolean;
}

export interface RegistryOptions {
  seed: number;
  date: IstDate;
  calendar: HolidayCalendar;
  expiryWeekday?: Weekday;
  /** Strikes each side of the centre strike for live expiries (default 60: 121 strikes per expiry). */
  strikesPerSide?: number;
  /** NIFTY weekly expiries listed (default 4). */
  weeklyExpiries?: number;
  /** Monthly expiries listed per underlying, options and futures (default 3). */
  monthlyExpiries?: number;
}

const EXPIRED_STRIKES_PER_SIDE = 20;

type Draft = Omit<Instrument, 'token' | 'exchangeToken'>;

export class Registry {
  readonly date: IstDate;
  readonly seed: number;
  /** Live instruments: indices first, then derivatives by underlying, expiry, strike, type. */
  readonly live: Instrument[];
  readonly expired: Instrument[];
  readonly refreshedAt: number;
  private readonly byTokenMap = new Map<number, Instrument>();
  private readonly bySymbol = new Map<string, Instrument>();
  private csvCache: string | null = null;

  constructor(opts: RegistryOptions, refreshedAt = Date.now()) {
    this.date = opts.date;
    this.seed = opts.seed;
    this.refreshedAt = refreshedAt;
    const weekday = opts.expiryWeekday ?? DEFAULT_EXPIRY_WEEKDAY;
    const perSide = opts.strikesPerSide ?? 60;
    const drafts: Draft[] = [];
    for (const u of UNDERLYINGS) {
      drafts.push({
        tradingsymbol: u.indexSymbol,
        name: u.name,
        kind: 'index',
        instrumentType: 'EQ',
        segment: 'INDICES',
        exchange: 'NSE',
        expiry: null,
        strike: 0,
        tickSize: 0.05,
        lotSize: 1,
        weekly: false,
        underlying: u,
        expired: false,
      });
    }
    for (const expired of [false, true]) {
      for (const u of UNDERLYINGS) {
        const monthlies = expired
          ? previousMonthlyExpiries(opts.date, 3, weekday, opts.calendar)
          : nextMonthlyExpiries(opts.date, opts.monthlyExpiries ?? 3, weekday, opts.calendar);
        const expiries = new Set(monthlies);
        if (u.weeklies) {
          const weeklies = expired
            ? previousWeeklyExpiries(opts.date, 6, weekday, opts.calendar)
            : nextWeeklyExpiries(opts.date, opts.weeklyExpiries ?? 4, weekday, opts.calendar);
          for (const w of weeklies) expiries.add(w);
        }
        for (const expiry of [...expiries].sort()) {
          const monthly = isMonthlyExpiry(expiry, weekday, opts.calendar);
          if (monthly) {
            drafts.push({
              tradingsymbol: futureSymbol(u.name, expiry),
              name: u.name,
              kind: 'future',
              instrumentType: 'FUT',
              segment: 'NFO-FUT',
              exchange: 'NFO',
              expiry,
              strike: 0,
              tickSize: 0.05,
              lotSize: u.lotSize,
              weekly: false,
              underlying: u,
              expired,
            });
          }
          const centre = Math.round(u.baseSpot / u.step) * u.step;
          const n = expired ? EXPIRED_STRIKES_PER_SIDE : perSide;
          for (let i = -n; i <= n; i++) {
            const strike = centre + i * u.step;
            for (const type of ['CE', 'PE'] as const) {
              drafts.push({
                tradingsymbol: monthly ? monthlyOptionSymbol(u.name, expiry, strike, type) : weeklyOptionSymbol(u.name, expiry, strike, type),
                name: u.name,
                kind: 'option',
                instrumentType: type,
                segment: 'NFO-OPT',
                exchange: 'NFO',
                expiry,
                strike,
                tickSize: 0.05,
                lotSize: u.lotSize,
                weekly: !monthly,
                underlying: u,
                expired,
              });
            }
          }
        }
      }
    }
    this.assignTokens(drafts);
    this.live = [];
    this.expired = [];
    for (const d of drafts) {
      const inst = d as Instrument;
      (inst.expired ? this.expired : this.live).push(inst);
      this.byTokenMap.set(inst.token, inst);
      this.bySymbol.set(inst.tradingsymbol, inst);
    }
  }

  /**
   * Kite's token layout: instrument_token = exchange_token * 256 + segment id (NFO = 2, indices = 9). Exchange tokens
   * come from a hash of (seed, tradingsymbol), so a contract keeps its token from day to day; collisions are resolved by
   * probing in tradingsymbol order.
   */
  private assignTokens(drafts: Draft[]): void {
    const used = new Set<number>();
    const order = [...drafts].sort((a, b) => (a.tradingsymbol < b.tradingsymbol ? -1 : 1));
    for (const d of order) {
      const inst = d as Instrument;
      if (d.kind === 'index') {
        inst.token = d.underlying.indexToken;
        inst.exchangeToken = (d.underlying.indexToken - 9) / 256;
        continue;
      }
      let et = 35_000 + (hash4(this.seed, fnv1a(d.tradingsymbol), 0x70c) % 8_000_000);
      while (used.has(et)) et = 35_000 + ((et - 35_000 + 7919) % 8_000_000);
      used.add(et);
      inst.exchangeToken = et;
      inst.token = et * 256 + 2;
    }
  }

  /** Any known instrument, live or expired. */
  byToken(token: number): Instrument | undefined {
    return this.byTokenMap.get(token);
  }

  /** A live instrument (what POST /subscriptions accepts). */
  liveByToken(token: number): Instrument | undefined {
    const i = this.byTokenMap.get(token);
    return i && !i.expired ? i : undefined;
  }

  byTradingsymbol(tradingsymbol: string): Instrument | undefined {
    return this.bySymbol.get(tradingsymbol);
  }

  index(name: string): Instrument | undefined {
    const u = UNDERLYINGS.find((x) => x.name === name);
    return u ? this.byTokenMap.get(u.indexToken) : undefined;
  }

  /** Live expiries of an underlying's options, ascending. */
  expiries(name: string): IstDate[] {
    const set = new Set<IstDate>();
    for (const i of this.live) if (i.name === name && i.kind === 'option' && i.expiry) set.add(i.expiry);
    return [...set].sort();
  }

  /** Live options of one underlying and expiry, by strike then CE before PE. */
  chain(name: string, expiry: IstDate): Instrument[] {
    return this.live.filter((i) => i.name === name && i.kind === 'option' && i.expiry === expiry);
  }

  get size(): number {
    return this.byTokenMap.size;
  }

  /** The Kite instruments CSV of the live registry (the daily dump has no expired rows); /instruments serves it. */
  toCsv(): string {
    if (this.csvCache) return this.csvCache;
    const lines = [KITE_CSV_HEADER];
    for (const i of this.live) {
      lines.push(
        `${i.token},${i.exchangeToken},${i.tradingsymbol},"${i.name}",0,${i.expiry ?? ''},${i.strike},${i.tickSize},${i.lotSize},${i.instrumentType},${i.segment},${i.exchange}`,
      );
    }
    this.csvCache = `${lines.join('\n')}\n`;
    return this.csvCache;
  }

  /**
   * The rows as Kite's dump (and the service's instrument_registry table) hold them: an index is named by its own
   * symbol (name "NIFTY 50") with tick size and lot size 0.
   */
  kiteRows(which: 'live' | 'all' = 'live'): KiteRow[] {
    const list = which === 'live' ? this.live : [...this.live, ...this.expired];
    return list.map((i) => ({
      instrument_token: i.token,
      exchange_token: i.exchangeToken,
      tradingsymbol: i.tradingsymbol,
      name: i.kind === 'index' ? i.tradingsymbol : i.name,
      expiry: i.expiry,
      strike: i.strike,
      tick_size: i.kind === 'index' ? 0 : i.tickSize,
      lot_size: i.kind === 'index' ? 0 : i.lotSize,
      instrument_type: i.instrumentType,
      segment: i.segment,
      exchange: i.exchange,
      is_active: !i.expired,
    }));
  }

  /** The Kite instruments CSV exactly as the daily dump is laid out (what --instruments-csv writes). */
  toKiteCsv(): string {
    const lines = [KITE_CSV_HEADER];
    for (const r of this.kiteRows('live')) {
      lines.push(
        `${r.instrument_token},${r.exchange_token},${r.tradingsymbol},${r.name},0,${r.expiry ?? ''},${r.strike},${r.tick_size},${r.lot_size},${r.instrument_type},${r.segment},${r.exchange}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}
