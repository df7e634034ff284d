// Alert rules and their book. Rules are pure: numbers in, a verdict per rule out. The book turns verdicts into
// transitions: a rule fires ONCE (one 'firing' row, kept across restarts) and resolves when its condition clears;
// every firing stays in the history.
import type Database from 'better-sqlite3';
import type { AlertSilence, AlertThresholds, AlertView } from '../../shared/api';
import { DomainError } from '../../shared/result';
import type { AlertRule } from './prometheus';
import { MIN_AUTO_SUBSCRIBE_ATTEMPTS } from './thresholds';

export interface AlertInputs {
  /** Auto-subscribe attempts in the failure window. */
  autoSubscribe: { attempted: number; failed: number };
  /** Tokens auto-subscribed that still have no data, with how long they have waited (s). */
  waiting: { token: number; waitedSeconds: number }[];
  /** Longest time from a successful subscribe to first data observed in the failure window (s), or null. */
  worstTimeToData: number | null;
  /** Ticker subscription API calls in the last 60 one-minute buckets. */
  subscriptionCallsLastHour: number;
  feed: { state: string; lastTickAt: number | null };
  /**
   * The subscription manager's streaming verdict (subscriptions/streaming-watch.ts): the service accepted
   * subscriptions but streams nothing. Absent without a tick source or a manager.
   */
  streaming?: { state: string; accepted: number; silentForMs: number | null; message: string } | null;
}

export interface Verdict {
  rule: AlertRule;
  firing: boolean;
  value: number | null;
  threshold: number | null;
  /** What the operator reads: the numbers and what to do. */
  message: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const secs = (s: number): string => `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;

export function evaluateRules(inputs: AlertInputs, t: AlertThresholds, nowMs: number): Verdict[] {
  const { attempted, failed } = inputs.autoSubscribe;
  const ratio = attempted > 0 ? failed / attempted : 0;
  const failing = attempted >= MIN_AUTO_SUBSCRIBE_ATTEMPTS && ratio > t.autoSubscribeFailureRatio;

  const late = inputs.waiting.filter((w) => w.waitedSeconds > t.timeToDataSeconds).sort((a, b) => b.waitedSeconds - a.waitedSeconds);
  const slowObserved = inputs.worstTimeToData !== null && inputs.worstTimeToData > t.timeToDataSeconds;
  const slowValue = Math.max(late[0]?.waitedSeconds ?? 0, inputs.worstTimeToData ?? 0);
  const slowParts: string[] = [];
  if (late.length > 0) {
    const tokens = late
      .slice(0, 5)
      .map((w) => w.token)
      .join(', ');
    slowParts.push(
      `${late.length} subscribed instrument(s) without data after ${secs(t.timeToDataSeconds)} (longest ${secs(late[0].waitedSeconds)}; tokens ${tokens}${late.length > 5 ? ', ...' : ''})`,
    );
  }
  if (slowObserved) slowParts.push(`data came ${secs(inputs.worstTimeToData as number)} after subscription in the last ${t.autoSubscribeWindowMinutes} min`);

  const calls = inputs.subscriptionCallsLastHour;
  const stale = inputs.feed.state === 'stale';
  const silentFor = inputs.feed.lastTickAt === null ? null : Math.max(0, (nowMs - inputs.feed.lastTickAt) / 1000);

  const streaming = inputs.streaming ?? null;
  const streamingStopped = streaming?.state === 'stopped';

  return [
    {
      rule: 'auto_subscribe_failures',
      firing: failing,
      value: attempted > 0 ? ratio : null,
      threshold: t.autoSubscribeFailureRatio,
      message: failing
        ? `Auto-subscribe failures ${pct(ratio)} (${failed} of ${attempted}) in the last ${t.autoSubscribeWindowMinutes} min, above ${pct(t.autoSubscribeFailureRatio)}: check the ticker service's health and the failure reasons`
        : `Auto-subscribe failures ${pct(ratio)} (${failed} of ${attempted}) in the last ${t.autoSubscribeWindowMinutes} min`,
    },
    {
      rule: 'slow_data',
      firing: late.length > 0 || slowObserved,
      value: slowValue > 0 ? slowValue : null,
      threshold: t.timeToDataSeconds,
      message:
        late.length > 0 || slowObserved
          ? `Data not available ${secs(t.timeToDataSeconds)} after subscription: ${slowParts.join('; ')}: check the streaming pipeline (feed, ingest) and immediate backfill`
          : `Every subscribed instrument had data within ${secs(t.timeToDataSeconds)}`,
    },
    {
      rule: 'excessive_subscription_calls',
      firing: calls > t.subscriptionCallsPerHour,
      value: calls,
      threshold: t.subscriptionCallsPerHour,
      message:
        calls > t.subscriptionCallsPerHour
          ? `${calls} ticker subscription API calls in the last hour, above ${t.subscriptionCallsPerHour}: check the subscription snapshot cache (flag smart_subscription_cache_ttl) and who is calling`
          : `${calls} ticker subscription API calls in the last hour`,
    },
    {
      rule: 'feed_stale',
      firing: stale,
      value: silentFor,
      threshold: null,
      message: stale
        ? `Tick feed stale: no tick for ${silentFor === null ? 'the whole session so far' : secs(silentFor)} while ticks are expected: check the ticker service's streaming and the Redis/bus connection`
        : `Tick feed ${inputs.feed.state}`,
    },
    {
      // What happened and what to do, in the watch's words: "the ticker service accepted N subscriptions but has
      // streamed nothing for X s: restart the ticker service ...".
      rule: 'streaming_stopped',
      firing: streamingStopped,
      value: streamingStopped && streaming?.silentForMs != null ? streaming.silentForMs / 1000 : null,
      threshold: null,
      message: streamingStopped
        ? `Streaming stopped: ${streaming?.message}`
        : streaming
          ? `Streaming ${streaming.state.replace('_', ' ')}: ${streaming.message}`
          : 'Streaming not watched (no tick source)',
    },
  ];
}

