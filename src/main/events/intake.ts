// The subscription-event intake: three paths (signed webhook, Redis events, poll reconciler) into ONE durable inbox,
// drained asynchronously by one processor that runs the actions (actions.ts). Every event and outcome is a row
// operators see (events:list), a telemetry count and a push of 'events:changed'; health shows each path.
import type { ComponentHealth, IntakeEvent, PushTopic } from '../../shared/api';
import type { Clock } from '../../shared/clock';
import { describeZodError } from '../../shared/field-errors';
import type { Config } from '../config/settings';
import type { FlagService } from '../flags/flags';
import type { Logger } from '../log';
import type { HealthRegistry } from '../metrics/health';
import type { Telemetry } from '../metrics/telemetry';
import type { StateStore } from '../state/store';
import { runActions, type ActionOutcome, type BackfillHook, type SubscriptionHooks } from './actions';
import { EventInbox, type AcceptResult, type InboxRow, type SeenSignature } from './inbox';
import { eventKey, normalizeEvent, subscriptionEventSchema, type IntakeSource, type NormalizedEvent } from './normalize';
import { PollReconciler, type SubscriptionLister } from './poller';
import { EventProcessor } from './processor';
import { RedisEventListener } from './redis-listener';
import { resolveWebhookSecret, type WebhookSecret } from './secret';
import { WEBHOOK_PATH } from './webhook';
import { WebhookAuthenticator } from './webhook-auth';

export interface EventIntakeOptions {
  config: Pick<Config, 'webhookSecret' | 'webhookAcceptPlainHeader' | 'webhookToleranceSeconds' | 'pollIntervalSeconds' | 'redisUrl'>;
  state: StateStore;
  clock: Clock;
  flags: Pick<FlagService, 'get'>;
  telemetry: Telemetry;
  push: { publish(topic: PushTopic, key?: string): void };
  health?: Pick<HealthRegistry, 'register'>;
  /** Resolved at use, so the intake's own tests can take a provider away (the intake then says what it could not do). */
  subscriptions: () => SubscriptionHooks | undefined;
  backfill: () => BackfillHook | undefined;
  ticker: () => SubscriptionLister | undefined;
  /** The instrument registry, resolved at use: events for tokens it does not know queue no backfill. */
  registry?: () => { byToken(token: number): Promise<unknown> } | undefined;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Events processed at once (default 4). */
  concurrency?: number;
  retryDelaysMs?: number[];
  redisBackoff?: { baseMs: number; maxMs: number };
  /** Run the poll reconciler on its timer (default true). */
  poll?: boolean;
  /** Finished rows are kept this long (default 7 days). */
  retentionMs?: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class EventIntake {
  readonly inbox: EventInbox;
  readonly processor: EventProcessor;
  readonly poller: PollReconciler;
  readonly auth: WebhookAuthenticator;
  readonly secret: WebhookSecret;
  redis: RedisEventListener | null = null;
  private readonly last = new Map<IntakeSource, number | null>();
  private readonly rejected = { webhook: 0, redis: 0 };
  private pruneTimer: NodeJS.Timeout | null = null;
  private readonly log?: Logger;

  constructor(private readonly opts: EventIntakeOptions) {
    const { config, state, clock } = opts;
    this.log = opts.logger;
    this.inbox = new EventInbox(state.db, clock);
    for (const source of ['webhook', 'redis', 'poll', 'manual'] as const) this.last.set(source, this.inbox.lastReceivedAt(source));
    this.secret = resolveWebhookSecret(config.webhookSecret, state, opts.env);
    this.auth = new WebhookAuthenticator({
      secret: this.secret.secret,
      toleranceSeconds: config.webhookToleranceSeconds,
      acceptPlainHeader: config.webhookAcceptPlainHeader,
      clock,
      signatureSeen: (sig, now) => this.inbox.signatureSeen(sig, now),
      onReject: (reason) => {
        this.rejected.webhook++;
        opts.telemetry.intakeEvent('webhook', 'invalid', `rejected_${reason}`);
      },
    });
    this.processor = new EventProcessor({
      inbox: this.inbox,
      now: () => clock.now(),
      concurrency: opts.concurrency,
      retryDelaysMs: opts.retryDelaysMs,
      logger: opts.logger,
      run: (row) =>
        runActions(row, {
          subscriptions: opts.subscriptions,
          backfill: opts.backfill,
          immediateBackfill: () => opts.flags.get('backfill_immediate_on_subscribe'),
          // A push event within two poll intervals (+1 min) is the same change the poller now sees.
          handledByPush: (r) => this.handledByPush(r),
          knownToken: async (token) => {
            const registry = opts.registry?.();
            return registry ? (await registry.byToken(token)) !== null : undefined;
          },
        }),
      onFinished: (row, stateName, outcome) => this.finished(row, stateName, outcome),
    });
    this.poller = new PollReconciler({
      state,
      inbox: this.inbox,
      clock,
      intervalMs: config.pollIntervalSeconds * 1000,
      lister: opts.ticker,
      logger: opts.logger,
      onEvents: (ids) => {
        this.last.set('poll', clock.now());
        this.changed();
        this.log?.debug({ ids }, 'poll events queued');
        this.processor.kickSoon();
      },
    });
    if (opts.health) this.registerHealth(opts.health);
  }

  private handledByPush(row: InboxRow): { id: number; source: string } | null {
    const windowMs = 2 * this.opts.config.pollIntervalSeconds * 1000 + 60_000;
    const found = this.inbox.handledByPush(row.token, row.type, Date.parse(row.received_at) - windowMs, row.id);
    return found && found.code === 'backfill_queued' ? found : null;
  }

  start(): void {
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
    this.processor.start();
    this.gauge();
    if (this.opts.poll !== false) this.poller.start();
    if (this.opts.config.redisUrl) {
      this.redis = new RedisEventListener({
        url: this.opts.config.redisUrl,
        logger: this.opts.logger,
        baseBackoffMs: this.opts.redisBackoff?.baseMs,
        maxBackoffMs: this.opts.redisBackoff?.maxMs,
        onMessage: (text) => this.onRedisMessage(text),
        onConnected: () => void this.poller.runNow('redis connected'),
      });
    }
  }

  /** The one write path of webhook and Redis events. */
  accept(event: NormalizedEvent, key: string, signature?: SeenSignature): AcceptResult {
    const result = this.inbox.accept(event, key, signature);
    if (result.kind === 'replayed') {
      this.rejected.webhook++;
      this.opts.telemetry.intakeEvent(event.source, event.type, 'rejected_replay');
      return result;
    }
    this.last.set(event.source, this.opts.clock.now());
    if (result.kind === 'duplicate') this.opts.telemetry.intakeEvent(event.source, event.type, 'duplicate');
    else this.processor.kickSoon();
    this.changed();
    return result;
  }

  private onRedisMessage(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.rejectRedis(`malformed JSON: ${(err as Error).message}`);
      return;
    }
    const result = subscriptionEventSchema.safeParse(parsed);
    if (!result.success) {
      this.rejectRedis(describeZodError(result.error).message);
      return;
    }
    const event = normalizeEvent(result.data, 'redis');
    try {
      this.accept(event, eventKey(event));
    } catch (err) {
      // The store refused the write (disk full, locked): the poll reconciliation will find the change.
      this.log?.error({ err: (err as Error).message, token: event.token }, 'redis event not recorded');
    }
  }

