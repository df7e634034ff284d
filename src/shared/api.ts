// The ConsoleApi: the one contract between main and the renderer (IPC in Electron, HTTP when headless).
// Each channel is `domain:verb`, with a zod schema for its request (parsed in main, at the edge) and a result type.
// Main implements every channel once (src/main/api); the preload and the headless adapter derive from CHANNELS.

import { z } from 'zod';
import { CHANNEL_NAMES, PUSH_CHANNEL } from './channels';
import { INSTANT_MESSAGE, isRealIsoDate, parseBoundedInstant, REAL_DATE_MESSAGE } from './dates';
import type { FlagKey, FlagValue } from './flags';

// ---------- shared primitives ----------

export const isoDate = z.string().refine(isRealIsoDate, REAL_DATE_MESSAGE);
/** An ISO-8601 instant with offset, inside the range the stores hold. */
export const boundedInstant = z.iso.datetime({ offset: true }).refine((s) => Number.isFinite(parseBoundedInstant(s)), INSTANT_MESSAGE);
export const timeframeSchema = z.enum(['1min', '5min', '15min']);
export type Timeframe = z.infer<typeof timeframeSchema>;
export type OptionSide = 'CE' | 'PE';
/** ISO-8601 UTC instant with Z. */
export type IsoInstant = string;

// ---------- flags ----------

export interface FlagView {
  key: FlagKey;
  type: 'boolean' | 'number';
  value: FlagValue;
  default: FlagValue;
  description: string;
  unit?: string;
  min?: number;
  max?: number;
  /** Name of the environment variable pinning it, when pinned. */
  pinnedBy: string | null;
  updatedAt: IsoInstant | null;
  updatedBy: string | null;
}

export interface FlagAuditEntry {
  id: number;
  key: FlagKey;
  oldValue: FlagValue | null;
  newValue: FlagValue;
  actor: string;
  reason: string;
  at: IsoInstant;
}

export const flagsSetRequest = z.object({
  key: z.string().min(1),
  value: z.union([z.boolean(), z.number()]),
  reason: z.string().trim().min(3, 'a reason of at least 3 characters is required').max(500),
});

// ---------- health ----------

export type ComponentState = 'ok' | 'degraded' | 'down' | 'disabled' | 'starting';
export interface ComponentHealth {
  status: ComponentState;
  detail?: string;
  /** Last event or activity time, when the component has one. */
  lastEventAt?: IsoInstant | null;
}
export interface HealthReport {
  status: 'ok' | 'degraded';
  timestamp: IsoInstant;
  version: string;
  components: Record<string, ComponentHealth>;
}

// ---------- chain / strike distribution ----------

export interface StrikeLeg {
  strike: number;
  token: number | null;
  /** Open interest: the last snapshot in the bucket (contracts x lot, as Kite reports it). */
  oi: number | null;
  /** Change in OI against the series' `oi_change_basis`. */
  oi_change: number | null;
  /** Volume traded in this one bucket (bar volume); null while unknown (the live feed reports no volume). */
  volume: number | null;
  /** Cumulative volume of the IST trading day up to the bucket end; null while unknown. */
  day_volume: number | null;
  ltp: number | null;
  /** ltp minus the previous session's last price; null when either is unknown. */
  ltp_change: number | null;
  /** ltp_change as a percentage of the previous session's last price. */
  ltp_change_pct: number | null;
  /**
   * When this leg last had data (a tick or a candle) before the bucket end, to the minute: the start of its last
   * 1-minute bar (its age is shown on screen).
   */
  last_trade_at: IsoInstant | null;
  /** Implied volatility as a decimal (0.1432 = 14.32%), the ticker's unit; mean over the bucket's valid ticks. */
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  /** True units: premium per calendar day (whatever scaling the source publishes). */
  theta: number | null;
  /** True units: premium per 1 volatility point (0.01). */
  vega: number | null;
  ticks: number | null;
  /** 'ATM', 'ITM3', 'OTM2' ... per side. */
  moneyness: string;
  illiquid: boolean;
  /** No data for this leg for longer than 2 x the timeframe, judged at the bucket end during a session. */
  stale: boolean;
  /** live: a bar exists at the bucket; pending: subscribed or being subscribed, no data yet; missing: not subscribed. */
  state: 'live' | 'pending' | 'failed' | 'missing';
}

