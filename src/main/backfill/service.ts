// The backfill service: plans and queues jobs (scheduled every N minutes, immediate when a subscription appears,
// manual from the UI), runs them through the worker, and answers the backfill:* channels. With a shared Postgres
// only one console runs scheduled cycles at a time (advisory lock), and immediate jobs coalesce per instrument
// locally (the SQLite queue) and across consoles (claims in the market store).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BackfillJob, BackfillPlanView, BackfillScope, CoverageGrid, JobState } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import { DomainError } from '../../shared/result';
import type { HolidayCalendar } from '../calendar';
import type { Logger } from '../log';
import type { MarketDb } from '../market/db';
import { latestUnderlyingPrice } from '../market/distribution';
import type { BackfillCycleStats, Telemetry } from '../metrics/telemetry';
import type { StateStore } from '../state/store';
import type { TickerClient } from '../ticker/types';
import { ClaimStore, withLeadership } from './claims';
import { CoverageStore } from './coverage-store';
import { DEFAULT_RETRY, HistoryFetcher, type RetryPolicy } from './fetcher';
import { coverageGrid, type GridRequest } from './grid';
import { etaSeconds, Planner } from './planner';
import { JobQueue, PRIORITY, toView, type JobRow } from './queue';
import { JobRunner } from './runner';
import { resolveScope } from './scope';
import { HISTORY_REQUESTS_PER_SECOND, type Plan, type RegistryView, type SnapshotSource, type Trigger } from './types';
import { lookbackWindow } from './window';

export interface BackfillConfig {
  /** What the ticker publishes for theta and vega in history candles (default 'scaled', as the real service). */
  sourceGreeks?: 'scaled' | 'true';
  backfillIntervalMinutes: number;
  backfillLookbackMinutes: number;
  underlyings: readonly string[];
  strikesEachSide: number;
}

export interface BackfillServiceDeps {
  market: MarketDb;
  state: StateStore;
  flags: { get(key: 'backfill_subscription_aware'): boolean };
  clock: Clock;
  calendar: HolidayCalendar;
  config: BackfillConfig;
  ticker: () => TickerClient | undefined;
  registry: () => RegistryView | undefined;
  subscriptions: () => SnapshotSource | undefined;
  signals: { stored(tokens: Iterable<number>, atMs: number): void };
  telemetry: () => Telemetry;
  push?: { publish(topic: 'backfill:changed', key?: string): void };
  logger: Logger;
  /** Stable id of this console among those sharing a Postgres (default: stored in the state store). */
  consoleId?: string;
  /** Finished jobs (and their chunks) are removed after this long (default 14 days). */
  retentionMs?: number;
  /** History requests in flight at once from this service (default 4). */
  concurrency?: number;
  retry?: RetryPolicy;
  /** Run scheduled cycles on a timer (default true; tests call runScheduledCycle). */
  schedule?: boolean;
  /** Delay of the first scheduled cycle after start (default one interval; jobs left running resume at once). */
  firstCycleDelayMs?: number;
}

export interface CycleResult {
  trigger: 'scheduled';
  /** False when another console holds the scheduled-cycle lock (nothing was done here). */
  led: boolean;
  jobId: number | null;
  state: JobState | null;
  considered: number;
  plannedRequests: number;
  missingMinutes: number;
  /** The subscription snapshot could not be had; the configured underlyings were planned instead. */
  fellBack: boolean;
  notes: string[];
}

interface PlannedScope {
  plan: Plan;
  label: string;
}

export class BackfillService {
  readonly queue: JobQueue;
  readonly coverage: CoverageStore;
  readonly claims: ClaimStore;
  readonly consoleId: string;
  private readonly planner: Planner;
  private readonly runner: JobRunner;
  private readonly finals = new Map<number, ((job: JobRow) => void)[]>();
  private enqueueChain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private cycle: Promise<CycleResult> | null = null;
  private last: CycleResult | null = null;
  private started = false;
  private readonly fetchedSpots = new Map<string, { price: number; at: number }>();

