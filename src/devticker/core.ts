// The simulator's state and behaviour behind the HTTP surface: registry by IST date, subscriptions, the reload
// machine, capacity, streaming, events, fault switches and counters. Time always comes from the injected clocks.
import { createHmac } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { type HolidayCalendar, istDate } from '../shared/calendar';
import type { Clock } from '../shared/clock';
import { CHANNEL_EVENTS, type FeedBus, type FeedChannel } from '../shared/feed';
import { prng } from './hash';
import { pyJson } from './pyjson';
import { MarketModel } from './market';
import { Registry, type RegistryOptions, UNDERLYINGS, type Instrument } from './registry';
import { type Profile, type SimCounters, type SimFaults, emptyCounters, profileFaults } from './sim';
import { type FeedMode, type StreamTarget, Streamer, type UnderlyingShape, inServiceWindow } from './stream';
import { SubscriptionStore, type SubscriptionRow } from './subscriptions';

export const INSTRUMENTS_PER_CONNECTION = 3000;
export const CONNECTIONS_PER_ACCOUNT = 3;

export type ApplyMode = 'reload' | 'immediate' | 'none';

export interface Logger {
  info: (...a: unknown[]) => void;
  warn: (...a: unknown[]) => void;
  error: (...a: unknown[]) => void;
  debug?: (...a: unknown[]) => void;
}

export interface CoreOptions {
  seed: number;
  /** 'production' = the real service's behaviour (the default); 'ideal' = the kind simulator of earlier releases */
  profile: Profile;
  /** market time (fast-forwarded in 'fast' mode) */
  marketClock: Clock;
  /** real time for rate limits */
  baseClock: Clock;
  clockMode: 'real' | 'always-open' | 'fast';
  calendar: HolidayCalendar;
  bus: FeedBus;
  redisUrl?: string;
  /** 'full' (working reload), 'incremental' (no gap), 'broken' (the current service revision: the first reload stops streaming) */
  reloadMode: ReloadMode;
  reloadDebounceMs: number;
  reloadMinIntervalMs: number;
  reloadGapMs: number;
  webhookUrl?: string;
  webhookSecret?: string;
  publishRedisEvents: boolean;
  accounts: string[];
  underlyingShape: UnderlyingShape;
  registry: Omit<RegistryOptions, 'seed' | 'date' | 'calendar'>;
  faults: Partial<SimFaults>;
  denseTicks: boolean;
  /** the `environment` /health reports */
  environment: string;
  /** subscription rows survive restarts in this JSON file */
  stateFile?: string;
  /** the service's strike rebalancer (account primary, ATM+-10, three expiries, NIFTY/BANKNIFTY/FINNIFTY) */
  rebalancer: boolean;
  /** called with every registry the devticker generates (the registry export) */
  onRegistry?: (registry: Registry) => void;
  logger: Logger;
}

export type ReloadMode = 'full' | 'incremental' | 'broken';

/** Strikes each side of ATM the rebalancer keeps subscribed, and how often it re-centres (market time). */
const REBALANCE_STRIKES = 10;
const REBALANCE_EXPIRIES = 3;
const REBALANCE_EVERY_MS = 5 * 60_000;
const REBALANCE_UNDERLYINGS = ['NIFTY', 'BANKNIFTY', 'FINNIFTY'];
export const REBALANCER_ACCOUNT = 'primary';

interface StateFileV1 {
  version: 1;
  rows: SubscriptionRow[];
}