/**
 * What the expiry-wide figures (PCR, max pain) were computed over: every listed strike of the expiry, not the
 * strikes shown. `complete` is true only when every listed leg has data: legs pending or never seen make it partial.
 */
export interface ChainCoverage {
  strikes_listed: number;
  strikes_with_data: number;
  legs_listed: number;
  legs_with_data: number;
  /** Legs subscribed or being subscribed with no data yet. */
  legs_pending: number;
  complete: boolean;
}

export interface ExpirySeries {
  expiry: string;
  days_to_expiry: number;
  /** Start of the bucket answered (UTC). */
  bucket_time: IsoInstant | null;
  /** End of the bucket answered (exclusive, UTC): the answer holds data up to this instant and none after it. */
  bucket_end: IsoInstant | null;
  /** The bucket is still filling (only when the request asked for it with includePartial). */
  partial: boolean;
  is_stale: boolean;
  atm_strike: number | null;
  strike_step: number | null;
  /** Expiry-wide: total put OI / total call OI over every listed strike with data; null when a side has none. */
  pcr_oi: number | null;
  /** Expiry-wide: put day volume / call day volume; null when a side is unknown or the denominator is 0. */
  pcr_volume: number | null;
  /** Expiry-wide max pain over every listed strike; null when a side has no OI. */
  max_pain_strike: number | null;
  coverage: ChainCoverage;
  /** What oi_change compares against. */
  oi_change_basis: OiChangeBasis;
  call: StrikeLeg[];
  put: StrikeLeg[];
}

export const oiChangeBasisSchema = z.enum(['previous_close', 'session_open', 'one_hour_earlier']);
export type OiChangeBasis = z.infer<typeof oiChangeBasisSchema>;

export interface SubscriptionOutcome {
  state: 'disabled' | 'complete' | 'pending' | 'partial' | 'failed' | 'not_requested';
  already: number[];
  newly: number[];
  failed: { token: number; reason: string; retryAt: IsoInstant | null }[];
  pending: number[];
  retry_after_ms: number | null;
}

export interface StrikeDistribution {
  status: 'ok';
  symbol: string;
  timeframe: Timeframe;
  series: ExpirySeries[];
  metadata: {
    expiries: string[];
    underlying_price: number | null;
    underlying_time: IsoInstant | null;
    auto_subscribed: boolean;
    subscription: SubscriptionOutcome;
  };
}

export const chainDistributionRequest = z.object({
  symbol: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .transform((s) => s.toUpperCase()),
  expiries: z.array(isoDate).max(6).optional(),
  timeframe: timeframeSchema.default('1min'),
  strikeRange: z.number().int().min(1).max(100).default(10),
  autoSubscribe: z.boolean().default(true),
  /** Centre on this strike instead of ATM (click-to-recentre). */
  centerStrike: z.number().positive().optional(),
  /** Answer the bucket that ends at or before this instant (ISO-8601 UTC) instead of the latest complete one. */
  at: boundedInstant.optional(),
  /** Answer the bucket still filling (marked partial) instead of the latest complete one. */
  includePartial: z.boolean().default(false),
  oiChangeBasis: oiChangeBasisSchema.default('one_hour_earlier'),
});

/** OI and price of one strike over time (the strike detail view). */
export const chainStrikeHistoryRequest = z.object({
  symbol: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .transform((s) => s.toUpperCase()),
  expiry: isoDate,
  strike: z.number().positive(),
  timeframe: timeframeSchema.default('5min'),
  /** Look-back in session minutes from the latest bucket (default one session). */
  minutes: z
    .number()
    .int()
    .min(5)
    .max(375 * 5)
    .default(375),
});
export interface StrikeHistoryPoint {
  bucket_time: IsoInstant;
  call_oi: number | null;
  put_oi: number | null;
  call_ltp: number | null;
  put_ltp: number | null;
  call_volume: number | null;
  put_volume: number | null;
}
export interface StrikeHistory {
  symbol: string;
  expiry: string;
  strike: number;
  timeframe: Timeframe;
  call_token: number | null;
  put_token: number | null;
  points: StrikeHistoryPoint[];
}

