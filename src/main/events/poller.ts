// The poll reconciler: the intake path that works with today's real ticker service, which publishes no events.
// Every interval (and after every Redis (re)connect) it lists the active subscriptions (all pages, one snapshot) and
// diffs them against the set it saw last, persisted in SQLite so a restart diffs against what was really seen:
// new tokens become 'created' events, vanished ones 'removed', written to the inbox with the new set in ONE
// transaction (a crash cannot record the set without its events, or the events twice).
//
// First run after a fresh install: the set is recorded as a BASELINE and no events are emitted. Pre-existing
// subscriptions are backfilled by the scheduled cycle (which covers the subscribed set), not by an immediate-job storm
// of one job per subscription. Changes that happen while the console is down are found at the next start (the set
// persists), so they do get events.
//
// A failed listing is never read as "nothing is subscribed": the cycle records the error and diffs nothing.
//
// The service pages an unordered re-read of all rows, so above 1000 rows one listing can skip a row or repeat one.
// Rows are keyed by token (a repeat is one row), and a token missing from one listing is a removal only when the next
// listing confirms it: until then it stays in the known set and no 'removed' event is written. Rows may carry
// `account_id: null` (the service's answer for rows created without an account); only token and tradingsymbol matter here.
import type { Clock } from '../../shared/clock';
import type { StateStore } from '../state/store';
import type { TickerSubscription } from '../ticker/types';
import type { Logger } from '../log';
import type { EventInbox } from './inbox';

/** The part of the TickerClient (issue 4) the reconciler uses. */
export interface SubscriptionLister {
  listAllSubscriptions(status?: 'active' | 'inactive'): Promise<TickerSubscription[]>;
}

export const POLL_BASELINE_SETTING = 'events.poll_baseline_at';

export type PollResult =
  | { kind: 'baseline'; active: number }
  | { kind: 'diff'; active: number; created: number; removed: number; eventIds: number[] }
  | { kind: 'failed'; error: string }
  | { kind: 'unavailable'; reason: string };

export interface PollStatus {
  runs: number;
  lastRunAt: number | null;
  lastOkAt: number | null;
  lastError: string | null;
  baselineAt: string | null;
  known: number;
  lastResult: PollResult | null;
}

export interface PollReconcilerOptions {
  state: StateStore;
  inbox: EventInbox;
  clock: Clock;
  intervalMs: number;
  lister: () => SubscriptionLister | undefined;
  /** Called after a cycle wrote events (kick the processor, push). */
  onEvents: (ids: number[]) => void;
  logger?: Logger;
}