interface AlertRow {
  id: number;
  rule: AlertRule;
  state: 'firing' | 'resolved';
  message: string;
  value: number | null;
  threshold: number | null;
  fired_at: number;
  resolved_at: number | null;
  resolved_message: string | null;
  acked_by: string | null;
  acked_at: number | null;
  ack_reason: string | null;
}

interface SilenceRow {
  id: number;
  rule: AlertRule;
  actor: string;
  reason: string;
  created_at: number;
  until: number;
  lifted_at: number | null;
  lifted_by: string | null;
}

export interface AlertTransition {
  kind: 'fired' | 'resolved';
  alert: AlertView;
  /** The text for the desktop notification and the log. */
  message: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const silenceView = (row: SilenceRow): AlertSilence => ({
  id: row.id,
  rule: row.rule,
  by: row.actor,
  at: iso(row.created_at),
  reason: row.reason,
  until: iso(row.until),
  liftedAt: row.lifted_at === null ? null : iso(row.lifted_at),
  liftedBy: row.lifted_by,
});

const view = (row: AlertRow, silence: AlertSilence | null = null): AlertView => ({
  id: row.id,
  rule: row.rule,
  state: row.state,
  message: row.state === 'resolved' && row.resolved_message ? `${row.message} (resolved: ${row.resolved_message})` : row.message,
  value: row.value,
  threshold: row.threshold,
  firedAt: iso(row.fired_at),
  resolvedAt: row.resolved_at === null ? null : iso(row.resolved_at),
  acknowledged: row.acked_by === null || row.acked_at === null ? null : { by: row.acked_by, at: iso(row.acked_at), reason: row.ack_reason ?? '' },
  silence,
});

export const ALERT_HISTORY_RETENTION_MS = 90 * 24 * 3_600_000;

export class AlertBook {
  constructor(private readonly db: Database.Database) {}

  /** Applies this evaluation's verdicts; returns what changed (fired or resolved), in rule order. */
  apply(verdicts: readonly Verdict[], nowMs: number): AlertTransition[] {
    const firing = new Map(this.firingRows().map((r) => [r.rule, r]));
    const transitions: AlertTransition[] = [];
    const insert = this.db.prepare("INSERT INTO alerts (rule, state, message, value, threshold, fired_at) VALUES (?, 'firing', ?, ?, ?, ?)");
    const resolve = this.db.prepare("UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_message = ? WHERE id = ? AND state = 'firing'");
    const byId = this.db.prepare('SELECT * FROM alerts WHERE id = ?');
    this.db.transaction(() => {
      for (const v of verdicts) {
        const open = firing.get(v.rule);
        if (v.firing && !open) {
          const id = Number(insert.run(v.rule, v.message, v.value, v.threshold, nowMs).lastInsertRowid);
          transitions.push({ kind: 'fired', alert: view(byId.get(id) as AlertRow), message: `${v.rule}: ${v.message}` });
        } else if (!v.firing && open) {
          resolve.run(nowMs, v.message, open.id);
          transitions.push({ kind: 'resolved', alert: view(byId.get(open.id) as AlertRow), message: `Resolved ${v.rule}: ${v.message}` });
        }
      }
      this.db.prepare("DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?").run(nowMs - ALERT_HISTORY_RETENTION_MS);
    })();
    return transitions;
  }

