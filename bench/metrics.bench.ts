// npx tsx bench/metrics.bench.ts: the cost of recording metrics, per-minute aggregation (Strikedesk) against a row
// per event (the baseline), on real SQLite files, in the same run.
//   One simulated busy hour: EVENTS telemetry calls (ticker calls, auto-subscribe attempts, time-to-data
//   observations, ingest counts) spread over 60 minutes, written every 5 simulated seconds. Then the question the
//   Metrics screen asks for that hour: success rate, p95 time to data, subscription calls.
//   Prints events/s, bytes and rows stored, query time, and the ratios. Strikedesk's recording also updates the
//   Prometheus registry; the baseline only inserts rows.
//   EVENTS=300000 npx tsx bench/metrics.bench.ts
import Database from 'better-sqlite3';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/testing/clock';
import { MetricsService } from '../src/main/metrics/service';
import { StateStore } from '../src/main/state/store';
import { Targets } from './targets';

const EVENTS = Number(process.env.EVENTS ?? 300_000);
const T0 = Date.UTC(2025, 10, 4, 4, 0, 0);
const FLUSH_MS = 5_000;

type Event = { at: number; kind: 'ticker' | 'attempt' | 'ttd' | 'ticks'; endpoint: string; status: number; value: number; ok: boolean };

function script(): Event[] {
  let s = 42;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const endpoints = ['subscriptions.list', 'subscriptions.create', 'subscriptions.delete', 'history', 'health'];
  const events: Event[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const r = rand();
    const kind = r < 0.5 ? 'ticker' : r < 0.7 ? 'attempt' : r < 0.8 ? 'ttd' : 'ticks';
    events.push({
      at: T0 + Math.floor((i / EVENTS) * 3_600_000),
      kind,
      endpoint: endpoints[Math.floor(rand() * 5)],
      status: rand() < 0.05 ? 429 : 200,
      value: 0.5 + rand() * 40,
      ok: rand() > 0.08,
    });
  }
  return events;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const fileSize = (path: string) =>
  ['', '-wal'].reduce((sum, ext) => {
    try {
      return sum + statSync(path + ext).size;
    } catch {
      return sum;
    }
  }, 0);

function strikedesk(events: Event[]): { ms: number; rows: number; bytes: number; queryMs: number; answer: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'bench-metrics-')), 'state.db');
  const store = new StateStore(path);
  store.migrate();
  const clock = new ManualClock(T0);
  const m = new MetricsService({ db: store.db, clock, defaultMetrics: false });
  let nextFlush = T0 + FLUSH_MS;
  const started = performance.now();
  for (const [i, e] of events.entries()) {
    clock.set(e.at);
    if (e.at >= nextFlush) {
      m.flush();
      nextFlush += FLUSH_MS;
    }
    if (e.kind === 'ticker') m.tickerRequest(e.endpoint, e.status, e.value);
    else if (e.kind === 'attempt') m.autoSubscribeAttempt(e.ok ? 'succeeded' : 'failed', e.ok ? 'subscribed' : 'rate_limited', i);
    else if (e.kind === 'ttd') m.timeToData(e.value, i);
    else m.ingest({ ticks: 1 });
  }
  m.flush();
  const ms = performance.now() - started;
  clock.set(T0 + 3_600_000 - 1);
  const q0 = performance.now();
  const s = m.summary(1);
  const queryMs = performance.now() - q0;
  const rows = (store.db.prepare('SELECT COUNT(*) AS n FROM metric_minutes').get() as { n: number }).n;
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const bytes = fileSize(path);
  store.close();
  return {
    ms,
    rows,
    bytes,
    queryMs,
    answer: `success ${(s.autoSubscribe.successRate ?? 0).toFixed(4)}, calls ${s.subscriptionCalls.lastHour}, p95 ${s.timeToData.p95?.toFixed(1)} s`,
  };
}

