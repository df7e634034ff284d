// The metrics service: every service reports to it through Telemetry; it keeps the Prometheus series, folds the
// same events into the per-minute history in the state store, and evaluates the alert rules every few seconds.
// Telemetry calls sit on other services' hot paths: they only touch memory and never throw.
import type Database from 'better-sqlite3';
import type {
  AlertRule as AlertRuleName,
  AlertSilence,
  AlertThresholds,
  AlertView,
  ComponentHealth,
  MetricsSummary,
  PushTopic,
  ThresholdAuditEntry,
} from '../../shared/api';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { DataSignals } from '../market/data-signals';
import { AlertBook, evaluateRules, type AlertInputs, type AlertTransition } from './alerts';
import { TIME_TO_DATA_BUCKETS } from './histogram';
import { DEFAULT_RETENTION_MS, FINE_RETENTION_MS, FINE_SLOT_MS, MinuteHistory, windowStart } from './history';
import { LabelCaps, parseLabelKey } from './labels';
import { ALERT_RULES, PromMetrics } from './prometheus';
import { buildSummary, isSubscriptionCall, SERIES, type BackfillCycleView, type FeedView } from './summary';
import type { AutoSubscribeOutcome, BackfillCycleStats, Telemetry } from './telemetry';
import { ThresholdStore } from './thresholds';

export interface MetricsPush {
  publish(topic: PushTopic, key?: string, message?: string): void;
}

export interface MetricsServiceOptions {
  db: Database.Database;
  clock: Clock;
  logger?: Logger;
  push?: MetricsPush;
  /** First-data evidence: a token waiting for data stops waiting when its first bar or tick is stored. */
  signals?: DataSignals;
  /** The live feed state (the feed monitor), read when evaluating and scraping; reports are the fallback. */
  feed?: () => FeedView | undefined;
  /** The subscription manager's streaming verdict ("accepted but not streaming"), read when evaluating. */
  streaming?: () => AlertInputs['streaming'] | undefined;
  /** Flush and alert evaluation period (default 5 s). */
  tickEveryMs?: number;
  retentionMs?: number;
  /** Default process metrics on the registry (default true). */
  defaultMetrics?: boolean;
}

const LAST_CYCLE_KEY = 'last_backfill_cycle';
/** Tokens waiting for first data are tracked for at most this many (a runaway caller must not grow memory). */
const MAX_WAITS = 10_000;
const METRICS_PUSH_EVERY_MS = 10_000;

const finite = (x: number): boolean => typeof x === 'number' && Number.isFinite(x);

