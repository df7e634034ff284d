// The Prometheus exposition: parsed here by a small independent reader of the text format (structure, names with
// units, histogram consistency, the scenario's values) and by Prometheus' own linter, promtool, over real HTTP.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/clock';
import { HttpServer, type HttpListener } from '../http/server';
import { silentLogger } from '../log';
import { MINUTE_MS } from './history';
import { MetricsService } from './service';
import { metricsRoute } from '../http/metrics-route';
import { openStore, stateFile, T0 } from './testing/support';

interface Family {
  help?: string;
  type?: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** Text format 0.0.4: '# HELP', '# TYPE', then `name{a="b",...} value` lines. Throws on anything else. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [] }));
    return f;
  };
  let current: string | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const f = family(meta[2]);
      if (meta[1] === 'HELP') f.help = meta[3];
      else {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        f.type = meta[3];
      }
      current = meta[2];
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${line}`);
    const [, name, labelText, valueText] = sample;
    const labels: Record<string, string> = {};
    if (labelText) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
      let consumed = 0;
      for (let m = re.exec(labelText); m; m = re.exec(labelText)) {
        labels[m[1]] = m[2];
        consumed = re.lastIndex;
      }
      if (consumed !== labelText.length) throw new Error(`bad labels: ${labelText}`);
    }
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes 'Nan').
    const special: Record<string, number> = { nan: Number.NaN, '+inf': Infinity, inf: Infinity, '-inf': -Infinity };
    const value = valueText.toLowerCase() in special ? special[valueText.toLowerCase()] : Number(valueText);
    if (Number.isNaN(value) && valueText.toLowerCase() !== 'nan') throw new Error(`bad value: ${line}`);
    // A sample belongs to the family declared just before it (histograms: _bucket, _sum, _count).
    if (!current || !(name === current || (families.get(current)?.type === 'histogram' && /^(.*)_(bucket|sum|count)$/.exec(name)?.[1] === current))) {
      throw new Error(`sample ${name} outside its family (${current})`);
    }
    family(current).samples.push({ name, labels, value });
  }
  return families;
}

function scenario(metrics: MetricsService, clock: ManualClock): void {
  for (let i = 0; i < 17; i++) metrics.autoSubscribeAttempt('succeeded', 'subscribed', i);
  for (let i = 0; i < 3; i++) metrics.autoSubscribeAttempt('failed', 'rate_limited', 100 + i);
  for (const s of [2, 4, 8, 12, 29, 31, 50]) metrics.timeToData(s, 1);
  for (let i = 0; i < 6; i++) metrics.tickerRequest('subscriptions.list', 200, 20);
  metrics.tickerRequest('subscriptions.create', 429, 15);
  metrics.tickerRequest('history', 'timeout', 10_000);
  metrics.backfillCycle({
    considered: 50,
    backfilled: 20,
    requests: 22,
    minimumRequests: 20,
    rowsWritten: 6000,
    gapsFilled: 20,
    noTradeWindows: 2,
    failures: {},
    durationMs: 9000,
    trigger: 'scheduled',
  });
  metrics.backfillJob('done', 9000, 6000);
  metrics.gauge('backfill_queue_depth', 2);
  metrics.gauge('inbox_depth', 1);
  metrics.gauge('ingest_queue_depth', 7);
  metrics.intakeEvent('poll', 'created', 'backfill_queued');
  metrics.ingest({ ticks: 1234, parseErrors: 2, droppedBars: 1, barsWritten: 80 });
  metrics.feedState('live', clock.now() - 2_000);
  metrics.tick();
}

let store: ReturnType<typeof openStore>;
let metrics: MetricsService;
let server: HttpServer;
let listener: HttpListener;
const TOKEN = 'metrics-test-token-0123456789';

beforeAll(async () => {
  const clock = new ManualClock(T0 + 10 * MINUTE_MS);
  store = openStore(stateFile());
  // With the default process metrics, as in the console.
  metrics = new MetricsService({ db: store.db, clock });
  scenario(metrics, clock);
  // A non-loopback bind, so /metrics requires the token as any API call would.
  server = new HttpServer({ host: '127.0.0.1', port: 0, apiToken: TOKEN, loopbackBind: false, logger: silentLogger, version: 'test' });
  server.addRoute(metricsRoute(metrics));
  listener = await server.listen();
});
afterAll(async () => {
  await listener?.close();
  metrics?.stop();
  store?.close();
});

describe('GET /metrics', () => {
  it('asks for the token off loopback, and serves the text format with it', async () => {
    expect((await fetch(`${listener.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${listener.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("parses: every sample in a declared family with help, names with units, consistent histograms, the scenario's values", async () => {
    const text = await (await fetch(`${listener.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    const families = parseExposition(text);
    for (const [name, f] of families) {
      expect(f.type, name).toBeDefined();
      expect(f.help, name).toBeTruthy();
      if (f.type === 'counter') expect(name).toMatch(/_total$/);
      if (name.startsWith('strikedesk_') && /duration|time|age/.test(name)) expect(name).toMatch(/_seconds$/);
    }
    const required = [
      'strikedesk_time_to_data_seconds',
      'strikedesk_auto_subscribe_attempts_total',
      'strikedesk_ticker_requests_total',
      'strikedesk_ticker_request_duration_seconds',
      'strikedesk_backfill_instruments',
      'strikedesk_backfill_requests_total',
      'strikedesk_backfill_rows_written_total',
      'strikedesk_backfill_jobs_total',
      'strikedesk_backfill_queue_depth',
      'strikedesk_inbox_depth',
      'strikedesk_ingest_queue_depth',
      'strikedesk_feed_stale',
      'strikedesk_feed_last_tick_age_seconds',
      'strikedesk_intake_events_total',
      'strikedesk_ingest_ticks_total',
      'strikedesk_ingest_parse_errors_total',
      'strikedesk_ingest_dropped_bars_total',
      'strikedesk_alerts_firing',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ];
    for (const name of required) expect(families.has(name), name).toBe(true);
    expect(families.get('strikedesk_time_to_data_seconds')?.type).toBe('histogram');

    const value = (family: string, labels: Record<string, string> = {}, sample = family) =>
      families.get(family)?.samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('strikedesk_auto_subscribe_attempts_total', { outcome: 'succeeded', reason: 'subscribed' })).toBe(17);
    expect(value('strikedesk_auto_subscribe_attempts_total', { outcome: 'failed', reason: 'rate_limited' })).toBe(3);
    expect(value('strikedesk_ticker_requests_total', { endpoint: 'subscriptions.list', status: '200' })).toBe(6);
    expect(value('strikedesk_ticker_requests_total', { endpoint: 'subscriptions.create', status: '429' })).toBe(1);
    expect(value('strikedesk_ticker_requests_total', { endpoint: 'history', status: 'timeout' })).toBe(1);
    expect(value('strikedesk_backfill_instruments', { kind: 'considered' })).toBe(50);
    expect(value('strikedesk_backfill_instruments', { kind: 'backfilled' })).toBe(20);
    expect(value('strikedesk_ingest_queue_depth')).toBe(7);
    expect(value('strikedesk_feed_stale')).toBe(0);
    expect(value('strikedesk_feed_last_tick_age_seconds')).toBe(2);
    // 31 s and 50 s from first request to data, but no time passed since the subscriptions: slow_data judges
    // from the subscription (the plan's rule), so it does not fire; the failure ratio (3 of 20) does.
    expect(value('strikedesk_alerts_firing', { rule: 'slow_data' })).toBe(0);
    expect(value('strikedesk_alerts_firing', { rule: 'auto_subscribe_failures' })).toBe(1);

    // Time to data buckets: cumulative, +Inf = count, and each equals a count over the scenario's waits.
    const waits = [2, 4, 8, 12, 29, 31, 50];
    const buckets = families.get('strikedesk_time_to_data_seconds')?.samples.filter((s) => s.name.endsWith('_bucket')) ?? [];
    let previous = 0;
    for (const b of buckets) {
      expect(b.value).toBeGreaterThanOrEqual(previous);
      previous = b.value;
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      expect(b.value).toBe(waits.filter((w) => w <= le).length);
    }
    expect(buckets.at(-1)?.labels.le).toBe('+Inf');
    expect(value('strikedesk_time_to_data_seconds', {}, 'strikedesk_time_to_data_seconds_count')).toBe(7);
    expect(value('strikedesk_time_to_data_seconds', {}, 'strikedesk_time_to_data_seconds_sum')).toBe(136);
  });

  it("passes promtool check metrics (Prometheus' own parser and linter)", async (ctx) => {
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (!promtool) {
      console.warn('skipped: promtool is not installed (apt-get install prometheus provides /usr/bin/promtool)');
      ctx.skip();
      return;
    }
    const body = await (await fetch(`${listener.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    const run = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });
});