/**
 * The latest tick the console has for a few instruments (market depth, five levels each side) and the underlying's
 * nearest future. Depth comes only in FULL-mode ticks; the real service sends live-tick depth prices 100 times too
 * small (docs/ticker-contract.md, quirk 5): they are rescaled when they sit near LTP/100, and `depthRescaled` says so.
 */
export const chainQuoteRequest = z.object({
  symbol: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .transform((s) => s.toUpperCase()),
  tokens: z.array(z.number().int().positive()).max(10).default([]),
  /** Also answer the nearest future (header strip). */
  future: z.boolean().default(false),
});
export interface QuoteDepthLevel {
  price: number;
  quantity: number;
  orders: number;
}
export interface InstrumentQuote {
  token: number;
  tradingsymbol: string | null;
  /** Last traded price of the latest tick; null when the console has seen no tick for the token. */
  ltp: number | null;
  /** The tick's time (its `ts`, the service's receive time). */
  at: IsoInstant | null;
  /** Up to five levels each side, best first; null when the latest tick carried no depth (not FULL mode). */
  depth: { buy: QuoteDepthLevel[]; sell: QuoteDepthLevel[] } | null;
  /** Depth prices were multiplied by 100 (the live-tick scaling of the real service). */
  depthRescaled: boolean;
  totalBuyQuantity: number | null;
  totalSellQuantity: number | null;
}
export interface FutureQuote extends InstrumentQuote {
  expiry: string;
  /** The future streams: some tick arrived for it (else subscribe its token to see its price). */
  streaming: boolean;
}
export interface ChainQuote {
  symbol: string;
  quotes: InstrumentQuote[];
  /** The nearest listed future (by expiry) when asked; null when none is listed. */
  future: FutureQuote | null;
}

export interface UnderlyingInfo {
  symbol: string;
  token: number | null;
  spot: number | null;
  spotTime: IsoInstant | null;
  strikeStep: number | null;
  expiries: { expiry: string; days_to_expiry: number; kind: 'weekly' | 'monthly' }[];
}

// ---------- subscriptions ----------

export type SubscriptionState = 'active' | 'pending' | 'failed' | 'backing_off' | 'inactive';
export interface SubscriptionRow {
  token: number;
  tradingsymbol: string;
  symbol: string | null;
  segment: string;
  expiry: string | null;
  strike: number | null;
  type: string | null;
  state: SubscriptionState;
  mode: string;
  account: string;
  /** 'auto:NIFTY 2025-11-25', 'manual', 'external'. */
  owners: string[];
  failureReason: string | null;
  nextRetryAt: IsoInstant | null;
  attempts: number;
  lastTickAt: IsoInstant | null;
  lastTickAgeMs: number | null;
  createdAt: IsoInstant | null;
}

export interface CapacityView {
  perConnection: number;
  connectionsPerAccount: number;
  accounts: { account: string; used: number; limit: number; connections: { index: number; used: number }[] }[];
}

export const subscriptionsListRequest = z.object({
  state: z.enum(['active', 'pending', 'failed', 'backing_off', 'inactive', 'all']).default('all'),
  search: z.string().max(64).optional(),
  limit: z.number().int().min(1).max(10000).default(2000),
});
/** The manual subscribe box: live instruments by tradingsymbol text or token, from the instrument registry. */
export const instrumentsSearchRequest = z.object({
  text: z.string().trim().min(1, 'text: give part of a tradingsymbol or a token').max(64),
  limit: z.number().int().min(1).max(50).default(20),
});
export interface InstrumentMatch {
  token: number;
  tradingsymbol: string;
  /** The underlying (NIFTY for its options and futures). */
  name: string;
  segment: string;
  type: string;
  strike: number | null;
  expiry: string | null;
}
export const subscriptionsChangeRequest = z.object({
  tokens: z.array(z.number().int().positive()).min(1).max(500),
});

export interface IntakeEvent {
  id: number;
  source: 'webhook' | 'redis' | 'poll' | 'manual';
  type: 'created' | 'removed';
  token: number;
  tradingsymbol: string | null;
  occurredAt: IsoInstant;
  receivedAt: IsoInstant;
  state: 'queued' | 'processing' | 'done' | 'failed' | 'duplicate';
  outcome: string | null;
}
export const eventsListRequest = z.object({ limit: z.number().int().min(1).max(1000).default(200) });