export class MetricsService implements Telemetry {
  readonly prom: PromMetrics;
  readonly history: MinuteHistory;
  readonly thresholds: ThresholdStore;
  readonly alerts: AlertBook;
  private readonly caps = new LabelCaps();
  private readonly log: Logger;
  private readonly waits = new Map<number, number>();
  private waitsDirty = false;
  private reportedFeed: FeedView = { state: 'idle', lastTickAt: null };
  private lastCycle: BackfillCycleView | null;
  private timer: NodeJS.Timeout | null = null;
  private offSignals: (() => void) | null = null;
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;
  private lastPushAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: MetricsServiceOptions) {
    this.log = opts.logger ?? silentLogger;
    const fine = new MinuteHistory(opts.db, opts.clock, FINE_RETENTION_MS, { table: 'metric_slots', slotMs: FINE_SLOT_MS });
    this.history = new MinuteHistory(opts.db, opts.clock, opts.retentionMs ?? DEFAULT_RETENTION_MS, undefined, fine);
    this.thresholds = new ThresholdStore(opts.db);
    this.alerts = new AlertBook(opts.db);
    this.prom = new PromMetrics(opts.clock, () => this.feedView(), { defaultMetrics: opts.defaultMetrics });
    const cycle = opts.db.prepare('SELECT value FROM metrics_state WHERE key = ?').get(LAST_CYCLE_KEY) as { value: string } | undefined;
    this.lastCycle = cycle ? (JSON.parse(cycle.value) as BackfillCycleView) : null;
    if (this.lastCycle) this.setCycleGauges(this.lastCycle);
    const since = opts.clock.now() - this.thresholds.get().autoSubscribeWindowMinutes * 60_000;
    for (const w of opts.db.prepare('SELECT token, since FROM data_waits WHERE since >= ?').all(since) as { token: number; since: number }[])
      this.waits.set(w.token, w.since);
    const firing = this.alerts.firingRules();
    for (const rule of ALERT_RULES) this.prom.alertsFiring.set({ rule }, firing.has(rule) ? 1 : 0);
  }

  // ---------- Telemetry ----------

  autoSubscribeAttempt(outcome: AutoSubscribeOutcome, reason: string, token: number): void {
    const labels = { outcome: this.caps.value('outcome', outcome), reason: this.caps.value('reason', reason || 'none') };
    this.prom.autoSubscribe.inc(labels);
    // The canonical key written by hand (names in sorted order) on the hot paths: no sort per event.
    this.history.count(SERIES.autoSubscribe, `outcome=${labels.outcome},reason=${labels.reason}`);
    if (outcome === 'succeeded') {
      if (!this.waits.has(token) && this.opts.signals?.firstDataAt(token) === undefined && this.waits.size < MAX_WAITS) {
        this.waits.set(token, this.opts.clock.now());
        this.waitsDirty = true;
      }
    } else if (this.waits.delete(token)) {
      this.waitsDirty = true;
    }
  }

  timeToData(seconds: number, token: number): void {
    if (!finite(seconds) || seconds < 0) return;
    this.prom.timeToData.observe(seconds);
    this.history.observe(SERIES.timeToData, '', seconds, TIME_TO_DATA_BUCKETS);
    this.dataArrived(token);
  }

  tickerRequest(endpoint: string, status: number | string, durationMs: number): void {
    const labels = { endpoint: this.caps.value('endpoint', endpoint), status: this.caps.value('status', status) };
    this.prom.tickerRequests.inc(labels);
    const seconds = finite(durationMs) && durationMs >= 0 ? durationMs / 1000 : 0;
    this.prom.tickerDuration.observe({ endpoint: labels.endpoint }, seconds);
    this.history.observe(SERIES.tickerRequest, `endpoint=${labels.endpoint},status=${labels.status}`, seconds);
  }

  backfillCycle(stats: BackfillCycleStats): void {
    const trigger = this.caps.value('trigger', stats.trigger);
    const n = (x: number) => (finite(x) && x >= 0 ? x : 0);
    const cycle: BackfillCycleView = {
      considered: n(stats.considered),
      backfilled: n(stats.backfilled),
      requests: n(stats.requests),
      minimumRequests: n(stats.minimumRequests),
      rowsWritten: n(stats.rowsWritten),
    };
    this.prom.backfillCycles.inc({ trigger });
    this.prom.backfillRequests.inc(cycle.requests);
    // rows_written_total counts finished jobs (backfillJob): a cycle's rows are also its jobs' rows.
    this.setCycleGauges(cycle);
    const labels = { trigger };
    this.history.observe(SERIES.backfillConsidered, labels, cycle.considered);
    this.history.observe(SERIES.backfillBackfilled, labels, cycle.backfilled);
    this.history.observe(SERIES.backfillRequests, labels, cycle.requests);
    this.history.observe(SERIES.backfillMinimumRequests, labels, cycle.minimumRequests);
    this.history.observe(SERIES.backfillRows, labels, cycle.rowsWritten);
    this.lastCycle = cycle;
    this.guard('last backfill cycle', () =>
      this.opts.db
        .prepare(
          'INSERT INTO metrics_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        )
        .run(LAST_CYCLE_KEY, JSON.stringify(cycle), this.opts.clock.now()),
    );
  }

  backfillJob(state: 'done' | 'failed' | 'cancelled', durationMs: number, rowsWritten: number): void {
    const labels = { state: this.caps.value('state', state) };
    this.prom.backfillJobs.inc(labels);
    if (finite(rowsWritten) && rowsWritten > 0) this.prom.backfillRows.inc(rowsWritten);
    this.history.observe(SERIES.backfillJob, labels, finite(durationMs) && durationMs >= 0 ? durationMs / 1000 : 0);
  }

  intakeEvent(source: 'webhook' | 'redis' | 'poll' | 'manual', type: string, outcome: string): void {
    const labels = { source: this.caps.value('source', source), type: this.caps.value('type', type), outcome: this.caps.value('intake_outcome', outcome) };
    this.prom.intakeEvents.inc(labels);
    this.history.count(SERIES.intakeEvent, `outcome=${labels.outcome},source=${labels.source},type=${labels.type}`);
  }

  ingest(counts: { ticks?: number; parseErrors?: number; barsWritten?: number; droppedBars?: number; mockSkipped?: number }): void {
    const add = (value: number | undefined, counter: { inc(n: number): void }, series: string) => {
      if (value === undefined || !finite(value) || value <= 0) return;
      counter.inc(value);
      this.history.count(series, '', value);
    };
    add(counts.ticks, this.prom.ingestTicks, SERIES.ingestTicks);
    add(counts.parseErrors, this.prom.ingestParseErrors, SERIES.ingestParseErrors);
    add(counts.barsWritten, this.prom.ingestBarsWritten, SERIES.ingestBarsWritten);
    add(counts.droppedBars, this.prom.ingestDroppedBars, SERIES.ingestDroppedBars);
    add(counts.mockSkipped, this.prom.ingestMockSkipped, SERIES.ingestMockSkipped);
  }

  feedState(state: 'live' | 'stale' | 'idle' | 'closed', lastTickAtMs: number | null): void {
    this.reportedFeed = { state, lastTickAt: lastTickAtMs };
    this.prom.setFeedState(state);
    this.history.sample(SERIES.feedStale, '', state === 'stale' ? 1 : 0);
  }

  gauge(name: 'backfill_queue_depth' | 'inbox_depth' | 'ingest_queue_depth' | 'active_subscriptions' | 'pending_subscriptions', value: number): void {
    if (!finite(value)) return;
    if (name === 'active_subscriptions') this.prom.subscriptions.set({ state: 'active' }, value);
    else if (name === 'pending_subscriptions') this.prom.subscriptions.set({ state: 'pending' }, value);
    else if (name in this.prom.queueDepth) this.prom.queueDepth[name].set(value);
    else return;
    this.history.sample(name, '', value);
  }

  // ---------- lifecycle ----------

  start(): void {
    if (this.timer) return;
    this.offSignals = this.opts.signals?.onFirst((token) => this.dataArrived(token)) ?? null;
    this.timer = setInterval(() => this.tick(), this.opts.tickEveryMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.offSignals?.();
    this.offSignals = null;
    this.flush();
  }

  /** One period: write the history, evaluate the alerts. Public so tests drive it with a manual clock. */
  tick(): AlertTransition[] {
    const wrote = this.flush();
    const transitions = this.guard('alert evaluation', () => this.evaluate()) ?? [];
    const now = this.opts.clock.now();
    if (wrote > 0 && now - this.lastPushAt >= METRICS_PUSH_EVERY_MS) {
      this.lastPushAt = now;
      this.opts.push?.publish('metrics:changed');
    }
    return transitions;
  }

  /** Writes the folded minute rows (and the waits); returns the rows written. Never throws: errors are kept for health. */
  flush(): number {
    const result = this.guard('metrics flush', () => {
      const written = this.history.flush().rows;
      if (this.waitsDirty) this.persistWaits();
      return written;
    });
    if (result !== undefined) {
      this.lastFlushAt = this.opts.clock.now();
      this.lastError = null;
    }
    return result ?? 0;
  }

  private persistWaits(): void {
    const { db } = this.opts;
    const insert = db.prepare('INSERT INTO data_waits (token, since) VALUES (?, ?)');
    db.transaction(() => {
      db.prepare('DELETE FROM data_waits').run();
      for (const [token, since] of this.waits) insert.run(token, since);
    })();
    this.waitsDirty = false;
  }

  // ---------- alerts ----------

  /** Numbers the rules judge, from the stored history (so they survive a restart) and the live waits. */
  alertInputs(): AlertInputs {
    const now = this.opts.clock.now();
    const t = this.thresholds.get();
    const windowFrom = windowStart(now, t.autoSubscribeWindowMinutes);
    // A token subscribed before the window stops counting: it was most likely released or expired since.
    for (const [token, since] of this.waits) {
      if (since < windowFrom) {
        this.waits.delete(token);
        this.waitsDirty = true;
      }
    }
    const attempts = this.history.rows(SERIES.autoSubscribe, windowFrom);
    const failed = attempts.filter((r) => parseLabelKey(r.labels).outcome === 'failed').reduce((s, r) => s + r.count, 0);
    const attempted = attempts.reduce((s, r) => s + r.count, 0);
    // The plan's rule is "data not available 30 s after SUBSCRIPTION": measured from the successful subscribe, not
    // from the first request (a far strike of a 126-leg chain waits minutes in the 30-a-minute queue by design).
    const ttd = this.history.rows(SERIES.subscribeToData, windowFrom);
    const calls = this.history.rows(SERIES.tickerRequest, windowStart(now, 60)).filter(isSubscriptionCall);
    return {
      autoSubscribe: { attempted, failed },
      waiting: [...this.waits].map(([token, since]) => ({ token, waitedSeconds: (now - since) / 1000 })),
      worstTimeToData: ttd.length === 0 ? null : Math.max(...ttd.map((r) => r.max ?? 0)),
      subscriptionCallsLastHour: calls.reduce((s, r) => s + r.count, 0),
      feed: this.feedView(),
      streaming: this.opts.streaming?.() ?? null,
    };
  }

  /** Evaluates every rule now; fires or resolves, logs, pushes 'alerts:changed' with the text. */
  evaluate(): AlertTransition[] {
    const now = this.opts.clock.now();
    const verdicts = evaluateRules(this.alertInputs(), this.thresholds.get(), now);
    const transitions = this.alerts.apply(verdicts, now);
    for (const tr of transitions) {
      const rule = tr.alert.rule;
      this.prom.alertsFiring.set({ rule }, tr.kind === 'fired' ? 1 : 0);
      const fields = { rule, alertId: tr.alert.id, value: tr.alert.value, threshold: tr.alert.threshold };
      if (tr.kind === 'fired') this.log.warn(fields, `alert fired: ${tr.message}`);
      else this.log.info(fields, `alert resolved: ${tr.message}`);
      // A silenced rule changes the list but raises no desktop notification (the message is what raises one).
      this.opts.push?.publish('alerts:changed', rule, this.alerts.isSilenced(rule, now) ? undefined : tr.message);
    }
    return transitions;
  }

  listAlerts(limit: number): { active: AlertView[]; history: AlertView[]; silences: AlertSilence[] } {
    const now = this.opts.clock.now();
    return { active: this.alerts.active(now), history: this.alerts.history(limit, now), silences: this.alerts.silences(now) };
  }

  acknowledge(id: number, actor: string, reason: string): AlertView {
    const alert = this.alerts.acknowledge(id, actor, reason, this.opts.clock.now());
    this.log.info({ actor, reason, alertId: id, rule: alert.rule }, 'alert acknowledged');
    this.opts.push?.publish('alerts:changed', alert.rule);
    return alert;
  }

  silence(rule: AlertRuleName, actor: string, reason: string, minutes: number): AlertSilence {
    const silence = this.alerts.silence(rule, actor, reason, minutes, this.opts.clock.now());
    this.log.info({ actor, reason, rule, until: silence.until }, 'alert rule silenced');
    this.opts.push?.publish('alerts:changed', rule);
    return silence;
  }

  unsilence(rule: AlertRuleName, actor: string): { lifted: AlertSilence[] } {
    const lifted = this.alerts.unsilence(rule, actor, this.opts.clock.now());
    if (lifted.length > 0) {
      this.log.info({ actor, rule }, 'alert rule silence lifted');
      this.opts.push?.publish('alerts:changed', rule);
    }
    return { lifted };
  }

  thresholdAudit(limit: number): ThresholdAuditEntry[] {
    return this.thresholds.audit(limit);
  }

  setThresholds(changes: Partial<AlertThresholds>, actor: string, reason: string): AlertThresholds {
    const { thresholds, changed } = this.thresholds.set(changes, actor, reason, new Date(this.opts.clock.now()).toISOString());
    if (changed.length > 0) {
      this.log.info({ actor, reason, changed: Object.fromEntries(changed.map((k) => [k, thresholds[k]])) }, 'alert thresholds changed');
      this.tick();
      this.opts.push?.publish('metrics:changed');
    }
    return thresholds;
  }

  // ---------- reading ----------

  /** The success metrics over the last `hours`, or the last `minutes` when given (short windows, 15 s buckets). */
  summary(hours: number, minutes?: number): MetricsSummary {
    this.flush();
    return buildSummary({
      history: this.history,
      nowMs: this.opts.clock.now(),
      minutes: minutes ?? hours * 60,
      thresholds: this.thresholds.get(),
      lastCycle: this.lastCycle,
      feed: this.feedView(),
    });
  }

  exposition(): Promise<{ contentType: string; body: string }> {
    return this.prom.exposition();
  }

  health(): ComponentHealth {
    // A silenced rule is named as such: health and the banner agree on what an operator has already muted.
    const firing = this.alerts.active(this.opts.clock.now()).map((a) => (a.silence ? `${a.rule} (silenced by ${a.silence.by})` : a.rule));
    const detail =
      (firing.length ? `${firing.length} alert(s) firing: ${firing.join(', ')}` : 'no alert firing') +
      (this.lastError ? `; last history write failed: ${this.lastError}` : '');
    return {
      status: this.lastError ? 'degraded' : 'ok',
      detail,
      lastEventAt: this.lastFlushAt === null ? null : new Date(this.lastFlushAt).toISOString(),
    };
  }

  private feedView(): FeedView {
    return this.opts.feed?.() ?? this.reportedFeed;
  }

  private dataArrived(token: number): void {
    const since = this.waits.get(token);
    if (since === undefined) return;
    this.waits.delete(token);
    this.waitsDirty = true;
    const seconds = (this.opts.clock.now() - since) / 1000;
    if (finite(seconds) && seconds >= 0) this.history.observe(SERIES.subscribeToData, '', seconds);
  }

  private setCycleGauges(cycle: BackfillCycleView): void {
    this.prom.backfillInstruments.set({ kind: 'considered' }, cycle.considered);
    this.prom.backfillInstruments.set({ kind: 'backfilled' }, cycle.backfilled);
    this.prom.backfillCycleRequests.set({ kind: 'made' }, cycle.requests);
    this.prom.backfillCycleRequests.set({ kind: 'minimum' }, cycle.minimumRequests);
  }

  private guard<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.lastError = (err as Error).message;
      this.log.error({ err }, `${what} failed`);
      return undefined;
    }
  }
}
