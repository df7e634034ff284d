// The instrument registry in the market store (table instrument_registry, the ticker service's own shape, so a
// shared one can be read as is). Loaded from its source (./source.ts: a Kite CSV file or URL, the ticker's own
// instrument_registry table, or the embedded devticker's registry), read as a stream, then written in one
// transaction: every row upserted, then every contract not in this load or already expired marked inactive.
// When the ticker's table is the market store's own (same database) the rows belong to the ticker service: read in
// place, never written, and expiry (TEXT or DATE) checked at query time. Refreshed daily (the dump changes every
// morning: new weeklies, expired ones gone).
import type { Clock } from '../../shared/clock';
import { istDate, istParts } from '../calendar';
import type { Logger } from '../log';
import type { MarketDb, Queryable } from '../market/db';
import { openDump, readKiteCsv, type CsvReadStats, type RegistryRow } from './kite-csv';
import { describeSource, readRegistryTable, type RegistrySource } from './source';

export type { RegistrySource } from './source';

export interface Instrument {
  token: number;
  tradingsymbol: string;
  /** The underlying (NIFTY for NIFTY options and futures; the index name for index rows). */
  name: string;
  segment: string;
  instrumentType: 'CE' | 'PE' | 'FUT' | 'EQ' | string;
  strike: number;
  expiry: string | null;
  tickSize: number;
  lotSize: number;
  exchange: string;
  isActive: boolean;
}

export interface RegistryStatus {
  source: string;
  lastRefreshAt: number | null;
  lastAttemptAt: number | null;
  lastError: string | null;
  rows: number | null;
  deactivated: number | null;
}

/** Strike steps when the registry cannot tell (docs/market-data.md). */
export const FALLBACK_STRIKE_STEP: Readonly<Record<string, number>> = { NIFTY: 50, BANKNIFTY: 100, FINNIFTY: 50, MIDCPNIFTY: 25, SENSEX: 100 };

/** Index tokens of the spec, and the dump's index names for each underlying. */
const KNOWN_INDICES: Readonly<Record<string, { token: number; names: string[] }>> = {
  NIFTY: { token: 256265, names: ['NIFTY 50', 'NIFTY'] },
  BANKNIFTY: { token: 260105, names: ['NIFTY BANK', 'BANKNIFTY'] },
  FINNIFTY: { token: 257801, names: ['NIFTY FIN SERVICE', 'FINNIFTY'] },
  MIDCPNIFTY: { token: 288009, names: ['NIFTY MID SELECT', 'MIDCPNIFTY'] },
  SENSEX: { token: 265, names: ['SENSEX'] },
};

const COLUMNS = 'instrument_token, tradingsymbol, name, segment, instrument_type, strike, expiry, tick_size, lot_size, exchange, is_active';
/** What queries read: expiry as text, so a shared table whose expiry is DATE reads the same as one with TEXT. */
const SELECT_COLUMNS =
  'instrument_token, tradingsymbol, name, segment, instrument_type, strike, expiry::text AS expiry, tick_size, lot_size, exchange, is_active';
const LIVE = `is_active AND (expiry IS NULL OR expiry >= $1)`;
const CHUNK = 10_000;

interface DbRow {
  instrument_token: number;
  tradingsymbol: string;
  name: string | null;
  segment: string | null;
  instrument_type: string | null;
  strike: number | null;
  expiry: string | null;
  tick_size: number | null;
  lot_size: number | null;
  exchange: string | null;
  is_active: boolean;
}

const toInstrument = (r: DbRow, today: string): Instrument => ({
  token: Number(r.instrument_token),
  tradingsymbol: r.tradingsymbol,
  name: r.name ?? '',
  segment: r.segment ?? '',
  instrumentType: r.instrument_type ?? '',
  strike: r.strike ?? 0,
  expiry: r.expiry,
  tickSize: r.tick_size ?? 0,
  lotSize: r.lot_size ?? 0,
  exchange: r.exchange ?? '',
  isActive: r.is_active && (r.expiry === null || r.expiry >= today),
});

interface SymbolChains {
  today: string;
  byExpiry: Map<string, Instrument[]>;
  futures: Instrument[];
}