  private firingRows(): AlertRow[] {
    return this.db.prepare("SELECT * FROM alerts WHERE state = 'firing' ORDER BY fired_at").all() as AlertRow[];
  }

  /** Firing alerts, each with the silence in force on its rule (if any). */
  active(nowMs = Date.now()): AlertView[] {
    const silences = this.silencesByRule(nowMs);
    return this.firingRows().map((r) => view(r, silences.get(r.rule) ?? null));
  }

  firingRules(): Set<AlertRule> {
    return new Set(this.firingRows().map((r) => r.rule));
  }

  /** Newest first, firing and resolved. A firing one carries its rule's silence. */
  history(limit: number, nowMs = Date.now()): AlertView[] {
    const silences = this.silencesByRule(nowMs);
    return (this.db.prepare('SELECT * FROM alerts ORDER BY fired_at DESC, id DESC LIMIT ?').all(limit) as AlertRow[]).map((r) =>
      view(r, r.state === 'firing' ? (silences.get(r.rule) ?? null) : null),
    );
  }

  // ---------- operators' answers ----------

  /**
   * Records who took a firing alert, when and why. A resolved alert needs no answer (409); acknowledging one twice
   * keeps the first answer (409): the record says who took it first, it is not overwritten.
   */
  acknowledge(id: number, actor: string, reason: string, nowMs: number): AlertView {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    if (!row) throw new DomainError('NOT_FOUND', `id: no alert ${id}`, 'id');
    if (row.state !== 'firing') throw new DomainError('CONFLICT', `id: alert ${id} (${row.rule}) is already resolved`, 'id');
    if (row.acked_by !== null) throw new DomainError('CONFLICT', `id: alert ${id} was already acknowledged by ${row.acked_by}`, 'id');
    this.db.prepare('UPDATE alerts SET acked_by = ?, acked_at = ?, ack_reason = ? WHERE id = ? AND acked_by IS NULL').run(actor, nowMs, reason, id);
    return view(this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow, this.silencesByRule(nowMs).get(row.rule) ?? null);
  }

  /** Mutes a rule until now + minutes; a silence already in force on the rule is replaced (lifted by the same actor). */
  silence(rule: AlertRule, actor: string, reason: string, minutes: number, nowMs: number): AlertSilence {
    const id = this.db.transaction(() => {
      this.lift(rule, actor, nowMs);
      return Number(
        this.db
          .prepare('INSERT INTO alert_silences (rule, actor, reason, created_at, until) VALUES (?, ?, ?, ?, ?)')
          .run(rule, actor, reason, nowMs, nowMs + minutes * 60_000).lastInsertRowid,
      );
    })();
    return silenceView(this.db.prepare('SELECT * FROM alert_silences WHERE id = ?').get(id) as SilenceRow);
  }

  /** Lifts the silences in force on a rule; returns them as lifted (an empty list when none was in force). */
  unsilence(rule: AlertRule, actor: string, nowMs: number): AlertSilence[] {
    const ids = this.db.transaction(() => this.lift(rule, actor, nowMs))();
    return ids.map((id) => silenceView(this.db.prepare('SELECT * FROM alert_silences WHERE id = ?').get(id) as SilenceRow));
  }

  private lift(rule: AlertRule, actor: string, nowMs: number): number[] {
    const open = this.db.prepare('SELECT id FROM alert_silences WHERE rule = ? AND until > ? AND lifted_at IS NULL').all(rule, nowMs) as { id: number }[];
    const update = this.db.prepare('UPDATE alert_silences SET lifted_at = ?, lifted_by = ? WHERE id = ?');
    for (const { id } of open) update.run(nowMs, actor, id);
    return open.map((o) => o.id);
  }

  /** Silences in force now, newest first. */
  silences(nowMs: number): AlertSilence[] {
    return (
      this.db.prepare('SELECT * FROM alert_silences WHERE until > ? AND lifted_at IS NULL ORDER BY created_at DESC, id DESC').all(nowMs) as SilenceRow[]
    ).map(silenceView);
  }

  isSilenced(rule: AlertRule, nowMs: number): boolean {
    return this.silencesByRule(nowMs).has(rule);
  }

  private silencesByRule(nowMs: number): Map<AlertRule, AlertSilence> {
    const byRule = new Map<AlertRule, AlertSilence>();
    // Newest first: the first seen per rule is the one in force.
    for (const s of this.silences(nowMs)) if (!byRule.has(s.rule)) byRule.set(s.rule, s);
    return byRule;
  }
}