// ---------- backfill ----------

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const backfillScopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('instrument'), token: z.number().int().positive() }),
  z.object({
    kind: z.literal('chain'),
    symbol: z.string().min(1).max(32),
    expiries: z.array(isoDate).max(6).optional(),
    strikeRange: z.number().int().min(1).max(100).default(10),
  }),
  z.object({ kind: z.literal('symbol'), symbol: z.string().min(1).max(32) }),
  z.object({ kind: z.literal('subscribed') }),
]);
export type BackfillScope = z.infer<typeof backfillScopeSchema>;

export interface BackfillJob {
  id: number;
  scope: BackfillScope;
  label: string;
  windowStart: IsoInstant;
  windowEnd: IsoInstant;
  priority: 'immediate' | 'scheduled';
  state: JobState;
  requestsDone: number;
  requestsPlanned: number;
  rowsWritten: number;
  instruments: number;
  attempts: number;
  lastError: string | null;
  createdBy: string;
  /** Why the job exists: the operator's reason for a manual job (null when none was given), the event for an automatic one. */
  reason: string | null;
  createdAt: IsoInstant;
  startedAt: IsoInstant | null;
  finishedAt: IsoInstant | null;
  etaSeconds: number | null;
  stopRequested: boolean;
}

export interface BackfillPlanView {
  instruments: number;
  plannedRequests: number;
  missingMinutes: number;
  etaSeconds: number;
  windowStart: IsoInstant;
  windowEnd: IsoInstant;
  notes: string[];
}

export const backfillPlanRequest = z.object({
  scope: backfillScopeSchema,
  lookbackMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 30)
    .optional(),
});
export const backfillStartRequest = backfillPlanRequest.extend({
  reason: z.string().max(200).optional(),
});
export const backfillJobsRequest = z.object({
  state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'all']).default('all'),
  limit: z.number().int().min(1).max(1000).default(200),
});
export const jobIdRequest = z.object({ id: z.number().int().positive() });

export type CoverageCell = 'filled' | 'no_trades' | 'failed' | 'missing' | 'not_expected';
export interface CoverageGrid {
  symbol: string;
  expiry: string;
  /** Column starts (UTC) of each slot; a slot spans `slotMinutes`. */
  slots: IsoInstant[];
  slotMinutes: number;
  rows: { strike: number; side: OptionSide; token: number | null; cells: CoverageCell[] }[];
}
export const backfillCoverageRequest = z.object({
  symbol: z.string().min(1).max(32),
  expiry: isoDate,
  strikeRange: z.number().int().min(1).max(100).default(10),
  lookbackMinutes: z
    .number()
    .int()
    .min(15)
    .max(60 * 24 * 7)
    .default(375),
  slotMinutes: z.number().int().min(1).max(60).default(15),
});

// ---------- metrics and alerts ----------

