// Channel names only (no zod), so the sandboxed preload can bundle them without dependencies.
// api.ts checks at compile time that this list equals the keys of CONTRACT.
export const CHANNEL_NAMES = [
  'health:get',
  'flags:list',
  'flags:set',
  'flags:audit',
  'chain:underlyings',
  'chain:distribution',
  'chain:strikeHistory',
  'chain:quote',
  'subscriptions:list',
  'subscriptions:capacity',
  'subscriptions:subscribe',
  'subscriptions:unsubscribe',
  'instruments:search',
  'events:list',
  'backfill:jobs',
  'backfill:plan',
  'backfill:start',
  'backfill:cancel',
  'backfill:retry',
  'backfill:coverage',
  'metrics:summary',
  'alerts:list',
  'alerts:thresholds',
  'alerts:thresholdAudit',
  'alerts:acknowledge',
  'alerts:silence',
  'alerts:unsilence',
  'settings:get',
] as const;

/** IPC channel that carries pushed events to the window. */
export const PUSH_CHANNEL = 'console:push';