export class DevTickerCore {
  readonly model: MarketModel;
  readonly store: SubscriptionStore;
  readonly counters: SimCounters = emptyCounters();
  faults: SimFaults;
  registry: Registry;
  readonly streamer: Streamer;
  readonly startedAt: number;
  private redis: Redis | null = null;
  private redisError = false;
  private readonly random: () => number;
  // reload machine
  private pendingReload = false;
  private lastChangeAt = 0;
  private lastReloadAt = Number.NEGATIVE_INFINITY;
  private gapUntil = 0;
  private reloading = false;
  private snapshot: { targets: StreamTarget[]; indices: StreamTarget[]; perAccount: number[] } | null = null;
  private perAccountStreaming: number[];
  private kiteCalls: number[] = [];
  /** the service's own Kite limiter (production): a bucket of 3 refilled at 3/s; may go negative (queued calls) */
  private kiteBucket = { tokens: 3, at: 0 };
  private closed = false;
  // what /health reports in production: the state at the last stream start
  /** base-clock ms of the last stream start, null while idle */
  streamStartedAt: number | null = null;
  streamStartActive = 0;
  streamStartPerAccount: number[] = [];
  /** broken reload: streaming stopped for good (or the reloader never existed) until a restart */
  streamDead = false;
  reloaderMissing = false;
  private rebalancedAt = Number.NEGATIVE_INFINITY;
  private readonly rebalancerTokens = new Set<number>();
  private stateDirty = false;

  constructor(readonly opts: CoreOptions) {
    this.model = new MarketModel(opts.seed, opts.denseTicks);
    this.store = new SubscriptionStore(opts.profile === 'production');
    this.faults = { ...profileFaults(opts.profile), ...opts.faults };
    this.random = prng(opts.seed ^ 0x5eed);
    this.startedAt = opts.baseClock.now();
    this.kiteBucket.at = this.startedAt;
    this.registry = this.buildRegistry(istDate(opts.marketClock.now()));
    this.perAccountStreaming = opts.accounts.map(() => 0);
    const nifty = this.registry.byToken(UNDERLYINGS[0].indexToken);
    this.streamer = new Streamer(
      this.model,
      opts.calendar,
      (c, m) => this.publish(c, m),
      () => this.faults,
      opts.underlyingShape,
      opts.accounts.length,
      opts.profile,
      nifty,
    );
    if (opts.stateFile) this.loadState(opts.stateFile);
    if (opts.rebalancer) this.rebalance(opts.marketClock.now(), 'none');
    // The service streams the rows it finds at start (none: it stays idle).
    if (this.store.activeCount() > 0) this.applyTargets();
    if (opts.redisUrl) this.connectRedis(opts.redisUrl);
  }

  get production(): boolean {
    return this.opts.profile === 'production';
  }

  private buildRegistry(date: string): Registry {
    const r = new Registry({ ...this.opts.registry, seed: this.opts.seed, date, calendar: this.opts.calendar }, this.opts.baseClock.now());
    this.opts.onRegistry?.(r);
    return r;
  }

  /** Regenerates the registry when the IST date of market time changes (the daily dump). */
  ensureRegistry(nowMs: number): Registry {
    const date = istDate(nowMs);
    if (date !== this.registry.date) {
      this.registry = this.buildRegistry(date);
      this.opts.logger.info({ date, instruments: this.registry.live.length }, 'devticker registry refreshed');
      if (!this.streamDead && this.streamStartedAt !== null) this.applyTargets(undefined, false); // expired contracts stop streaming
    }
    return this.registry;
  }

  // ---- state file ------------------------------------------------------------------------------------------

