// The plan's five flags (docs/plan.md, flags). Booleans default on, as in the plan's Settings class;
// the plan's phased rollout is done by pinning them off from the environment.

export type FlagKey =
  | 'smart_subscription_enabled'
  | 'smart_subscription_wait_timeout'
  | 'smart_subscription_cache_ttl'
  | 'backfill_subscription_aware'
  | 'backfill_immediate_on_subscribe';

export type FlagValue = boolean | number;

export interface FlagDefinition {
  key: FlagKey;
  type: 'boolean' | 'number';
  default: FlagValue;
  description: string;
  /** The plan's environment name that pins the flag. */
  env: string;
  unit?: 'seconds';
  min?: number;
  max?: number;
}

export const FLAG_DEFINITIONS: readonly FlagDefinition[] = [
  {
    key: 'smart_subscription_enabled',
    type: 'boolean',
    default: true,
    description: 'Subscribe an option chain automatically when its data is asked for and missing.',
    env: 'SMART_SUBSCRIPTION_ENABLED',
  },
  {
    key: 'smart_subscription_wait_timeout',
    type: 'number',
    default: 10,
    unit: 'seconds',
    min: 0,
    max: 120,
    description: 'Longest a data request waits for the first data of newly subscribed instruments.',
    env: 'SMART_SUBSCRIPTION_WAIT_TIMEOUT',
  },
  {
    key: 'smart_subscription_cache_ttl',
    type: 'number',
    default: 60,
    unit: 'seconds',
    min: 1,
    max: 3600,
    description: "How long one snapshot of the ticker service's active subscriptions is reused.",
    env: 'SMART_SUBSCRIPTION_CACHE_TTL',
  },
  {
    key: 'backfill_subscription_aware',
    type: 'boolean',
    default: true,
    description: 'Backfill only actively subscribed instruments (falls back to the configured underlyings when the subscription list cannot be had).',
    env: 'BACKFILL_SUBSCRIPTION_AWARE',
  },
  {
    key: 'backfill_immediate_on_subscribe',
    type: 'boolean',
    default: true,
    description: 'Queue an immediate backfill when a new subscription appears (webhook, Redis event or poll).',
    env: 'BACKFILL_IMMEDIATE_ON_SUBSCRIBE',
  },
] as const;

export type FlagValues = {
  smart_subscription_enabled: boolean;
  smart_subscription_wait_timeout: number;
  smart_subscription_cache_ttl: number;
  backfill_subscription_aware: boolean;
  backfill_immediate_on_subscribe: boolean;
};

export const flagDefinition = (key: string): FlagDefinition | undefined => FLAG_DEFINITIONS.find((d) => d.key === key);
