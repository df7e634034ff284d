// Fault switches and counters of the simulator (the /_sim/ endpoint and DevTicker.sim expose the same things).
import { z } from 'zod';

export interface SimFaults {
  /** Added to every contract endpoint's response time. */
  latencyMs: number;
  /** Fraction (0..1) of contract requests answered with an unexpected 500. */
  errorRate: number;
  /** Every rate-limited endpoint answers 429, and /history answers Kite's "Too many requests" as 502. */
  rateLimitStorm: boolean;
  /** Silent stall: /health stays "running", no ticks are published, last_tick_at freezes. */
  stall: boolean;
  /** The next reload ends in a silent stall (the real service's known failure mode). */
  stallAfterReload: boolean;
  /** Fraction (0..1) of subscription events (Redis and webhook) dropped. */
  dropEventsRate: number;
  /** Quirks of contract section 3. */
  quirkVolumeZero: boolean;
  quirkTsReceiveTime: boolean;
  /** Published theta is daily theta / 365 and vega is vega / 100. */
  quirkGreeksScaled: boolean;
  /** Depth prices 100x too small. */
  quirkDepthScaled: boolean;
  /** is_mock always false (by default the devticker marks ticks made outside real NSE sessions is_mock=true). */
  quirkIsMockFalse: boolean;
  /** Every greek (and iv) is 0 for an underlying whose index token is not itself streaming. */
  quirkGreeksNeedIndex: boolean;
  /** iv NaN (greeks 0.0) on an option whose price sits at the tick floor: the service's IV solver gives up there. */
  quirkIvNaN: boolean;
}

/** The kind simulator of earlier releases (profile 'ideal'): no quirk on. */
export const IDEAL_FAULTS: Readonly<SimFaults> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  rateLimitStorm: false,
  stall: false,
  stallAfterReload: false,
  dropEventsRate: 0,
  quirkVolumeZero: false,
  quirkTsReceiveTime: false,
  quirkGreeksScaled: false,
  quirkDepthScaled: false,
  quirkIsMockFalse: false,
  quirkGreeksNeedIndex: false,
  quirkIvNaN: false,
});

/** The real service's normal behaviour (profile 'production', the default): every quirk of contract section 3 on. */
export const PRODUCTION_FAULTS: Readonly<SimFaults> = Object.freeze({
  ...IDEAL_FAULTS,
  quirkVolumeZero: true,
  quirkTsReceiveTime: true,
  quirkGreeksScaled: true,
  quirkDepthScaled: true,
  quirkIsMockFalse: true,
  quirkGreeksNeedIndex: true,
  quirkIvNaN: true,
});

/** The defaults of the production profile (what `sim.reset()` returns to there). */
export const DEFAULT_FAULTS = PRODUCTION_FAULTS;

export type Profile = 'production' | 'ideal';

export function profileFaults(profile: Profile): SimFaults {
  return { ...(profile === 'ideal' ? IDEAL_FAULTS : PRODUCTION_FAULTS) };
}

export const faultsPatchSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(120_000),
    errorRate: z.number().min(0).max(1),
    rateLimitStorm: z.boolean(),
    stall: z.boolean(),
    stallAfterReload: z.boolean(),
    dropEventsRate: z.number().min(0).max(1),
    quirkVolumeZero: z.boolean(),
    quirkTsReceiveTime: z.boolean(),
    quirkGreeksScaled: z.boolean(),
    quirkDepthScaled: z.boolean(),
    quirkIsMockFalse: z.boolean(),
    quirkGreeksNeedIndex: z.boolean(),
    quirkIvNaN: z.boolean(),
  })
  .partial()
  .strict();

export interface HistoryCall {
  /** clock time of the request, epoch ms */
  at: number;
  instrumentToken: number | null;
  status: number;
  /** true when the call reached "Kite" and was turned away by its 3/s limit */
  rateLimited: boolean;
  /** ms the call waited in the service's own Kite limiter before it was sent (production profile) */
  queuedMs?: number;
}

export interface SimCounters {
  /** 'METHOD /route' -> status -> count, e.g. counters.requests['POST /subscriptions']['429'] */
  requests: Record<string, Record<string, number>>;
  historyCalls: HistoryCall[];
  /** /history requests turned away by the Kite-side 3/s limit (502 "Too many requests"). */
  historyRateLimited: number;
  /** /history requests that waited in the service's Kite limiter (production), and the total wait in ms. */
  historyQueued: number;
  historyQueuedMs: number;
  reloads: number;
  ticksPublished: number;
  eventsPublished: number;
  eventsDropped: number;
  webhookFailures: number;
}

export function emptyCounters(): SimCounters {
  return {
    requests: {},
    historyCalls: [],
    historyRateLimited: 0,
    historyQueued: 0,
    historyQueuedMs: 0,
    reloads: 0,
    ticksPublished: 0,
    eventsPublished: 0,
    eventsDropped: 0,
    webhookFailures: 0,
  };
}

export function countRequest(c: SimCounters, route: string, status: number): void {
  const byStatus = (c.requests[route] ??= {});
  byStatus[status] = (byStatus[status] ?? 0) + 1;
}