  private rejectRedis(reason: string): void {
    this.rejected.redis++;
    this.opts.telemetry.intakeEvent('redis', 'invalid', 'rejected_schema');
    this.log?.warn({ reason }, 'redis event ignored');
  }

  private finished(row: InboxRow, stateName: 'done' | 'failed' | 'retrying', outcome: ActionOutcome): void {
    if (stateName !== 'retrying') this.opts.telemetry.intakeEvent(row.source, row.type, outcome.code);
    this.changed();
  }

  private changed(): void {
    this.gauge();
    this.opts.push.publish('events:changed');
  }

  private gauge(): void {
    this.opts.telemetry.gauge('inbox_depth', this.inbox.pending());
  }

  private prune(): void {
    try {
      this.inbox.prune(this.opts.retentionMs ?? 7 * 86_400_000);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'inbox prune failed');
    }
  }

  list(limit: number): IntakeEvent[] {
    return this.inbox.list(limit);
  }

  webhookInfo(baseUrl: string | null): {
    url: string;
    secret: string;
    secretSource: WebhookSecret['source'];
    acceptPlainHeader: boolean;
    toleranceSeconds: number;
  } {
    return {
      url: `${baseUrl ?? ''}${WEBHOOK_PATH}`,
      secret: this.secret.secret,
      secretSource: this.secret.source,
      acceptPlainHeader: this.opts.config.webhookAcceptPlainHeader,
      toleranceSeconds: this.opts.config.webhookToleranceSeconds,
    };
  }

  private registerHealth(health: Pick<HealthRegistry, 'register'>): void {
    health.register('intake_webhook', (): ComponentHealth => ({
      status: 'ok',
      detail: `POST ${WEBHOOK_PATH} (HMAC${this.opts.config.webhookAcceptPlainHeader ? ' or X-Webhook-Secret' : ''}); inbox depth ${this.inbox.pending()}; ${this.rejected.webhook} rejected since start`,
      lastEventAt: iso(this.last.get('webhook') ?? null),
    }));
    health.register('intake_redis', (): ComponentHealth => {
      const lastEventAt = iso(this.last.get('redis') ?? null);
      if (!this.opts.config.redisUrl) return { status: 'disabled', detail: 'REDIS_URL is not set', lastEventAt };
      if (!this.redis) return { status: 'starting', lastEventAt };
      const s = this.redis.status();
      const rejected = this.rejected.redis ? `; ${this.rejected.redis} invalid messages ignored` : '';
      if (s.state === 'ready') return { status: 'ok', detail: `subscribed to ticker:nifty:events (connects ${s.connects})${rejected}`, lastEventAt };
      return {
        status: 'degraded',
        detail: `redis ${s.state}${s.lastError ? `: ${s.lastError}` : ''} (reconnect attempts ${s.reconnectAttempts})${rejected}`,
        lastEventAt,
      };
    });
    health.register('intake_poller', (): ComponentHealth => {
      const lastEventAt = iso(this.last.get('poll') ?? null);
      if (!this.opts.ticker()) return { status: 'disabled', detail: 'ticker client not running', lastEventAt };
      const s = this.poller.status();
      const every = `every ${this.opts.config.pollIntervalSeconds} s`;
      if (s.lastError)
        return { status: 'degraded', detail: `last poll failed: ${s.lastError}; last good poll ${iso(s.lastOkAt) ?? 'never'} (${every})`, lastEventAt };
      if (s.lastOkAt === null) return { status: 'starting', detail: every, lastEventAt };
      return { status: 'ok', detail: `${s.known} active subscriptions; last poll ${iso(s.lastOkAt)} (${every}); baseline ${s.baselineAt}`, lastEventAt };
    });
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.redis?.close();
    await this.poller.stop();
    await this.processor.stop();
  }
}