function rowPerEvent(events: Event[]): { ms: number; rows: number; bytes: number; queryMs: number; answer: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'bench-metrics-')), 'events.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE metric_events (id INTEGER PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, at INTEGER NOT NULL, value REAL); CREATE INDEX metric_events_at ON metric_events (metric, at)',
  );
  const insert = db.prepare('INSERT INTO metric_events (metric, labels, at, value) VALUES (?, ?, ?, ?)');
  let batch: unknown[][] = [];
  const write = db.transaction((rows: unknown[][]) => {
    for (const r of rows) insert.run(...r);
  });
  let nextFlush = T0 + FLUSH_MS;
  const started = performance.now();
  for (const e of events) {
    if (e.at >= nextFlush) {
      write(batch);
      batch = [];
      nextFlush += FLUSH_MS;
    }
    if (e.kind === 'ticker') batch.push(['ticker_request', `endpoint=${e.endpoint},status=${e.status}`, e.at, e.value / 1000]);
    else if (e.kind === 'attempt') batch.push(['auto_subscribe', `outcome=${e.ok ? 'succeeded' : 'failed'}`, e.at, 1]);
    else if (e.kind === 'ttd') batch.push(['time_to_data', '', e.at, e.value]);
    else batch.push(['ingest_ticks', '', e.at, 1]);
  }
  write(batch);
  const ms = performance.now() - started;
  const q0 = performance.now();
  const from = T0;
  const ok = (
    db.prepare("SELECT COUNT(*) AS n FROM metric_events WHERE metric = 'auto_subscribe' AND at >= ? AND labels = 'outcome=succeeded'").get(from) as {
      n: number;
    }
  ).n;
  const all = (db.prepare("SELECT COUNT(*) AS n FROM metric_events WHERE metric = 'auto_subscribe' AND at >= ?").get(from) as { n: number }).n;
  const calls = (
    db.prepare("SELECT COUNT(*) AS n FROM metric_events WHERE metric = 'ticker_request' AND at >= ? AND labels LIKE 'endpoint=subscriptions.%'").get(from) as {
      n: number;
    }
  ).n;
  const ttd = (db.prepare("SELECT value FROM metric_events WHERE metric = 'time_to_data' AND at >= ? ORDER BY value").all(from) as { value: number }[]).map(
    (r) => r.value,
  );
  const queryMs = performance.now() - q0;
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM metric_events').get() as { n: number }).n;
  db.pragma('wal_checkpoint(TRUNCATE)');
  const bytes = fileSize(path);
  db.close();
  return {
    ms,
    rows,
    bytes,
    queryMs,
    answer: `success ${(ok / all).toFixed(4)}, calls ${calls}, p95 ${ttd[Math.floor(0.95 * (ttd.length - 1))].toFixed(1)} s (exact)`,
  };
}

const events = script();
// One warm-up pass of each on a tenth of the events, then the measured runs.
strikedesk(events.slice(0, events.length / 10));
rowPerEvent(events.slice(0, events.length / 10));
const a = strikedesk(events);
const b = rowPerEvent(events);
const line = (name: string, r: ReturnType<typeof strikedesk>) =>
  `${name.padEnd(26)} ${(EVENTS / (r.ms / 1000)).toFixed(0).padStart(9)} events/s  ${String(r.rows).padStart(8)} rows  ${mb(r.bytes).padStart(9)}  hour query ${r.queryMs.toFixed(1).padStart(6)} ms  (${r.answer})`;
console.log(`metrics recording, one simulated hour of ${EVENTS} events, flushed every ${FLUSH_MS / 1000} s`);
console.log(line('per-minute (Strikedesk)', a));
console.log('  (its events/s include the Prometheus registry updates, which the baseline does not do)');
console.log(line('row per event (baseline)', b));
console.log(
  `ratios (baseline / Strikedesk): recording time ${(b.ms / a.ms).toFixed(1)}x, rows ${(b.rows / a.rows).toFixed(0)}x, bytes ${(b.bytes / a.bytes).toFixed(1)}x, hour query ${(b.queryMs / a.queryMs).toFixed(1)}x`,
);
// The README row's claims as targets: the per-minute store must beat a row per event on rows, bytes and the hour's query.
const targets = new Targets();
targets.check('metrics rows vs a row per event', a.rows < b.rows, `${(b.rows / a.rows).toFixed(0)}x fewer`, 'fewer than the baseline');
targets.check('metrics bytes vs a row per event', a.bytes < b.bytes, `${(b.bytes / a.bytes).toFixed(1)}x fewer`, 'fewer than the baseline');
targets.check(
  'metrics hour query vs a row per event',
  a.queryMs < b.queryMs,
  `${a.queryMs.toFixed(1)} ms, ${(b.queryMs / a.queryMs).toFixed(1)}x faster`,
  'faster than the baseline',
);
targets.print();
