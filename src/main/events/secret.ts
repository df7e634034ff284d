// The webhook's shared secret: from STRIKEDESK_WEBHOOK_SECRET or the config file when set, otherwise generated once
// (crypto random) and kept in the state store, so a restart keeps what the sender was given. Settings shows it.
import { randomBytes } from 'node:crypto';
import type { StateStore } from '../state/store';

export const WEBHOOK_SECRET_SETTING = 'webhook.secret';

export interface WebhookSecret {
  secret: string;
  source: 'env' | 'config' | 'generated';
}

export function resolveWebhookSecret(configured: string | undefined, state: StateStore, env: NodeJS.ProcessEnv = process.env): WebhookSecret {
  if (configured) return { secret: configured, source: env.STRIKEDESK_WEBHOOK_SECRET === configured ? 'env' : 'config' };
  const stored = state.getSetting(WEBHOOK_SECRET_SETTING);
  if (stored) return { secret: stored, source: 'generated' };
  const secret = randomBytes(32).toString('base64url');
  state.setSetting(WEBHOOK_SECRET_SETTING, secret);
  return { secret, source: 'generated' };
}
