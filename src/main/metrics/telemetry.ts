// What the services report to the metrics service (src/main/metrics). Feeders depend on this interface only;
// the metrics service turns the calls into prom-client series, per-minute history in SQLite and alerts.

export type AutoSubscribeOutcome = 'succeeded' | 'failed';

export interface BackfillCycleStats {
  /** Instruments the planner looked at (subscribed set, or the fallback). */
  considered: number;
  /** Instruments that had gaps and were fetched. */
  backfilled: number;
  requests: number;
  /** The fewest requests that could have covered the gaps (one per instrument per Kite-sized chunk). */
  minimumRequests: number;
  rowsWritten: number;
  gapsFilled: number;
  noTradeWindows: number;
  failures: Record<string, number>;
  durationMs: number;
  trigger: 'scheduled' | 'immediate' | 'manual';
}

export interface Telemetry {
  /** One auto-subscribe attempt for one token not already active. */
  autoSubscribeAttempt(outcome: AutoSubscribeOutcome, reason: string, token: number): void;
  /** Seconds from the first request for a token's data to its first stored bar or tick. */
  timeToData(seconds: number, token: number): void;
  /** Every ticker HTTP call: endpoint is 'subscriptions.list' | 'subscriptions.create' | 'subscriptions.delete' | 'history' | 'health'. */
  tickerRequest(endpoint: string, status: number | string, durationMs: number): void;
  /**
   * One planner cycle (scheduled, immediate or manual): sets the last-cycle gauges and the efficiency series, adds
   * `requests` to strikedesk_backfill_requests_total. Its rowsWritten is shown per cycle but NOT added to the rows
   * counter: the cycle's jobs report those rows through backfillJob.
   */
  backfillCycle(stats: BackfillCycleStats): void;
  /** A job reached a final state; rowsWritten adds to strikedesk_backfill_rows_written_total. */
  backfillJob(state: 'done' | 'failed' | 'cancelled', durationMs: number, rowsWritten: number): void;
  intakeEvent(source: 'webhook' | 'redis' | 'poll' | 'manual', type: string, outcome: string): void;
  ingest(counts: { ticks?: number; parseErrors?: number; barsWritten?: number; droppedBars?: number; mockSkipped?: number }): void;
  feedState(state: 'live' | 'stale' | 'idle' | 'closed', lastTickAtMs: number | null): void;
  /** Gauges sampled by the metrics service: queue depths and the like. */
  gauge(name: 'backfill_queue_depth' | 'inbox_depth' | 'ingest_queue_depth' | 'active_subscriptions' | 'pending_subscriptions', value: number): void;
}

/** For unit tests that do not assert on metrics. */
export const noopTelemetry: Telemetry = {
  autoSubscribeAttempt: () => undefined,
  timeToData: () => undefined,
  tickerRequest: () => undefined,
  backfillCycle: () => undefined,
  backfillJob: () => undefined,
  intakeEvent: () => undefined,
  ingest: () => undefined,
  feedState: () => undefined,
  gauge: () => undefined,
};
