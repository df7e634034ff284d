// Feed staleness. The real ticker service's known failure is a silent one: /health keeps saying "running" while
// no tick arrives. So liveness is judged from the ticks themselves: last tick time per token and per channel, and
// a feed that is expected to stream (a session, or always in the devticker's always-open mode, with subscriptions)
// and has had NO tick at all for 30 s is STALE. Staleness is feed-level on purpose: Kite sends ticks only on
// change, so an illiquid strike can be silent for minutes while the feed is healthy; per-token times are exposed
// for consumers that want them, but never decide the feed's state.
import type { Clock } from '../../shared/clock';
import type { Telemetry } from '../metrics/telemetry';

export type FeedStateName = 'live' | 'stale' | 'idle' | 'closed';

export interface FeedStateView {
  state: FeedStateName;
  /** Last tick on any channel (epoch ms, our clock), or null. */
  lastTickAt: number | null;
}

export interface FeedMonitorDetail extends FeedStateView {
  /** Why the state is what it is, in words (health detail, UI tooltip). */
  reason: string;
  /** Active subscriptions as last known, or null when unknown. */
  subscriptions: number | null;
  /** Since when (epoch ms) the current expectation of ticks holds. */
  expectedSince: number | null;
  perChannel: Record<string, number | null>;
  /** Tokens that have ticked since start. */
  tokensSeen: number;
}

export interface FeedMonitorOptions {
  clock: Clock;
  /** No tick on any channel for this long while ticks are expected: stale (default 30 s). */
  staleAfterMs?: number;
  /** True when the feed should stream at this instant: a session, or always (devticker always-open mode). */
  expectStreaming: (nowMs: number) => boolean;
  /**
   * Active subscriptions on the ticker service, or null when unknown. Polled, never awaited on the tick path.
   * Unknown counts are treated as "expected" once the feed has ticked in the current period.
   */
  subscriptionCount?: () => Promise<number | null>;
  subscriptionPollMs?: number;
  /** How often the state is evaluated by the timer (default 1 s). */
  evaluateEveryMs?: number;
  telemetry?: Telemetry;
  /** Called on every state transition (after telemetry). */
  onChange?: (view: FeedMonitorDetail, previous: FeedStateName) => void;
}

const HEARTBEAT_MS = 15_000;

export class FeedMonitor {
  private readonly tokenTicks = new Map<number, number>();
  private readonly channelTicks = new Map<string, number>();
  private lastAny: number | null = null;
  private subs: number | null = null;
  private expected = false;
  private expectedSince: number | null = null;
  private current: FeedStateName = 'idle';
  private reason = 'starting';
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private timers: NodeJS.Timeout[] = [];
  private polling = false;
  readonly staleAfterMs: number;

  constructor(private readonly opts: FeedMonitorOptions) {
    this.staleAfterMs = opts.staleAfterMs ?? 30_000;
  }

  /** The hot path: one tick received now on `channel` for `token` (null for an underlying without a token). */
  noteTick(channel: string, token: number | null, atMs: number): void {
    if (token !== null) this.tokenTicks.set(token, atMs);
    this.channelTicks.set(channel, atMs);
    if (this.lastAny === null || atMs > this.lastAny) this.lastAny = atMs;
  }

  /** Whether ticks are expected at this instant (a session, or always with the always-open devticker). */
  expectsStreamingAt(ms: number): boolean {
    return this.opts.expectStreaming(ms);
  }

  lastTickAt(token: number): number | null {
    return this.tokenTicks.get(token) ?? null;
  }

  lastChannelTickAt(channel: string): number | null {
    return this.channelTicks.get(channel) ?? null;
  }

  feedState(): FeedStateView {
    return { state: this.current, lastTickAt: this.lastAny };
  }

  detail(): FeedMonitorDetail {
    return {
      state: this.current,
      lastTickAt: this.lastAny,
      reason: this.reason,
      subscriptions: this.subs,
      expectedSince: this.expectedSince,
      perChannel: Object.fromEntries(this.channelTicks),
      tokensSeen: this.tokenTicks.size,
    };
  }

  /** Records the active subscription count (the poller calls this; tests may too). */
  setSubscriptionCount(count: number | null): void {
    const now = this.opts.clock.now();
    // Subscriptions appearing start a new expectation: the new streams get a full stale window to begin.
    if (count !== null && count > 0 && this.subs === 0 && this.expected) this.expectedSince = now;
    this.subs = count;
  }

  /** Re-evaluates the state at the clock's now; reports and notifies on transitions. */
  evaluate(): FeedStateName {
    const now = this.opts.clock.now();
    const expected = this.opts.expectStreaming(now);
    if (expected && !this.expected) this.expectedSince = now;
    if (!expected) this.expectedSince = null;
    this.expected = expected;

    let next: FeedStateName;
    let reason: string;
    const sinceTick = this.lastAny === null ? null : now - this.lastAny;
    const fresh = sinceTick !== null && sinceTick <= this.staleAfterMs;
    if (!expected) {
      next = 'closed';
      reason = 'outside market hours';
    } else if (this.subs === 0) {
      next = 'idle';
      reason = 'no active subscriptions';
    } else if (fresh) {
      next = 'live';
      reason = 'ticking';
    } else {
      const since = this.expectedSince ?? now;
      const reference = Math.max(since, this.lastAny ?? Number.NEGATIVE_INFINITY);
      const tickedThisPeriod = this.lastAny !== null && this.lastAny >= since;
      const silentFor = now - reference;
      if (this.subs === null && !tickedThisPeriod) {
        next = 'idle';
        reason = 'no ticks yet and the subscription count is unknown';
      } else if (silentFor > this.staleAfterMs) {
        next = 'stale';
        const subs = this.subs === null ? 'subscriptions' : `${this.subs} subscriptions`;
        reason = `no ticks for ${Math.round(silentFor / 1000)} s with ${subs} during market hours`;
      } else {
        next = 'idle';
        reason = 'waiting for the first ticks';
      }
    }
    const previous = this.current;
    this.current = next;
    this.reason = reason;
    if (previous !== next || now - this.lastReportAt >= HEARTBEAT_MS) {
      this.lastReportAt = now;
      this.opts.telemetry?.feedState(next, this.lastAny);
    }
    if (previous !== next) this.opts.onChange?.(this.detail(), previous);
    return next;
  }

  private async pollSubscriptions(): Promise<void> {
    const source = this.opts.subscriptionCount;
    if (!source || this.polling) return;
    this.polling = true;
    try {
      this.setSubscriptionCount(await source());
    } catch {
      this.setSubscriptionCount(null);
    } finally {
      this.polling = false;
    }
  }

  start(): void {
    if (this.timers.length) return;
    this.evaluate();
    const every = this.opts.evaluateEveryMs ?? 1000;
    const evalTimer = setInterval(() => this.evaluate(), every);
    evalTimer.unref?.();
    this.timers.push(evalTimer);
    if (this.opts.subscriptionCount) {
      void this.pollSubscriptions();
      const pollTimer = setInterval(() => void this.pollSubscriptions(), this.opts.subscriptionPollMs ?? 15_000);
      pollTimer.unref?.();
      this.timers.push(pollTimer);
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