  private loadState(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`devticker: --state-file ${file} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    let state: StateFileV1;
    try {
      state = JSON.parse(text) as StateFileV1;
      if (state.version !== 1 || !Array.isArray(state.rows)) throw new Error('not a devticker state file (version 1)');
    } catch (err) {
      throw new Error(`devticker: --state-file ${file} is not valid: ${(err as Error).message}`, { cause: err });
    }
    // As the real service on restart: expired contracts go inactive, then rows without an account get one round-robin.
    this.store.restore(state.rows);
    this.restart();
    const rows = state.rows;
    this.opts.logger.info({ file, rows: rows.length, active: this.store.activeCount() }, 'devticker subscriptions restored');
  }

  private markDirty(): void {
    if (!this.opts.stateFile || this.stateDirty) return;
    this.stateDirty = true;
    queueMicrotask(() => this.saveState());
  }

  /** Writes the rows (atomically: temp file, then rename). */
  saveState(): void {
    const file = this.opts.stateFile;
    if (!file || !this.stateDirty) return;
    this.stateDirty = false;
    const body: StateFileV1 = { version: 1, rows: this.store.list() };
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(body), { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message, file }, 'devticker state file not written');
    }
  }

  // ---- rebalancer ------------------------------------------------------------------------------------------

  /** The service's strike rebalancer: ATM+-10 over three expiries for NIFTY, BANKNIFTY, FINNIFTY, account primary. */
  rebalance(nowMs: number, apply: ApplyMode): number {
    this.rebalancedAt = nowMs;
    const sec = Math.floor(nowMs / 1000);
    const wanted = new Set<number>();
    for (const name of REBALANCE_UNDERLYINGS) {
      const index = this.registry.index(name);
      if (!index) continue;
      const spot = this.model.spot(index.underlying, sec);
      const step = index.underlying.step;
      const atm = Math.round(spot / step) * step;
      for (const expiry of this.registry.expiries(name).slice(0, REBALANCE_EXPIRIES)) {
        for (const inst of this.registry.chain(name, expiry)) {
          if (Math.abs(inst.strike - atm) <= REBALANCE_STRIKES * step) wanted.add(inst.token);
        }
      }
    }
    let changes = 0;
    for (const token of wanted) {
      if (this.store.get(token)?.status === 'active') continue;
      const inst = this.registry.liveByToken(token) as Instrument;
      this.subscribe(inst, 'FULL', REBALANCER_ACCOUNT, 'none');
      this.rebalancerTokens.add(token);
      changes++;
    }
    for (const token of [...this.rebalancerTokens]) {
      if (wanted.has(token)) continue;
      this.rebalancerTokens.delete(token);
      if (this.store.get(token)?.account_id !== REBALANCER_ACCOUNT) continue;
      this.unsubscribe(token, 'none');
      changes++;
    }
    if (changes > 0) this.changed(apply);
    return changes;
  }

  // ---- transport -------------------------------------------------------------------------------------------

  private connectRedis(url: string): void {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true, lazyConnect: false });
    redis.on('error', (err: Error) => {
      if (!this.redisError) this.opts.logger.warn({ err: err.message }, 'devticker redis error');
      this.redisError = true;
    });
    redis.on('ready', () => {
      this.redisError = false;
    });
    this.redis = redis;
  }

  get redisStatus(): 'ok' | 'error' | 'not_configured' {
    if (!this.redis) return 'not_configured';
    return this.redis.status === 'ready' && !this.redisError ? 'ok' : 'error';
  }

  /** Resolves when Redis is ready (no-op without Redis). */
  async redisReady(): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('redis not ready within 5 s')), 5000);
      redis.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private readonly swallow = (): void => {
    this.redisError = true;
  };

  publish(channel: FeedChannel, message: string): void {
    this.opts.bus.publish(channel, message);
    const redis = this.redis;
    if (redis && redis.status === 'ready') redis.publish(channel, message).catch(this.swallow);
  }

  // ---- subscriptions ---------------------------------------------------------------------------------------

  /**
   * Upserts an active subscription. `apply`: 'reload' = as the real service (debounced full reload, or at once in
   * incremental mode); 'immediate' = streams change now; 'none' = the caller calls applyNow() after a batch.
   */
  subscribe(inst: Instrument, mode: string, accountId: string | null, apply: ApplyMode): SubscriptionRow {
    const now = this.opts.marketClock.now();
    const { row, activated } = this.store.upsert(inst.token, inst.tradingsymbol, inst.segment, mode, accountId, now);
    if (activated) this.emitEvent('created', row, inst);
    this.markDirty();
    this.changed(apply);
    return row;
  }

  unsubscribe(token: number, apply: ApplyMode): SubscriptionRow | null {
    const res = this.store.deactivate(token, this.opts.marketClock.now());
    if (!res) return null;
    if (res.deactivated) this.emitEvent('deleted', res.row, this.registry.byToken(token));
    this.markDirty();
    this.changed(apply);
    return res.row;
  }

  private changed(apply: ApplyMode): void {
    if (apply === 'none') return;
    if (this.opts.reloadMode === 'broken') {
      // The current revision: without streams at start the reloader never exists ("Subscription reloader not
      // initialized"); with them, the first reload stops every stream for good.
      if (this.streamDead) return;
      if (this.streamStartedAt === null) {
        if (!this.reloaderMissing) this.opts.logger.warn('devticker (reload broken): Subscription reloader not initialized');
        this.reloaderMissing = true;
        this.streamDead = true;
        return;
      }
      this.pendingReload = true;
      this.lastChangeAt = this.opts.marketClock.now();
      return;
    }
    if (apply === 'immediate' || this.opts.reloadMode === 'incremental') {
      this.applyTargets();
      return;
    }
    this.pendingReload = true;
    this.lastChangeAt = this.opts.marketClock.now();
  }

  /** The account index a row streams on (rows without a known account stream on the first). */
  private accountIndex(accountId: string | null): number {
    return Math.max(0, accountId === null ? 0 : this.opts.accounts.indexOf(accountId));
  }

  /**
   * Per account: active, live subscriptions in table order. 'ideal': the first 9000 stream (3 connections x 3000).
   * 'production': an account with more than 9000 rows streams nothing (its stream task fails), and an index streams
   * only when its own token is subscribed.
   */
  computeTargets(): { targets: StreamTarget[]; indices: StreamTarget[]; perAccount: number[] } {
    const cap = INSTRUMENTS_PER_CONNECTION * CONNECTIONS_PER_ACCOUNT;
    const accounts = this.opts.accounts;
    const active = this.store.list('active');
    const rowsPerAccount = accounts.map(() => 0);
    if (this.production) {
      for (const row of active) if (this.registry.liveByToken(row.instrument_token)) rowsPerAccount[this.accountIndex(row.account_id)]++;
    }
    const failed = rowsPerAccount.map((n) => n > cap);
    const perAccount = accounts.map(() => 0);
    const targets: StreamTarget[] = [];
    const indexAccount = new Map<number, number>();
    for (const row of active) {
      const accountIdx = this.accountIndex(row.account_id);
      const inst = this.registry.liveByToken(row.instrument_token);
      if (!inst || failed[accountIdx] || perAccount[accountIdx] >= cap) continue;
      perAccount[accountIdx]++;
      if (inst.kind === 'index') {
        if (!indexAccount.has(inst.token)) indexAccount.set(inst.token, accountIdx);
      } else {
        targets.push({ inst, accountIdx });
        const idx = inst.underlying.indexToken;
        if (!this.production && !indexAccount.has(idx)) indexAccount.set(idx, accountIdx);
      }
    }
    const indices: StreamTarget[] = [];
    for (const u of UNDERLYINGS) {
      const acc = indexAccount.get(u.indexToken);
      const inst = this.registry.byToken(u.indexToken);
      if (acc !== undefined && inst) indices.push({ inst, accountIdx: acc });
    }
    return { targets, indices, perAccount };
  }

  /** `streamStart`: false when the set only shrinks by expiry (no stream restart for /health to report). */
  private applyTargets(snap = this.computeTargets(), streamStart = true): void {
    this.streamer.setTargets(snap.targets, snap.indices);
    this.perAccountStreaming = snap.perAccount;
    if (!streamStart) return;
    // /health (production) reports the stream start: when, how many rows, how many per account
    this.streamStartedAt = this.opts.baseClock.now();
    this.streamStartActive = this.store.activeCount();
    this.streamStartPerAccount = snap.perAccount.slice();
  }

  /** Instruments subscribed on each account's connections (<= 9000). */
  streamingPerAccount(): number[] {
    return this.perAccountStreaming;
  }

  get reloadInProgress(): boolean {
    return this.reloading;
  }

  get reloadPending(): boolean {
    return this.pendingReload;
  }

  /**
   * Applies the current subscriptions to the streams now, dropping a pending reload and its gap. With the broken
   * reload, a stream that has stopped stays stopped (only restart() revives it).
   */
  applyNow(): void {
    this.pendingReload = false;
    this.reloading = false;
    this.snapshot = null;
    if (this.streamDead) return;
    if (this.opts.reloadMode === 'broken' && this.streamStartedAt === null && this.store.activeCount() === 0) return;
    this.applyTargets();
  }

  /** A restart of the service: rows without an account get one round-robin, every active row streams again. */
  restart(): void {
    const now = this.opts.marketClock.now();
    for (const row of this.store.list('active')) {
      if (!this.registry.liveByToken(row.instrument_token)) this.store.deactivate(row.instrument_token, now);
    }
    let rr = 0;
    for (const row of this.store.list('active')) {
      if (row.account_id === null) row.account_id = this.opts.accounts[rr++ % this.opts.accounts.length];
    }
    this.markDirty();
    this.streamDead = false;
    this.reloaderMissing = false;
    this.pendingReload = false;
    this.reloading = false;
    this.snapshot = null;
    this.streamStartedAt = null;
    this.streamStartActive = 0;
    this.streamStartPerAccount = [];
    for (let i = 0; i < this.streamer.lastTickAt.length; i++) this.streamer.lastTickAt[i] = null;
    if (this.store.activeCount() > 0) this.applyTargets();
    else this.streamer.setTargets([], []);
  }

  // ---- the tick loop ---------------------------------------------------------------------------------------

  /** What the service streams at market time `nowMs`. */
  feedMode(nowMs: number): FeedMode | null {
    const inSession = this.opts.calendar.isInSession(nowMs);
    if (inSession) return 'live';
    if (this.production) {
      // The real service: mock ticks outside 09:15-15:30 IST by time of day; inside it, Kite (silent on a holiday).
      if (this.opts.clockMode === 'always-open' || !inServiceWindow(nowMs)) return 'mock';
      return null;
    }
    return this.opts.clockMode === 'always-open' ? 'closed' : null;
  }

  /** One step of the loop at market time `nowMs`: runs the reload machine, then publishes due ticks. */
  step(nowMs: number): number {
    if (this.closed) return 0;
    this.ensureRegistry(nowMs);
    if (this.opts.rebalancer && nowMs - this.rebalancedAt >= REBALANCE_EVERY_MS) this.rebalance(nowMs, 'reload');
    if (this.pendingReload && nowMs >= Math.max(this.lastChangeAt + this.opts.reloadDebounceMs, this.lastReloadAt + this.opts.reloadMinIntervalMs)) {
      this.pendingReload = false;
      this.lastReloadAt = nowMs;
      this.counters.reloads++;
      if (this.opts.reloadMode === 'broken') {
        // "Task cannot await on itself": every stream stops and nothing restarts them.
        this.streamDead = true;
        this.streamer.setTargets([], []);
        this.opts.logger.warn('devticker (reload broken): reload failed, streaming stopped until restart');
        return 0;
      }
      // FULL reload: every stream stops; the new set (read now) streams after the gap.
      this.gapUntil = nowMs + this.opts.reloadGapMs;
      this.reloading = true;
      this.snapshot = this.computeTargets();
      this.opts.logger.debug?.({ instruments: this.snapshot.targets.length }, 'devticker reload');
    }
    if (this.reloading) {
      if (nowMs < this.gapUntil) return 0;
      this.reloading = false;
      this.applyTargets(this.snapshot ?? undefined);
      this.snapshot = null;
      if (this.faults.stallAfterReload) {
        this.faults = { ...this.faults, stall: true, stallAfterReload: false };
      }
    }
    if (this.faults.stall || this.streamDead) return 0;
    const mode = this.feedMode(nowMs);
    if (mode === null) return 0;
    const n = this.streamer.tick(nowMs, mode);
    this.counters.ticksPublished += n;
    return n;
  }

  // ---- events ----------------------------------------------------------------------------------------------

  private emitEvent(kind: 'created' | 'deleted', row: SubscriptionRow, inst: Instrument | undefined): void {
    const wantRedis = this.opts.publishRedisEvents;
    const wantWebhook = Boolean(this.opts.webhookUrl);
    if (!wantRedis && !wantWebhook) return;
    if (this.faults.dropEventsRate > 0 && this.random() < this.faults.dropEventsRate) {
      this.counters.eventsDropped++;
      return;
    }
    const now = this.opts.marketClock.now();
    const exchange = inst?.exchange ?? 'NFO';
    if (wantRedis) {
      this.publish(
        CHANNEL_EVENTS,
        pyJson({
          event_type: kind === 'created' ? 'subscription_created' : 'subscription_removed',
          instrument_token: row.instrument_token,
          metadata: { tradingsymbol: row.tradingsymbol, segment: exchange, requested_mode: row.requested_mode, account_id: row.account_id },
          timestamp: Math.floor(now / 1000),
        }),
      );
    }
    if (wantWebhook) {
      const body = JSON.stringify({
        event_type: kind,
        instrument_token: row.instrument_token,
        tradingsymbol: row.tradingsymbol,
        timestamp: new Date(now).toISOString(),
        metadata: { segment: row.segment, exchange, requested_mode: row.requested_mode, account_id: row.account_id, status: row.status },
      });
      void this.postWebhook(body);
    }
    this.counters.eventsPublished++;
  }

  private async postWebhook(body: string): Promise<void> {
    const url = this.opts.webhookUrl as string;
    const ts = String(Math.floor(this.opts.baseClock.now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-strikedesk-timestamp': ts };
    if (this.opts.webhookSecret) {
      headers['x-strikedesk-signature'] = `sha256=${signWebhook(this.opts.webhookSecret, ts, body)}`;
    }
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status >= 300) {
        this.counters.webhookFailures++;
        this.opts.logger.warn({ status: res.status }, 'devticker webhook rejected');
      }
    } catch (err) {
      this.counters.webhookFailures++;
      this.opts.logger.warn({ err: (err as Error).message }, 'devticker webhook failed');
    }
  }

  // ---- Kite-side history budget ----------------------------------------------------------------------------

  /**
   * The service's own Kite limiter (production): a token bucket of 3 refilled at 3/s. Returns how long this call
   * must wait (ms) and takes its token now, so later callers queue behind it; a wait above 30 s is cut to 30 s (the
   * service then sends anyway).
   */
  kiteLimiterWait(nowMs: number): { waitMs: number; capped: boolean } {
    const b = this.kiteBucket;
    b.tokens = Math.min(3, b.tokens + ((nowMs - b.at) * 3) / 1000);
    b.at = nowMs;
    b.tokens -= 1;
    if (b.tokens >= 0) return { waitMs: 0, capped: false };
    const waitMs = Math.ceil((-b.tokens * 1000) / 3);
    if (waitMs > 30_000) {
      b.tokens += 1; // it goes out at 30 s without holding a later slot
      return { waitMs: 30_000, capped: true };
    }
    return { waitMs, capped: false };
  }

  /** Records a history call reaching "Kite"; false when it exceeds 3 requests in the last second. */
  kiteHistoryAllowed(nowMs: number): boolean {
    const calls = this.kiteCalls.filter((t) => t > nowMs - 1000);
    this.kiteCalls = calls;
    if (calls.length >= 3) return false;
    calls.push(nowMs);
    return true;
  }

  /** Deterministic draw for fault injection. */
  chance(p: number): boolean {
    return p > 0 && this.random() < p;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.saveState();
    const redis = this.redis;
    this.redis = null;
    if (redis) {
      try {
        await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1000))]);
      } catch {
        // already closed
      }
      redis.disconnect();
    }
  }
}

/** hex HMAC-SHA256 of "<timestamp>.<raw body>" with the secret (what the console's webhook verifies). */
export function signWebhook(secret: string, timestamp: string, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}
