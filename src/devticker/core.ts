// The simulator's state and behaviour behind the HTTP surface: registry by IST date, subscriptions, the reload
// machine, capacity, streaming, events, fault switches and counters. Time always comes from the injected clocks.
import { createHmac } from 'node:crypto';
import { Redis } from 'ioredis';
import { type HolidayCalendar, istDate } from '../main/calendar';
import type { Clock } from '../shared/clock';
import { CHANNEL_EVENTS, type FeedBus, type FeedChannel } from '../shared/feed';
import { prng } from './hash';
import { MarketModel } from './market';
import { Registry, type RegistryOptions, UNDERLYINGS, type Instrument } from './registry';
import { DEFAULT_FAULTS, type SimCounters, type SimFaults, emptyCounters } from './sim';
import { type StreamTarget, Streamer, type UnderlyingShape } from './stream';
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
  /** market time (fast-forwarded in 'fast' mode) */
  marketClock: Clock;
  /** real time for rate limits */
  baseClock: Clock;
  clockMode: 'real' | 'always-open' | 'fast';
  calendar: HolidayCalendar;
  bus: FeedBus;
  redisUrl?: string;
  reloadMode: 'full' | 'incremental';
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
  logger: Logger;
}

export class DevTickerCore {
  readonly model: MarketModel;
  readonly store = new SubscriptionStore();
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
  private closed = false;

  constructor(readonly opts: CoreOptions) {
    this.model = new MarketModel(opts.seed, opts.denseTicks);
    this.faults = { ...DEFAULT_FAULTS, ...opts.faults };
    this.random = prng(opts.seed ^ 0x5eed);
    this.startedAt = opts.baseClock.now();
    this.registry = this.buildRegistry(istDate(opts.marketClock.now()));
    this.perAccountStreaming = opts.accounts.map(() => 0);
    this.streamer = new Streamer(this.model, opts.calendar, (c, m) => this.publish(c, m), () => this.faults, opts.underlyingShape, opts.accounts.length);
    if (opts.redisUrl) this.connectRedis(opts.redisUrl);
  }

  private buildRegistry(date: string): Registry {
    return new Registry({ ...this.opts.registry, seed: this.opts.seed, date, calendar: this.opts.calendar }, this.opts.baseClock.now());
  }

  /** Regenerates the registry when the IST date of market time changes (the daily dump). */
  ensureRegistry(nowMs: number): Registry {
    const date = istDate(nowMs);
    if (date !== this.registry.date) {
      this.registry = this.buildRegistry(date);
      this.opts.logger.info({ date, instruments: this.registry.live.length }, 'devticker registry refreshed');
      this.applyTargets(); // expired contracts stop streaming
    }
    return this.registry;
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
  subscribe(inst: Instrument, mode: string, accountId: string, apply: ApplyMode): SubscriptionRow {
    const now = this.opts.marketClock.now();
    const { row, activated } = this.store.upsert(inst.token, inst.tradingsymbol, inst.segment, mode, accountId, now);
    if (activated) this.emitEvent('created', row, inst);
    this.changed(apply);
    return row;
  }

  unsubscribe(token: number, apply: ApplyMode): SubscriptionRow | null {
    const res = this.store.deactivate(token, this.opts.marketClock.now());
    if (!res) return null;
    if (res.deactivated) this.emitEvent('deleted', res.row, this.registry.byToken(token));
    this.changed(apply);
    return res.row;
  }

  private changed(apply: ApplyMode): void {
    if (apply === 'none') return;
    if (apply === 'immediate' || this.opts.reloadMode === 'incremental') {
      this.applyTargets();
      return;
    }
    this.pendingReload = true;
    this.lastChangeAt = this.opts.marketClock.now();
  }

  /** Per account: active, live subscriptions in table order; the first 9000 stream (3 connections x 3000). */
  computeTargets(): { targets: StreamTarget[]; indices: StreamTarget[]; perAccount: number[] } {
    const cap = INSTRUMENTS_PER_CONNECTION * CONNECTIONS_PER_ACCOUNT;
    const accounts = this.opts.accounts;
    const perAccount = accounts.map(() => 0);
    const targets: StreamTarget[] = [];
    const indexAccount = new Map<number, number>();
    for (const row of this.store.list('active')) {
      const accountIdx = Math.max(0, accounts.indexOf(row.account_id));
      const inst = this.registry.liveByToken(row.instrument_token);
      if (!inst || perAccount[accountIdx] >= cap) continue;
      perAccount[accountIdx]++;
      if (inst.kind === 'index') {
        if (!indexAccount.has(inst.token)) indexAccount.set(inst.token, accountIdx);
      } else {
        targets.push({ inst, accountIdx });
        const idx = inst.underlying.indexToken;
        if (!indexAccount.has(idx)) indexAccount.set(idx, accountIdx);
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

  private applyTargets(snap = this.computeTargets()): void {
    this.streamer.setTargets(snap.targets, snap.indices);
    this.perAccountStreaming = snap.perAccount;
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

  /** Applies the current subscriptions to the streams now, dropping a pending reload and its gap. */
  applyNow(): void {
    this.pendingReload = false;
    this.reloading = false;
    this.snapshot = null;
    this.applyTargets();
  }

  // ---- the tick loop ---------------------------------------------------------------------------------------

  /** One step of the loop at market time `nowMs`: runs the reload machine, then publishes due ticks. */
  step(nowMs: number): number {
    if (this.closed) return 0;
    this.ensureRegistry(nowMs);
    if (this.pendingReload && nowMs >= Math.max(this.lastChangeAt + this.opts.reloadDebounceMs, this.lastReloadAt + this.opts.reloadMinIntervalMs)) {
      // FULL reload: every stream stops; the new set (read now) streams after the gap.
      this.pendingReload = false;
      this.lastReloadAt = nowMs;
      this.gapUntil = nowMs + this.opts.reloadGapMs;
      this.reloading = true;
      this.snapshot = this.computeTargets();
      this.counters.reloads++;
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
    if (this.faults.stall) return 0;
    const inSession = this.opts.calendar.isInSession(nowMs);
    if (!inSession && this.opts.clockMode !== 'always-open') return 0;
    const n = this.streamer.tick(nowMs, inSession);
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
        JSON.stringify({
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
