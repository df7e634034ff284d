// Shared by the intake's tests and benchmark: a real state store on a file, an intake on a real HttpServer (port 0),
// a recording BackfillService stand-in (so the intake's own tests can make the hook hang or fail on cue; the composed
// console with the real backfill service is tested in events/app.test.ts and backfill/app.test.ts), and a signed POST.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackfillJob, BackfillScope } from '../../../shared/api';
import { systemClock, type Clock } from '../../../shared/clock';
import { FlagService } from '../../flags/flags';
import { HttpServer, type HttpListener } from '../../http/server';
import { webhookRoute } from '../../http/webhook-route';
import { silentLogger } from '../../log';
import { noopTelemetry, type Telemetry } from '../../metrics/telemetry';
import { StateStore } from '../../state/store';
import type { TickerSubscription } from '../../ticker/types';
import type { BackfillHook, SubscriptionHooks } from '../actions';
import { EventIntake, type EventIntakeOptions } from '../intake';
import type { SubscriptionLister } from '../poller';
import { signDelivery } from '../webhook-auth';

export const TEST_SECRET = 'test-webhook-secret-0123456789abcdef';

export const tempStatePath = (): string => join(mkdtempSync(join(tmpdir(), 'sd-events-')), 'state.db');

export function openState(path: string): StateStore {
  const state = new StateStore(path);
  state.migrate();
  return state;
}

/** Records enqueueImmediate calls and answers like the backfill service (one job per call). */
export class RecordingBackfill implements BackfillHook {
  readonly calls: { scope: BackfillScope; createdBy: string; reason?: string }[] = [];
  /** Set to make enqueueImmediate hang (crash tests) or fail (retry tests). */
  behaviour: 'ok' | 'hang' | 'fail' = 'ok';
  failures = 0;
  async enqueueImmediate(scope: BackfillScope, createdBy: string, reason?: string): Promise<BackfillJob> {
    this.calls.push({ scope, createdBy, reason });
    if (this.behaviour === 'hang') await new Promise(() => undefined);
    if (this.behaviour === 'fail') {
      this.failures++;
      throw new Error('backfill store unavailable');
    }
    const at = new Date().toISOString();
    return {
      id: this.calls.length,
      scope,
      label: `instrument ${scope.kind === 'instrument' ? scope.token : ''}`,
      windowStart: at,
      windowEnd: at,
      priority: 'immediate',
      state: 'queued',
      requestsDone: 0,
      requestsPlanned: 1,
      rowsWritten: 0,
      instruments: 1,
      attempts: 0,
      lastError: null,
      createdBy,
      reason: null,
      createdAt: at,
      startedAt: null,
      finishedAt: null,
      etaSeconds: null,
      stopRequested: false,
    };
  }
}

/** Records the subscription manager calls the intake makes. */
export class RecordingSubscriptions implements SubscriptionHooks {
  invalidations = 0;
  readonly released: { token: number; reason: string }[] = [];
  invalidateSnapshot(): void {
    this.invalidations++;
  }
  async release(token: number, reason: string): Promise<void> {
    this.released.push({ token, reason });
  }
}

/** Lists every page of GET /subscriptions?status=active over real HTTP (the TickerClient's listAllSubscriptions). */
export function httpLister(baseUrl: string): SubscriptionLister & { calls: number } {
  const lister = {
    calls: 0,
    async listAllSubscriptions(status: 'active' | 'inactive' = 'active'): Promise<TickerSubscription[]> {
      lister.calls++;
      const all = new Map<number, TickerSubscription>();
      for (let offset = 0; ; offset += 1000) {
        const res = await fetch(`${baseUrl}/subscriptions?status=${status}&limit=1000&offset=${offset}`);
        if (res.status !== 200) throw new Error(`GET /subscriptions answered ${res.status}`);
        const page = (await res.json()) as TickerSubscription[];
        for (const s of page) all.set(s.instrument_token, s);
        if (page.length < 1000) break;
      }
      return [...all.values()].sort((a, b) => a.instrument_token - b.instrument_token);
    },
  };
  return lister;
}

