// The Prometheus side: one prom-client Registry per service instance (never the global default, so two consoles in
// one test process do not share counters), metric names with their units, and the default process metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../../shared/clock';
import { TICKER_DURATION_BUCKETS, TIME_TO_DATA_BUCKETS } from './histogram';

export const ALERT_RULES = ['auto_subscribe_failures', 'slow_data', 'excessive_subscription_calls', 'feed_stale', 'streaming_stopped'] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export const FEED_STATES = ['live', 'stale', 'idle', 'closed'] as const;

export class PromMetrics {
  readonly registry = new Registry();
  readonly timeToData: Histogram<string>;
  readonly autoSubscribe: Counter<'outcome' | 'reason'>;
  readonly tickerRequests: Counter<'endpoint' | 'status'>;
  readonly tickerDuration: Histogram<'endpoint'>;
  readonly backfillInstruments: Gauge<'kind'>;
  readonly backfillCycleRequests: Gauge<'kind'>;
  readonly backfillCycles: Counter<'trigger'>;
  readonly backfillRequests: Counter<string>;
  readonly backfillRows: Counter<string>;
  readonly backfillJobs: Counter<'state'>;
  readonly queueDepth: Record<'backfill_queue_depth' | 'inbox_depth' | 'ingest_queue_depth', Gauge<string>>;
  readonly subscriptions: Gauge<'state'>;
  readonly feedStale: Gauge<string>;
  readonly feedState: Gauge<'state'>;
  readonly feedLastTickAge: Gauge<string>;
  readonly intakeEvents: Counter<'source' | 'type' | 'outcome'>;
  readonly ingestTicks: Counter<string>;
  readonly ingestParseErrors: Counter<string>;
  readonly ingestBarsWritten: Counter<string>;
  readonly ingestDroppedBars: Counter<string>;
  readonly ingestMockSkipped: Counter<string>;
  readonly alertsFiring: Gauge<'rule'>;