export class PollReconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PollResult> | null = null;
  private rerun: Promise<PollResult> | null = null;
  /** The timer runs only after start(); runNow works either way until stop(). */
  private started = false;
  private closed = false;
  private readonly s: PollStatus = { runs: 0, lastRunAt: null, lastOkAt: null, lastError: null, baselineAt: null, known: 0, lastResult: null };
  private readonly applyDiff: (current: TickerSubscription[], cycleAt: number) => PollResult;
  /** Known tokens missing from the last listing: removed if the next one misses them too. */
  private readonly missingOnce = new Set<number>();

  constructor(private readonly opts: PollReconcilerOptions) {
    const db = opts.state.db;
    this.s.baselineAt = opts.state.getSetting(POLL_BASELINE_SETTING) ?? null;
    this.s.known = (db.prepare('SELECT count(*) AS n FROM intake_poll_set').get() as { n: number }).n;
    const known = db.prepare('SELECT token, tradingsymbol FROM intake_poll_set');
    const add = db.prepare('INSERT INTO intake_poll_set (token, tradingsymbol, first_seen_at) VALUES (?, ?, ?)');
    const drop = db.prepare('DELETE FROM intake_poll_set WHERE token = ?');
    this.applyDiff = db.transaction((current: TickerSubscription[], cycleAt: number): PollResult => {
      const seen = new Map((known.all() as { token: number; tradingsymbol: string | null }[]).map((r) => [r.token, r.tradingsymbol]));
      const now = new Map(current.filter((s) => s.status !== 'inactive').map((s) => [s.instrument_token, s.tradingsymbol]));
      const at = new Date(cycleAt).toISOString();
      const baseline = this.s.baselineAt === null;
      const eventIds: number[] = [];
      let created = 0;
      let removed = 0;
      for (const [token, symbol] of now) {
        if (seen.has(token)) continue;
        add.run(token, symbol, at);
        created++;
        if (!baseline) this.emit(eventIds, 'created', token, symbol, cycleAt);
      }
      for (const [token, symbol] of seen) {
        if (now.has(token)) {
          this.missingOnce.delete(token);
          continue;
        }
        if (!baseline && !this.missingOnce.has(token)) {
          this.missingOnce.add(token);
          continue;
        }
        this.missingOnce.delete(token);
        drop.run(token);
        removed++;
        if (!baseline) this.emit(eventIds, 'removed', token, symbol, cycleAt);
      }
      if (baseline) {
        opts.state.setSetting(POLL_BASELINE_SETTING, at);
        this.s.baselineAt = at;
        return { kind: 'baseline', active: now.size };
      }
      return { kind: 'diff', active: now.size, created, removed, eventIds };
    });
  }

  private emit(ids: number[], type: 'created' | 'removed', token: number, symbol: string | null, cycleAt: number): void {
    const id = this.opts.inbox.insertOwned(
      { source: 'poll', type, rawType: type === 'created' ? 'appeared' : 'vanished', token, tradingsymbol: symbol, occurredAt: cycleAt, metadata: null },
      `poll:${type}:${token}:${cycleAt}`,
    );
    if (id !== null) ids.push(id);
  }

  start(): void {
    this.started = true;
    void this.runNow('start');
  }

  private schedule(): void {
    if (!this.started || this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runNow('interval');
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /**
   * One reconciliation now. Single flight: while a cycle runs, callers share ONE follow-up cycle, because the
   * running one may have listed before the change they know about (a Redis reconnect).
   */
  runNow(reason: string): Promise<PollResult> {
    if (!this.running) {
      this.running = this.cycle(reason).finally(() => {
        this.running = null;
        if (!this.rerun) this.schedule();
      });
      return this.running;
    }
    this.rerun ??= this.running.then(() => {
      this.rerun = null;
      return this.runNow(reason);
    });
    return this.rerun;
  }

  private async cycle(reason: string): Promise<PollResult> {
    const lister = this.opts.lister();
    const cycleAt = this.opts.clock.now();
    this.s.runs++;
    this.s.lastRunAt = cycleAt;
    if (!lister) {
      const result: PollResult = { kind: 'unavailable', reason: 'ticker client not running' };
      this.s.lastResult = result;
      return result;
    }
    let result: PollResult;
    try {
      const active = await lister.listAllSubscriptions('active');
      if (this.closed) return { kind: 'unavailable', reason: 'stopped' };
      result = this.applyDiff(active, cycleAt);
      this.s.lastOkAt = cycleAt;
      this.s.lastError = null;
      this.s.known = active.length;
    } catch (err) {
      result = { kind: 'failed', error: (err as Error).message };
      if (this.s.lastError === null) this.opts.logger?.warn({ err: result.error, reason }, 'poll reconciliation failed; will retry next interval');
      this.s.lastError = result.error;
    }
    this.s.lastResult = result;
    if (result.kind === 'baseline')
      this.opts.logger?.info({ active: result.active }, 'poll reconciler recorded its baseline (no events for pre-existing subscriptions)');
    if (result.kind === 'diff' && result.eventIds.length > 0) {
      this.opts.logger?.info({ created: result.created, removed: result.removed, reason }, 'poll reconciliation found changes');
      this.opts.onEvents(result.eventIds);
    }
    return result;
  }

  status(): PollStatus {
    return { ...this.s };
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