export interface TestIntake {
  intake: EventIntake;
  state: StateStore;
  url: string;
  backfill: RecordingBackfill;
  subscriptions: RecordingSubscriptions;
  close(): Promise<void>;
}

export interface TestIntakeOptions extends Partial<Omit<EventIntakeOptions, 'config'>> {
  statePath?: string;
  config?: Partial<EventIntakeOptions['config']>;
  telemetry?: Telemetry;
  clock?: Clock;
  withBackfill?: boolean;
  withSubscriptions?: boolean;
  start?: boolean;
}

export async function startTestIntake(o: TestIntakeOptions = {}): Promise<TestIntake> {
  const state = o.state ?? openState(o.statePath ?? tempStatePath());
  const backfill = new RecordingBackfill();
  const subscriptions = new RecordingSubscriptions();
  const http = new HttpServer({ host: '127.0.0.1', port: 0, apiToken: 'unused-api-token-unused', loopbackBind: true, logger: silentLogger, version: 'test' });
  const intake = new EventIntake({
    state,
    clock: o.clock ?? systemClock,
    flags: o.flags ?? new FlagService(state, {}),
    telemetry: o.telemetry ?? noopTelemetry,
    push: o.push ?? { publish: () => undefined },
    health: o.health,
    subscriptions: o.subscriptions ?? (() => (o.withSubscriptions === false ? undefined : subscriptions)),
    backfill: o.backfill ?? (() => (o.withBackfill === false ? undefined : backfill)),
    ticker: o.ticker ?? (() => undefined),
    registry: o.registry,
    env: {},
    logger: silentLogger,
    concurrency: o.concurrency,
    retryDelaysMs: o.retryDelaysMs,
    redisBackoff: o.redisBackoff,
    poll: o.poll ?? false,
    config: {
      webhookSecret: TEST_SECRET,
      webhookAcceptPlainHeader: false,
      webhookToleranceSeconds: 300,
      pollIntervalSeconds: 3600,
      redisUrl: undefined,
      ...o.config,
    },
  });
  http.addRoute(webhookRoute(intake));
  const listener: HttpListener = await http.listen();
  if (o.start !== false) intake.start();
  return {
    intake,
    state,
    url: listener.url,
    backfill,
    subscriptions,
    close: async () => {
      await intake.stop();
      await listener.close();
      if (!o.state) state.close();
    },
  };
}

export interface SignedPost {
  body: string;
  secret?: string;
  timestamp?: number;
  headers?: Record<string, string>;
  contentType?: string;
}

/** Signed headers for a raw body (what the devticker and a well-behaved sender send). */
export function signedHeaders(body: string, secret = TEST_SECRET, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return { 'x-strikedesk-timestamp': String(timestamp), 'x-strikedesk-signature': signDelivery(secret, timestamp, body) };
}

export async function postEvent(url: string, p: SignedPost): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${url}/internal/subscription-events`, {
    method: 'POST',
    headers: { 'content-type': p.contentType ?? 'application/json', ...signedHeaders(p.body, p.secret, p.timestamp), ...p.headers },
    body: p.body,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

export const planBody = (token: number, type = 'created', timestamp = new Date().toISOString(), extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ event_type: type, instrument_token: token, tradingsymbol: `NIFTY25NOV${token}CE`, timestamp, ...extra });

export const redisBody = (token: number, type = 'subscription_created', timestamp = Math.floor(Date.now() / 1000)): string =>
  JSON.stringify({
    event_type: type,
    instrument_token: token,
    metadata: { tradingsymbol: `NIFTY25NOV${token}PE`, segment: 'NFO', requested_mode: 'FULL', account_id: 'primary' },
    timestamp,
  });

/**
 * Bounded wait on a condition, for scripts that run outside vitest (bench/webhook.bench.ts). Tests use `expect.poll`
 * or `vi.waitFor` instead.
 */
export async function until<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