export interface MetricPoint {
  /** Minute start, UTC ms. */
  t: number;
  v: number | null;
}
export interface MetricsSummary {
  window: { from: IsoInstant; to: IsoInstant };
  /** Width of one chart bucket (each series point), in seconds. */
  stepSeconds: number;
  /** successRate and the series' v are ratios 0-1 (per token attempt); null when nothing was attempted. */
  autoSubscribe: { attempted: number; succeeded: number; failed: number; successRate: number | null; series: MetricPoint[] };
  /** Seconds. histogram: observations per bucket (not cumulative), `le` its upper bound; series v: worst per step. */
  timeToData: { p50: number | null; p95: number | null; count: number; histogram: { le: number; count: number }[]; series: MetricPoint[] };
  backfill: {
    lastCycle: { considered: number; backfilled: number; requests: number; minimumRequests: number; rowsWritten: number } | null;
    seriesInstruments: MetricPoint[];
    seriesRequests: MetricPoint[];
  };
  subscriptionCalls: { lastHour: number; lastDay: number; seriesPerHour: MetricPoint[] };
  feed: { state: 'live' | 'stale' | 'idle' | 'closed'; lastTickAt: IsoInstant | null; droppedBars: number; parseErrors: number };
  thresholds: AlertThresholds;
}
export interface AlertThresholds {
  autoSubscribeFailureRatio: number;
  autoSubscribeWindowMinutes: number;
  timeToDataSeconds: number;
  subscriptionCallsPerHour: number;
}
export interface AlertView {
  id: number;
  rule: 'auto_subscribe_failures' | 'slow_data' | 'excessive_subscription_calls' | 'feed_stale' | 'streaming_stopped';
  state: 'firing' | 'resolved';
  message: string;
  value: number | null;
  threshold: number | null;
  firedAt: IsoInstant;
  resolvedAt: IsoInstant | null;
  /** Who acknowledged this firing, when and why; null until someone does. */
  acknowledged: { by: string; at: IsoInstant; reason: string } | null;
  /** The silence in force on this alert's rule now, if any: a silenced alert does not raise the banner. */
  silence: AlertSilence | null;
}
export type AlertRule = AlertView['rule'];
export const ALERT_RULE_NAMES = [
  'auto_subscribe_failures',
  'slow_data',
  'excessive_subscription_calls',
  'feed_stale',
  'streaming_stopped',
] as const satisfies readonly AlertRule[];
/** A rule muted for a while, with who muted it and why. */
export interface AlertSilence {
  id: number;
  rule: AlertRule;
  by: string;
  at: IsoInstant;
  reason: string;
  until: IsoInstant;
  /** Set when lifted before `until`. */
  liftedAt: IsoInstant | null;
  liftedBy: string | null;
}
/** One change of one alert threshold (the alert_threshold_audit table), newest first. */
export interface ThresholdAuditEntry {
  key: keyof AlertThresholds;
  oldValue: number;
  newValue: number;
  actor: string;
  reason: string;
  at: IsoInstant;
}
const alertReason = z.string().trim().min(3, 'a reason of at least 3 characters is required').max(500);
export const alertsAcknowledgeRequest = z.object({ id: z.number().int().positive(), reason: alertReason });
export const alertsSilenceRequest = z.object({
  rule: z.enum(ALERT_RULE_NAMES),
  reason: alertReason,
  /** How long the rule stays quiet: 5 minutes to 7 days. */
  minutes: z
    .number()
    .int()
    .min(5, 'silence for at least 5 minutes')
    .max(7 * 24 * 60, 'silence for at most 7 days (10080 minutes)'),
});
export const alertsUnsilenceRequest = z.object({ rule: z.enum(ALERT_RULE_NAMES) });
export const thresholdAuditRequest = z.object({ limit: z.number().int().min(1).max(1000).default(100) });
/** Buckets of the metrics charts follow the window: 15 min -> 15 s ... a week -> 30 min. */
export const metricsSummaryRequest = z.object({
  hours: z
    .number()
    .min(1)
    .max(24 * 7)
    .default(6),
  /** A window shorter than an hour, in minutes (replaces hours when given). */
  minutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 7 * 60)
    .optional(),
});
export const alertsListRequest = z.object({ limit: z.number().int().min(1).max(500).default(100) });
export const alertThresholdsRequest = z.object({
  autoSubscribeFailureRatio: z.number().min(0).max(1).optional(),
  autoSubscribeWindowMinutes: z.number().int().min(1).max(1440).optional(),
  timeToDataSeconds: z.number().min(1).max(3600).optional(),
  subscriptionCallsPerHour: z.number().int().min(1).max(1_000_000).optional(),
  reason: z.string().trim().min(3).max(500),
});

// ---------- settings ----------

export interface SettingsView {
  webhook: {
    url: string;
    /**
     * The HMAC secret, for the console's owner only (the OS user: the window, or the console's own token). A named
     * operator token (STRIKEDESK_API_TOKENS) gets null: the secret lets its holder forge subscription events.
     */
    secret: string | null;
    secretSource: 'env' | 'config' | 'generated';
    acceptPlainHeader: boolean;
    toleranceSeconds: number;
  };
  intake: { redis: boolean; pollIntervalSeconds: number };
  ticker: { url: string; embedded: boolean };
  market: { backend: 'postgres' | 'pglite'; timescale: boolean };
  dataDir: string;
}

// ---------- the channel table ----------

const empty = z.object({}).strict().default({});