export interface InstrumentRegistryOptions {
  db: MarketDb;
  clock: Clock;
  source: RegistrySource;
  logger?: Logger;
  /** IST hour after which the day's dump is expected (default 8). */
  refreshAfterIstHour?: number;
}

export class InstrumentRegistry {
  private chains = new Map<string, Promise<SymbolChains>>();
  private tokens = new Map<number, Instrument>();
  private indexTokens = new Map<string, number>();
  private underlyingList: { today: string; names: Promise<string[]> } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<RegistryStatus> | null = null;
  private initial: Promise<void> = Promise.resolve();
  private readonly state: RegistryStatus;

  constructor(private readonly opts: InstrumentRegistryOptions) {
    this.state = { source: describeSource(opts.source), lastRefreshAt: null, lastAttemptAt: null, lastError: null, rows: null, deactivated: null };
    for (const [symbol, known] of Object.entries(KNOWN_INDICES)) this.indexTokens.set(symbol, known.token);
  }

  /**
   * Maps a source word to a source, for tests and tools: 'ticker' -> the devticker's /instruments (explicitly),
   * 'table' -> the market store's own table, anything else a path or a URL. The app resolves its settings with
   * resolveRegistrySource (./source.ts), which also knows 'auto' and the table's own connection.
   */
  static sourceFrom(setting: string, tickerUrl?: string): RegistrySource {
    if (setting === 'table') return { kind: 'table' };
    if (setting === 'ticker') {
      if (!tickerUrl) throw new Error("instruments source 'ticker' needs the ticker URL");
      return { kind: 'dump', location: `${tickerUrl.replace(/\/+$/, '')}/instruments` };
    }
    return { kind: 'dump', location: setting };
  }

  status(): RegistryStatus {
    return { ...this.state };
  }

  private today(): string {
    return istDate(this.opts.clock.now());
  }

  /**
   * Reads the start of the source (one batch of rows, or the live-row count of a table read in place) and throws
   * when it cannot be read or holds no instruments. Start-up calls it so that a wrong source stops start-up with
   * the reason, instead of a registry that never loads.
   */
  async probe(): Promise<void> {
    if (this.opts.source.kind === 'table' && !this.opts.source.databaseUrl) {
      const n = await this.countLiveInPlace();
      if (n === 0) throw new Error('instrument_registry has no active instruments');
      return;
    }
    const batches = this.batches();
    try {
      const first = await batches.next();
      if (first.done || first.value.length === 0) throw new Error(`no instruments in ${this.state.source}`);
    } finally {
      await batches.return(undefined);
    }
  }