  /** `feed()` is read at scrape time so the tick age is current, not as of the last report. */
  constructor(clock: Clock, feed: () => { state: string; lastTickAt: number | null }, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.timeToData = new Histogram({
      name: 'strikedesk_time_to_data_seconds',
      help: "Seconds from the first request for an instrument's data to its first stored bar or tick.",
      buckets: [...TIME_TO_DATA_BUCKETS],
      registers,
    });
    this.autoSubscribe = new Counter({
      name: 'strikedesk_auto_subscribe_attempts_total',
      help: 'Auto-subscribe attempts, one per instrument token not already active, by outcome and reason.',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.tickerRequests = new Counter({
      name: 'strikedesk_ticker_requests_total',
      help: 'HTTP calls to the ticker service by endpoint (subscriptions.list/create/delete, history, health) and status.',
      labelNames: ['endpoint', 'status'],
      registers,
    });
    this.tickerDuration = new Histogram({
      name: 'strikedesk_ticker_request_duration_seconds',
      help: 'Duration of HTTP calls to the ticker service.',
      labelNames: ['endpoint'],
      buckets: [...TICKER_DURATION_BUCKETS],
      registers,
    });
    this.backfillInstruments = new Gauge({
      name: 'strikedesk_backfill_instruments',
      help: 'Instruments in the last backfill cycle: kind="considered" looked at by the planner, kind="backfilled" fetched.',
      labelNames: ['kind'],
      registers,
    });
    this.backfillCycleRequests = new Gauge({
      name: 'strikedesk_backfill_cycle_requests',
      help: 'History requests in the last backfill cycle: kind="made", and kind="minimum" the fewest that could have covered the gaps.',
      labelNames: ['kind'],
      registers,
    });
    this.backfillCycles = new Counter({ name: 'strikedesk_backfill_cycles_total', help: 'Backfill cycles by trigger.', labelNames: ['trigger'], registers });
    this.backfillRequests = new Counter({ name: 'strikedesk_backfill_requests_total', help: 'History requests made by backfill cycles.', registers });
    this.backfillRows = new Counter({ name: 'strikedesk_backfill_rows_written_total', help: 'Bar rows written by finished backfill jobs.', registers });
    this.backfillJobs = new Counter({
      name: 'strikedesk_backfill_jobs_total',
      help: 'Backfill jobs finished, by final state.',
      labelNames: ['state'],
      registers,
    });
    this.queueDepth = {
      backfill_queue_depth: new Gauge({ name: 'strikedesk_backfill_queue_depth', help: 'Backfill jobs queued or running.', registers }),
      inbox_depth: new Gauge({ name: 'strikedesk_inbox_depth', help: 'Subscription events in the intake inbox not yet processed.', registers }),
      ingest_queue_depth: new Gauge({ name: 'strikedesk_ingest_queue_depth', help: 'Bars waiting in the ingest writer queue.', registers }),
    };
    this.subscriptions = new Gauge({
      name: 'strikedesk_subscriptions',
      help: 'Ticker subscriptions: state="active" as last known, state="pending" being subscribed.',
      labelNames: ['state'],
      registers,
    });
    this.feedStale = new Gauge({
      name: 'strikedesk_feed_stale',
      help: '1 while the tick feed is stale (expected to stream, silent past the stale window), else 0.',
      registers,
    });
    this.feedState = new Gauge({ name: 'strikedesk_feed_state', help: 'The tick feed state: 1 for the current state.', labelNames: ['state'], registers });
    this.feedLastTickAge = new Gauge({
      name: 'strikedesk_feed_last_tick_age_seconds',
      help: 'Seconds since the last tick on any channel (NaN before the first tick).',
      registers,
      collect() {
        const last = feed().lastTickAt;
        this.set(last === null ? Number.NaN : Math.max(0, (clock.now() - last) / 1000));
      },
    });
    this.intakeEvents = new Counter({
      name: 'strikedesk_intake_events_total',
      help: 'Subscription events received, by source (webhook, redis, poll, manual), type and outcome.',
      labelNames: ['source', 'type', 'outcome'],
      registers,
    });
    this.ingestTicks = new Counter({ name: 'strikedesk_ingest_ticks_total', help: 'Ticks received by the ingestor.', registers });
    this.ingestParseErrors = new Counter({ name: 'strikedesk_ingest_parse_errors_total', help: 'Tick messages that could not be parsed.', registers });
    this.ingestBarsWritten = new Counter({ name: 'strikedesk_ingest_bars_written_total', help: 'One-minute bars written by live ingestion.', registers });
    this.ingestDroppedBars = new Counter({ name: 'strikedesk_ingest_dropped_bars_total', help: 'Bars dropped because the writer queue was full.', registers });
    this.ingestMockSkipped = new Counter({ name: 'strikedesk_ingest_mock_ticks_skipped_total', help: 'Ticks flagged is_mock and not stored.', registers });
    this.alertsFiring = new Gauge({ name: 'strikedesk_alerts_firing', help: '1 while the alert rule is firing, else 0.', labelNames: ['rule'], registers });

    // Known label values start at zero so dashboards and rate() see the series before the first event.
    for (const rule of ALERT_RULES) this.alertsFiring.set({ rule }, 0);
    for (const kind of ['considered', 'backfilled']) this.backfillInstruments.set({ kind }, 0);
    for (const kind of ['made', 'minimum']) this.backfillCycleRequests.set({ kind }, 0);
    for (const state of FEED_STATES) this.feedState.set({ state }, 0);
    this.feedStale.set(0);
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client names three gauges *_total, which Prometheus' linter (promtool check metrics) rejects; the same
      // counts stay available per type as nodejs_active_{handles,requests,resources}.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
  }

  setFeedState(state: string): void {
    for (const s of FEED_STATES) this.feedState.set({ state: s }, s === state ? 1 : 0);
    this.feedStale.set(state === 'stale' ? 1 : 0);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