export const CONTRACT = {
  'health:get': { request: empty, result: null as unknown as HealthReport },
  'flags:list': { request: empty, result: null as unknown as FlagView[] },
  'flags:set': { request: flagsSetRequest, result: null as unknown as FlagView },
  'flags:audit': { request: z.object({ limit: z.number().int().min(1).max(1000).default(100) }), result: null as unknown as FlagAuditEntry[] },
  'chain:underlyings': { request: empty, result: null as unknown as UnderlyingInfo[] },
  'chain:distribution': { request: chainDistributionRequest, result: null as unknown as StrikeDistribution },
  'chain:strikeHistory': { request: chainStrikeHistoryRequest, result: null as unknown as StrikeHistory },
  'chain:quote': { request: chainQuoteRequest, result: null as unknown as ChainQuote },
  'subscriptions:list': { request: subscriptionsListRequest, result: null as unknown as SubscriptionRow[] },
  'subscriptions:capacity': { request: empty, result: null as unknown as CapacityView },
  'subscriptions:subscribe': { request: subscriptionsChangeRequest, result: null as unknown as SubscriptionOutcome },
  'subscriptions:unsubscribe': {
    request: subscriptionsChangeRequest,
    result: null as unknown as { removed: number[]; failed: { token: number; reason: string }[] },
  },
  'instruments:search': { request: instrumentsSearchRequest, result: null as unknown as InstrumentMatch[] },
  'events:list': { request: eventsListRequest, result: null as unknown as IntakeEvent[] },
  'backfill:jobs': { request: backfillJobsRequest, result: null as unknown as BackfillJob[] },
  'backfill:plan': { request: backfillPlanRequest, result: null as unknown as BackfillPlanView },
  'backfill:start': { request: backfillStartRequest, result: null as unknown as BackfillJob },
  'backfill:cancel': { request: jobIdRequest, result: null as unknown as BackfillJob },
  'backfill:retry': { request: jobIdRequest, result: null as unknown as BackfillJob },
  'backfill:coverage': { request: backfillCoverageRequest, result: null as unknown as CoverageGrid },
  'metrics:summary': { request: metricsSummaryRequest, result: null as unknown as MetricsSummary },
  'alerts:list': { request: alertsListRequest, result: null as unknown as { active: AlertView[]; history: AlertView[]; silences: AlertSilence[] } },
  'alerts:thresholds': { request: alertThresholdsRequest, result: null as unknown as AlertThresholds },
  'alerts:thresholdAudit': { request: thresholdAuditRequest, result: null as unknown as ThresholdAuditEntry[] },
  'alerts:acknowledge': { request: alertsAcknowledgeRequest, result: null as unknown as AlertView },
  'alerts:silence': { request: alertsSilenceRequest, result: null as unknown as AlertSilence },
  'alerts:unsilence': { request: alertsUnsilenceRequest, result: null as unknown as { lifted: AlertSilence[] } },
  'settings:get': { request: empty, result: null as unknown as SettingsView },
} as const;

export type Channel = keyof typeof CONTRACT;
export const CHANNELS: readonly Channel[] = CHANNEL_NAMES;
// Compile-time check that channels.ts lists exactly the contract's channels.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const channelListMatchesContract: Same<(typeof CHANNEL_NAMES)[number], Channel> = true;
export type RequestOf<C extends Channel> = z.input<(typeof CONTRACT)[C]['request']>;
export type ParsedRequestOf<C extends Channel> = z.output<(typeof CONTRACT)[C]['request']>;
export type ResultOf<C extends Channel> = (typeof CONTRACT)[C]['result'];

// ---------- pushed events (main -> renderer): invalidations, never data ----------

export const PUSH_TOPICS = [
  'flags:changed',
  'chain:changed',
  'subscriptions:changed',
  'events:changed',
  'backfill:changed',
  'metrics:changed',
  'alerts:changed',
  'health:changed',
] as const;
export type PushTopic = (typeof PUSH_TOPICS)[number];
export interface PushEvent {
  topic: PushTopic;
  /** Optional narrowing, e.g. the symbol whose chain changed. */
  key?: string;
  /** Alerts carry their text so Electron can raise a desktop notification. */
  message?: string;
}

/** The renderer-facing bridge that the preload builds (one function per channel) and the HTTP adapter mirrors. */
export type ConsoleBridge = {
  [C in Channel]: (request: RequestOf<C>) => Promise<import('./result').Result<ResultOf<C>>>;
} & {
  onPush(listener: (event: PushEvent) => void): () => void;
};

export { PUSH_CHANNEL };