  constructor(private readonly deps: BackfillServiceDeps) {
    this.consoleId = deps.consoleId ?? stableConsoleId(deps.state);
    this.queue = new JobQueue(deps.state.db, () => deps.clock.now());
    this.coverage = new CoverageStore(deps.market);
    this.claims = new ClaimStore(deps.market, this.consoleId);
    this.planner = new Planner(this.coverage, deps.calendar);
    this.runner = new JobRunner({
      queue: this.queue,
      market: deps.market,
      coverage: this.coverage,
      fetcher: new HistoryFetcher(deps.ticker, deps.retry ?? DEFAULT_RETRY),
      claims: this.claims,
      signals: deps.signals,
      telemetry: deps.telemetry,
      clock: deps.clock,
      logger: deps.logger,
      concurrency: deps.concurrency ?? 4,
      sourceGreeks: deps.config.sourceGreeks,
      ready: () => deps.ticker() !== undefined,
      onChange: () => this.changed(),
      onFinal: (job) => {
        for (const resolve of this.finals.get(job.id) ?? []) resolve(job);
        this.finals.delete(job.id);
      },
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const id of this.queue.settleStopped()) void this.claims.release(id).catch(() => undefined);
    // The home lock is held: a running job of another owner is this home's previous, dead run.
    const adopted = this.queue.adoptOrphans();
    if (adopted > 0) this.deps.logger.info({ adopted }, 'backfill jobs of a previous run taken over');
    this.pruneFinished();
    this.runner.start();
    this.changed();
    if (this.deps.schedule ?? true) {
      const every = this.deps.config.backfillIntervalMinutes * 60_000;
      const run = () => void this.runScheduledCycle().catch((err) => this.deps.logger.error({ err }, 'scheduled backfill cycle failed'));
      const first = this.deps.firstCycleDelayMs;
      if (first !== undefined && first < every) this.timers.push(setTimeout(run, first));
      this.timers.push(setInterval(run, every));
    }
    // Claims of queued and running jobs stay alive while this console lives.
    const heartbeat = setInterval(() => {
      const ids = this.queue.active().map((j) => j.id);
      void this.claims.refresh(ids).catch((err) => this.deps.logger.warn({ err }, 'backfill claim refresh failed'));
    }, 60_000);
    this.timers.push(heartbeat);
    this.timers.push(setInterval(() => this.pruneFinished(), 3_600_000));
    for (const t of this.timers) t.unref?.();
  }

  /** Finished jobs and their chunks are kept for the retention (default 14 days), then removed. */
  private pruneFinished(): void {
    try {
      const removed = this.queue.prune(this.deps.retentionMs ?? 14 * 86_400_000);
      if (removed > 0) this.deps.logger.info({ removed }, 'finished backfill jobs past the retention removed');
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'backfill job prune failed');
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await this.runner.stop();
    // A cycle waiting for its job gets the job as it stands (still running: it resumes at the next start).
    for (const [id, waiters] of this.finals) for (const resolve of waiters) resolve(this.queue.mustGet(id));
    this.finals.clear();
    await this.cycle?.catch(() => undefined);
  }

  /** The ticker client appeared (or anything else that may unblock queued jobs). */
  wake(): void {
    this.runner.wake();
  }

  whenIdle(): Promise<void> {
    return this.runner.whenIdle();
  }

  lastCycle(): CycleResult | null {
    return this.last;
  }

  // ---- planning ----

  /**
   * The underlying price a chain is centred on: the latest stored one (index bars, else the strikes' underlying), as
   * the chain screen takes it; on a console with nothing stored yet, the index's last candle from history (one
   * request in the shared budget, remembered for a minute), so a chain job and the grid after it agree on ATM.
   */
  private async spot(symbol: string, indexToken: number | null): Promise<number | null> {
    const now = this.deps.clock.now();
    const stored = await latestUnderlyingPrice(this.deps.market, { symbol, indexToken, now });
    if (stored) return stored.price;
    const ticker = this.deps.ticker();
    if (indexToken === null || !ticker) return null;
    const cached = this.fetchedSpots.get(symbol);
    if (cached && now - cached.at < 60_000) return cached.price;
    const { start, end } = lookbackWindow(this.deps.calendar, now, 15);
    try {
      const answer = await ticker.history({ token: indexToken, from: start, to: end - 1000, interval: 'minute', oi: false });
      const last = answer.candles[answer.candles.length - 1];
      if (!last || !Number.isFinite(last.close)) return null;
      this.fetchedSpots.set(symbol, { price: last.close, at: now });
      return last.close;
    } catch (err) {
      this.deps.logger.warn({ err, symbol }, 'no underlying price for the chain centre');
      return null;
    }
  }

  private async planScope(scope: BackfillScope, lookbackMinutes?: number): Promise<PlannedScope> {
    const now = this.deps.clock.now();
    const resolved = await resolveScope(scope, {
      registry: this.deps.registry(),
      subscriptions: this.deps.subscriptions(),
      subscriptionAware: this.deps.flags.get('backfill_subscription_aware'),
      underlyings: this.deps.config.underlyings,
      strikesEachSide: this.deps.config.strikesEachSide,
      spot: (symbol, token) => this.spot(symbol, token),
      nowMs: now,
    });
    const window = lookbackWindow(this.deps.calendar, now, lookbackMinutes ?? this.deps.config.backfillLookbackMinutes);
    const plan = await this.planner.plan({
      instruments: resolved.instruments,
      windowStart: window.start,
      windowEnd: window.end,
      nowMs: now,
      notes: resolved.notes,
      fellBack: resolved.fellBack,
    });
    if (plan.fellBack) this.deps.logger.warn({ notes: plan.notes }, 'backfill planned the configured underlyings: subscription snapshot unavailable');
    return { plan, label: resolved.label };
  }

  /** backfill:plan: what a job for this scope would request now, and how long that takes at the shared 3/s. */
  async plan(scope: BackfillScope, lookbackMinutes?: number): Promise<BackfillPlanView> {
    const { plan } = await this.planScope(scope, lookbackMinutes);
    return {
      instruments: plan.instruments,
      plannedRequests: plan.chunks.length,
      missingMinutes: plan.missingMinutes,
      etaSeconds: etaSeconds(plan.chunks.length, this.queue.requestsAhead(PRIORITY.manual), HISTORY_REQUESTS_PER_SECOND),
      windowStart: new Date(plan.windowStart).toISOString(),
      windowEnd: new Date(plan.windowEnd).toISOString(),
      notes: plan.notes,
    };
  }

  // ---- queueing ----

  /** Immediate backfill when a subscription appears (the caller checks backfill_immediate_on_subscribe). */
  enqueueImmediate(scope: BackfillScope, createdBy: string, reason?: string): Promise<BackfillJob> {
    return this.serialized(() => this.enqueue(scope, 'immediate', createdBy, reason));
  }

  /** backfill:start: a manual job from the UI (runs with immediate priority). */
  startManual(scope: BackfillScope, createdBy: string, opts: { reason?: string; lookbackMinutes?: number } = {}): Promise<BackfillJob> {
    return this.serialized(() => this.enqueue(scope, 'manual', createdBy, opts.reason, opts.lookbackMinutes));
  }

  /** Enqueues one at a time, so two events for the same instrument cannot both miss each other's job. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.enqueueChain.then(fn, fn);
    this.enqueueChain = run.catch(() => undefined);
    return run;
  }

  private async enqueue(
    scope: BackfillScope,
    trigger: Trigger,
    createdBy: string,
    reason?: string,
    lookbackMinutes?: number,
    planned?: PlannedScope,
  ): Promise<BackfillJob> {
    const { plan, label } = planned ?? (await this.planScope(scope, lookbackMinutes));
    const notes = [...plan.notes];
    let chunks = plan.chunks;
    if (trigger === 'immediate' && plan.considered.length > 0) {
      // Coalesce with immediate work already queued or running here.
      const active = this.queue.activeTokens();
      const taken = plan.considered.filter((i) => active.get(i.token)?.priority === PRIORITY.immediate);
      if (taken.length === plan.considered.length) {
        const existing = this.queue.mustGet((active.get(taken[0].token) as { jobId: number }).jobId);
        this.deps.logger.info({ scope, jobId: existing.id, createdBy }, 'immediate backfill coalesced with a queued job');
        return this.view(existing);
      }
      if (taken.length) {
        const takenTokens = new Set(taken.map((i) => i.token));
        chunks = chunks.filter((c) => !takenTokens.has(c.instrument.token));
        notes.push(`${taken.length} instrument(s) already queued in job #${(active.get(taken[0].token) as { jobId: number }).jobId}`);
      }
    }
    const instruments = new Set(chunks.map((c) => c.instrument.token)).size;
    const id = this.queue.create({
      scope,
      label,
      trigger,
      windowStart: plan.windowStart,
      windowEnd: plan.windowEnd,
      considered: plan.considered.length,
      instruments,
      missingMinutes: chunks.reduce((n, c) => n + c.missing, 0),
      notes,
      createdBy,
      reason,
      chunks,
      doneNote: chunks.length === 0 ? (notes[notes.length - 1] ?? 'nothing to do') : null,
    });
    if (chunks.length > 0)
      await this.claimFor(
        id,
        trigger,
        chunks.map((c) => c.instrument.token),
      );
    const row = this.queue.mustGet(id);
    if (row.state === 'done') this.reportEmpty(row, plan);
    this.runner.wake();
    this.changed();
    return this.view(row);
  }

  /**
   * Cross-console coalescing: an immediate job drops the instruments another console is already backfilling.
   * Never rejects (it is also called without awaiting): a claim failure leaves the job running unclaimed.
   */
  private async claimFor(jobId: number, trigger: Trigger, tokenList: number[]): Promise<void> {
    const tokens = [...new Set(tokenList)];
    try {
      const held = await this.claims.claim(tokens, jobId, PRIORITY[trigger]);
      if (trigger !== 'immediate') return;
      const lost = tokens.filter((t) => !held.has(t));
      if (lost.length === 0) return;
      const holders = await this.claims.heldElsewhere(lost);
      this.queue.dropTokens(jobId, lost);
      const who = holders[0] ? `console ${holders[0].owner} job #${holders[0].jobId}` : 'another console';
      const note = `${lost.length} instrument(s) already being backfilled by ${who}`;
      this.queue.addNote(jobId, note);
      if (this.queue.pendingChunks(jobId).length === 0) this.queue.finish(jobId, 'done', note, 0);
    } catch (err) {
      this.deps.logger.warn({ err, jobId }, 'backfill claims unavailable; the job runs unclaimed');
    }
  }

  private reportEmpty(row: JobRow, plan: Plan): void {
    this.deps.telemetry().backfillCycle(emptyStats(row.trigger, plan.considered.length));
    this.deps.telemetry().backfillJob('done', 0, 0);
  }

  // ---- scheduled cycles ----

  /** One scheduled cycle: plan the subscribed set (or the fallback) and run it, if this console leads. */
  runScheduledCycle(): Promise<CycleResult> {
    this.cycle ??= this.scheduledCycle().finally(() => {
      this.cycle = null;
    });
    return this.cycle;
  }

  private async scheduledCycle(): Promise<CycleResult> {
    const outcome = await withLeadership(this.deps.market, async (): Promise<CycleResult> => {
      const planned = await this.planScope({ kind: 'subscribed' });
      const { plan } = planned;
      const base = {
        trigger: 'scheduled' as const,
        led: true,
        considered: plan.considered.length,
        plannedRequests: plan.chunks.length,
        missingMinutes: plan.missingMinutes,
        fellBack: plan.fellBack,
        notes: plan.notes,
      };
      if (plan.chunks.length === 0) {
        this.deps.telemetry().backfillCycle(emptyStats('scheduled', plan.considered.length));
        this.deps.logger.info({ considered: plan.considered.length, notes: plan.notes }, 'scheduled backfill cycle: nothing to do');
        return { ...base, jobId: null, state: null };
      }
      const job = await this.serialized(() => this.enqueue({ kind: 'subscribed' }, 'scheduled', 'scheduler', 'scheduled cycle', undefined, planned));
      this.deps.logger.info(
        { jobId: job.id, considered: plan.considered.length, requests: plan.chunks.length, notes: plan.notes },
        'scheduled backfill cycle queued',
      );
      const final = await this.waitFinal(job.id);
      return { ...base, jobId: job.id, state: final.state };
    });
    const result: CycleResult = outcome.led
      ? outcome.value
      : {
          trigger: 'scheduled',
          led: false,
          jobId: null,
          state: null,
          considered: 0,
          plannedRequests: 0,
          missingMinutes: 0,
          fellBack: false,
          notes: ['another console runs the scheduled cycle'],
        };
    if (!outcome.led) this.deps.logger.info('scheduled backfill cycle skipped: another console holds the lock');
    this.last = result;
    return result;
  }

  /** Resolves when the job is done, failed or cancelled. */
  waitFinal(id: number): Promise<JobRow> {
    const row = this.queue.mustGet(id);
    if (row.state === 'done' || row.state === 'failed' || row.state === 'cancelled') return Promise.resolve(row);
    return new Promise((resolve) => this.finals.set(id, [...(this.finals.get(id) ?? []), resolve]));
  }

  // ---- operator actions and views ----

  jobs(state: JobState | 'all', limit: number): BackfillJob[] {
    return this.queue.views(this.queue.list(state, limit));
  }

  job(id: number): BackfillJob {
    return this.view(this.queue.mustGet(id));
  }

  cancel(id: number): BackfillJob {
    const row = this.queue.cancel(id);
    if (row.state === 'running') this.runner.requestStop(id);
    if (row.state === 'cancelled') {
      void this.claims.release(id).catch(() => undefined);
      this.deps.telemetry().backfillJob('cancelled', 0, row.rows_written);
      for (const resolve of this.finals.get(id) ?? []) resolve(row);
      this.finals.delete(id);
    }
    this.runner.wake();
    this.changed();
    return this.view(row);
  }

  retry(id: number): BackfillJob {
    const row = this.queue.retry(id);
    void this.claimFor(
      id,
      row.trigger,
      this.queue.pendingChunks(id).map((c) => c.instrument.token),
    );
    this.runner.wake();
    this.changed();
    return this.view(row);
  }

  async coverageGrid(req: GridRequest): Promise<CoverageGrid> {
    const registry = this.deps.registry();
    if (!registry) throw new DomainError('UNAVAILABLE', 'the instrument registry is not available yet');
    return coverageGrid(req, {
      registry,
      coverage: this.coverage,
      calendar: this.deps.calendar,
      nowMs: this.deps.clock.now(),
      spot: (symbol, token) => this.spot(symbol, token),
    });
  }

  health(): { queued: number; running: number | null; last: CycleResult | null; tickerReady: boolean } {
    return { queued: this.queue.depth(), running: this.runner.runningJobId(), last: this.last, tickerReady: this.deps.ticker() !== undefined };
  }

  private view(row: JobRow): BackfillJob {
    const [v] = this.queue.views([row]);
    return v ?? toView(row, null);
  }

  private changed(): void {
    this.deps.push?.publish('backfill:changed');
    this.deps.telemetry().gauge('backfill_queue_depth', this.queue.depth());
  }
}

function emptyStats(trigger: Trigger, considered: number): BackfillCycleStats {
  return { considered, backfilled: 0, requests: 0, minimumRequests: 0, rowsWritten: 0, gapsFilled: 0, noTradeWindows: 0, failures: {}, durationMs: 0, trigger };
}

/** This console's id among consoles sharing one Postgres: made once, kept in the state store. */
export function stableConsoleId(state: StateStore): string {
  const existing = state.getSetting('backfill.console_id');
  if (existing) return existing;
  const id = `${hostname()}-${randomBytes(4).toString('hex')}`;
  state.setSetting('backfill.console_id', id);
  return id;
}