  private async countLiveInPlace(): Promise<number> {
    const [{ n }] = await this.opts.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM instrument_registry WHERE ${LIVE}`, [this.today()]);
    return n;
  }

  /** The source's rows, batch by batch (never the whole dump in one synchronous parse). */
  private batches(stats: CsvReadStats = { skipped: 0 }): AsyncGenerator<RegistryRow[]> {
    const source = this.opts.source;
    switch (source.kind) {
      case 'dump':
        return readKiteCsv(openDump(source.location), stats);
      case 'text':
        return readKiteCsv(
          (async function* () {
            yield await source.csv();
          })(),
          stats,
        );
      case 'table':
        if (!source.databaseUrl) throw new Error('a table read in place has no batches');
        return readRegistryTable(source.databaseUrl);
    }
  }

  /**
   * Starts the first load in the background (queries wait for it; a failure is logged and retried by the refresh
   * timer: the table may still hold yesterday's rows) and the daily refresh. Returns at once, so a slow dump does
   * not hold up the start of the other services.
   */
  start(): void {
    this.initial = this.refresh().then(
      () => undefined,
      (err: unknown) => {
        this.opts.logger?.warn({ err: (err as Error).message, source: this.state.source }, 'instrument registry load failed; will retry');
      },
    );
    // Every 15 minutes: reload when the IST date moved on (after the morning dump) or the last attempt failed.
    this.timer = setInterval(() => void this.refreshIfDue(), 15 * 60_000);
    this.timer.unref?.();
  }

  /** Resolves when the first load attempt (started by start()) has finished, successfully or not. */
  loaded(): Promise<void> {
    return this.initial;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async refreshIfDue(): Promise<void> {
    const now = this.opts.clock.now();
    const loadedToday = this.state.lastRefreshAt !== null && istDate(this.state.lastRefreshAt) === istDate(now);
    const failed = this.state.lastError !== null;
    if (loadedToday && !failed) return;
    if (!failed && istParts(now).hour < (this.opts.refreshAfterIstHour ?? 8) && this.state.lastRefreshAt !== null) return;
    try {
      await this.refresh();
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message }, 'instrument registry refresh failed; will retry');
    }
  }

  /** Loads the dump now (single flight). With source 'table' only the caches are dropped and the count read. */
  refresh(): Promise<RegistryStatus> {
    this.loading ??= this.doRefresh().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async doRefresh(): Promise<RegistryStatus> {
    const started = this.opts.clock.now();
    this.state.lastAttemptAt = started;
    try {
      if (this.opts.source.kind === 'table' && !this.opts.source.databaseUrl) {
        const n = await this.countLiveInPlace();
        if (n === 0) throw new Error('instrument_registry has no active instruments');
        this.state.rows = n;
        this.state.deactivated = null;
        this.opts.logger?.info({ rows: n, source: this.state.source }, 'instrument registry read in place');
      } else {
        // Read the whole source first (streamed, batch by batch), then write it in one short transaction: a slow
        // download must not hold a transaction (PGlite runs one at a time) open for its length.
        const stats: CsvReadStats = { skipped: 0 };
        const rows: RegistryRow[] = [];
        for await (const batch of this.batches(stats)) for (const row of batch) rows.push(row);
        const skipped = stats.skipped;
        if (rows.length === 0) throw new Error(`no instruments in ${this.state.source}`);
        const deactivated = await this.opts.db.transaction((tx) => upsertDump(tx, rows, started, this.today()));
        this.state.rows = rows.length;
        this.state.deactivated = deactivated;
        this.opts.logger?.info(
          { rows: rows.length, skipped, deactivated, source: this.state.source, ms: this.opts.clock.now() - started },
          'instrument registry loaded',
        );
      }
      this.state.lastRefreshAt = started;
      this.state.lastError = null;
      this.dropCaches();
      await this.loadIndexTokens();
      return this.status();
    } catch (err) {
      this.state.lastError = (err as Error).message;
      throw err;
    }
  }

  private dropCaches(): void {
    this.chains.clear();
    this.tokens.clear();
    this.underlyingList = null;
  }

  private async loadIndexTokens(): Promise<void> {
    const rows = await this.opts.db.query<{ instrument_token: number; name: string | null; tradingsymbol: string }>(
      `SELECT instrument_token, name, tradingsymbol FROM instrument_registry WHERE segment = 'INDICES' AND is_active`,
    );
    for (const [symbol, known] of Object.entries(KNOWN_INDICES)) {
      const row = rows.find((r) => known.names.includes((r.tradingsymbol ?? '').toUpperCase())) ?? rows.find((r) => (r.name ?? '').toUpperCase() === symbol);
      if (row) this.indexTokens.set(symbol, Number(row.instrument_token));
    }
    for (const r of rows) {
      const name = (r.name ?? '').toUpperCase();
      if (name && !this.indexTokens.has(name)) this.indexTokens.set(name, Number(r.instrument_token));
    }
  }

  // ---------- queries ----------

  async byToken(token: number): Promise<Instrument | null> {
    return (await this.byTokens([token])).get(token) ?? null;
  }

  /** Any known instrument, active or not (expired ones say isActive=false). */
  async byTokens(tokens: Iterable<number>): Promise<Map<number, Instrument>> {
    const out = new Map<number, Instrument>();
    const missing: number[] = [];
    for (const t of new Set(tokens)) {
      const hit = this.tokens.get(t);
      if (hit) out.set(t, hit);
      else missing.push(t);
    }
    if (missing.length) {
      await this.initial;
      const today = this.today();
      const rows = await this.opts.db.query<DbRow>(`SELECT ${SELECT_COLUMNS} FROM instrument_registry WHERE instrument_token = ANY($1::int8[])`, [missing]);
      for (const r of rows) {
        const inst = toInstrument(r, today);
        this.tokens.set(inst.token, inst);
        out.set(inst.token, inst);
      }
    }
    return out;
  }

  private symbolChains(symbol: string): Promise<SymbolChains> {
    const today = this.today();
    const key = symbol.toUpperCase();
    const cached = this.chains.get(key);
    if (cached) {
      return cached.then((c) => {
        if (c.today === today) return c;
        this.chains.delete(key);
        return this.symbolChains(key);
      });
    }
    const loading = (async (): Promise<SymbolChains> => {
      await this.initial;
      const rows = await this.opts.db.query<DbRow>(
        `SELECT ${SELECT_COLUMNS} FROM instrument_registry WHERE name = $2 AND instrument_type IN ('CE', 'PE', 'FUT') AND expiry IS NOT NULL AND ${LIVE}
         ORDER BY expiry, strike, instrument_type`,
        [today, key],
      );
      const byExpiry = new Map<string, Instrument[]>();
      const futures: Instrument[] = [];
      for (const r of rows) {
        const inst = toInstrument(r, today);
        this.tokens.set(inst.token, inst);
        if (inst.instrumentType === 'FUT') futures.push(inst);
        else {
          const list = byExpiry.get(inst.expiry as string) ?? [];
          list.push(inst);
          byExpiry.set(inst.expiry as string, list);
        }
      }
      return { today, byExpiry, futures };
    })();
    loading.catch(() => this.chains.delete(key));
    this.chains.set(key, loading);
    return loading;
  }

  /** Listed option expiries of `symbol` on or after an IST date, ascending. */
  async expiries(symbol: string, onOrAfterIstDate: string): Promise<string[]> {
    const c = await this.symbolChains(symbol);
    return [...c.byExpiry.keys()].filter((e) => e >= onOrAfterIstDate).sort();
  }

  /** Active options (CE and PE) of one expiry, by strike then type. */
  async chain(symbol: string, expiry: string): Promise<Instrument[]> {
    const c = await this.symbolChains(symbol);
    return c.byExpiry.get(expiry) ?? [];
  }

  async futures(symbol: string): Promise<Instrument[]> {
    return (await this.symbolChains(symbol)).futures;
  }

  /**
   * The most common gap between adjacent listed strikes near `near` (default the middle of the chain) of `expiry`
   * (default the nearest listed expiry); the fallback table when the registry cannot tell.
   */
  async strikeStep(symbol: string, expiry?: string, near?: number): Promise<number> {
    const fallback = FALLBACK_STRIKE_STEP[symbol.toUpperCase()] ?? 50;
    const c = await this.symbolChains(symbol);
    const chosen = expiry ?? [...c.byExpiry.keys()].sort()[0];
    const strikes = [...new Set((c.byExpiry.get(chosen ?? '') ?? []).map((i) => i.strike))].sort((a, b) => a - b);
    return strikeStepOf(strikes, near) ?? fallback;
  }

  /** Index token of an underlying (sync: the spec's known tokens, refined from the dump's INDICES rows). */
  underlyingToken(symbol: string): number | null {
    return this.indexTokens.get(symbol.toUpperCase()) ?? null;
  }

  /**
   * Live instruments whose tradingsymbol contains `text` (case-insensitive), or whose token is `text`: the manual
   * subscribe box resolves names here, not among subscriptions, so an instrument nobody has subscribed is found.
   * Exact matches first, then by tradingsymbol.
   */
  async search(text: string, limit: number): Promise<Instrument[]> {
    const needle = text.trim().toUpperCase();
    if (!needle) return [];
    await this.initial;
    const today = this.today();
    const like = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const token = /^\d{1,10}$/.test(needle) ? Number(needle) : -1;
    const rows = await this.opts.db.query<DbRow>(
      `SELECT ${SELECT_COLUMNS} FROM instrument_registry
        WHERE ${LIVE} AND (upper(tradingsymbol) LIKE $2 OR instrument_token = $3)
        ORDER BY (upper(tradingsymbol) = $4 OR instrument_token = $3) DESC, tradingsymbol
        LIMIT $5`,
      [today, like, token, needle, limit],
    );
    return rows.map((r) => toInstrument(r, today));
  }

  /** Underlyings with listed options, sorted. */
  async underlyings(): Promise<string[]> {
    const today = this.today();
    if (!this.underlyingList || this.underlyingList.today !== today) {
      const names = this.initial
        .then(() =>
          this.opts.db.query<{ name: string }>(
            `SELECT DISTINCT name FROM instrument_registry WHERE instrument_type IN ('CE', 'PE') AND name IS NOT NULL AND ${LIVE} ORDER BY name`,
            [today],
          ),
        )
        .then((rows) => rows.map((r) => r.name));
      names.catch(() => {
        this.underlyingList = null;
      });
      this.underlyingList = { today, names };
    }
    return this.underlyingList.names;
  }
}

/** Most common adjacent gap among up to 21 strikes around `near`; ties go to the smaller gap. Null with < 2 strikes. */
export function strikeStepOf(sortedStrikes: readonly number[], near?: number): number | null {
  if (sortedStrikes.length < 2) return null;
  const centre = near === undefined ? Math.floor(sortedStrikes.length / 2) : nearestIndex(sortedStrikes, near);
  const from = Math.max(0, centre - 10);
  const window = sortedStrikes.slice(from, Math.min(sortedStrikes.length, from + 21));
  const counts = new Map<number, number>();
  for (let i = 1; i < window.length; i++) {
    const gap = Math.round((window[i] - window[i - 1]) * 100) / 100;
    if (gap > 0) counts.set(gap, (counts.get(gap) ?? 0) + 1);
  }
  let best: number | null = null;
  for (const [gap, n] of counts) if (best === null || n > (counts.get(best) as number) || (n === counts.get(best) && gap < best)) best = gap;
  return best;
}

function nearestIndex(sorted: readonly number[], value: number): number {
  let best = 0;
  for (let i = 1; i < sorted.length; i++) if (Math.abs(sorted[i] - value) < Math.abs(sorted[best] - value)) best = i;
  return best;
}

/**
 * Upserts the rows in chunks of one transaction (inactive where the source says so or expired), then deactivates
 * what this load no longer lists or has expired.
 */
async function upsertDump(tx: Queryable, rows: readonly RegistryRow[], refreshedAtMs: number, today: string): Promise<number> {
  const refreshedAt = new Date(refreshedAtMs).toISOString();
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await tx.query(
      `INSERT INTO instrument_registry AS r (${COLUMNS}, last_refreshed_at)
       SELECT u.t, u.ts, u.n, u.seg, u.it, u.k, u.e, u.tick, u.lot, u.ex, (u.act AND (u.e IS NULL OR u.e >= $12)), $11::timestamptz
       FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::float8[], $9::int4[], $10::text[], $13::bool[])
         AS u(t, ts, n, seg, it, k, e, tick, lot, ex, act)
       ON CONFLICT (instrument_token) DO UPDATE SET
         tradingsymbol = EXCLUDED.tradingsymbol, name = EXCLUDED.name, segment = EXCLUDED.segment,
         instrument_type = EXCLUDED.instrument_type, strike = EXCLUDED.strike, expiry = EXCLUDED.expiry,
         tick_size = EXCLUDED.tick_size, lot_size = EXCLUDED.lot_size, exchange = EXCLUDED.exchange,
         is_active = EXCLUDED.is_active, last_refreshed_at = EXCLUDED.last_refreshed_at`,
      [
        chunk.map((r) => r.token),
        chunk.map((r) => r.tradingsymbol),
        chunk.map((r) => r.name),
        chunk.map((r) => r.segment),
        chunk.map((r) => r.instrumentType),
        chunk.map((r) => r.strike),
        chunk.map((r) => r.expiry),
        chunk.map((r) => r.tickSize),
        chunk.map((r) => r.lotSize),
        chunk.map((r) => r.exchange),
        refreshedAt,
        today,
        chunk.map((r) => r.isActive !== false),
      ],
    );
  }
  const [{ n }] = await tx.query<{ n: number }>(
    `WITH d AS (
       UPDATE instrument_registry SET is_active = false
       WHERE is_active AND (last_refreshed_at IS DISTINCT FROM $1::timestamptz OR (expiry IS NOT NULL AND expiry < $2))
       RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [refreshedAt, today],
  );
  return n;
}
