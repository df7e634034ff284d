// npm run bench:webhook: signed subscription events over loopback from a SECOND PROCESS into the webhook.
//   1. sustained: N events at concurrency C -> events/s and p50/p99 latency to the 202, with the durable inbox
//   2. burst: 10x the concurrency at once (plus re-signed retries of events already sent) -> zero lost, zero
//      duplicated, counted in SQLite after the inbox drains
// The same run is repeated on the same server with no durability (the inbox in an in-memory SQLite) and, for
// reference, with synchronous=FULL (durable against power loss, not only a process crash); ratios are printed.
//   EVENTS=3000 CONCURRENCY=16 ROUNDS=2 npm run bench:webhook
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { Targets } from './targets';
import { planBody, signedHeaders, startTestIntake, tempStatePath, openState, TEST_SECRET, until } from '../src/main/events/testing/support';

const EVENTS = Number(process.env.EVENTS ?? 3000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const BURST_FACTOR = 10;
const RETRY_FRACTION = 0.1;
const ROUNDS = Number(process.env.ROUNDS ?? 2);

interface ClientReport {
  sent: number;
  accepted: number;
  duplicates: number;
  failed: { status: number; detail: string }[];
  elapsedMs: number;
  latencies: number[];
  /** event_id of each 202 */
  acceptedIds: number[];
}

// ---------------------------------------------------------------- client (the second process)

async function runClient(url: string, first: number, count: number, concurrency: number, retries: number): Promise<void> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const report: ClientReport = { sent: 0, accepted: 0, duplicates: 0, failed: [], elapsedMs: 0, latencies: [], acceptedIds: [] };
  // The events, then re-signed retries of some of them (what a sender does after a timeout).
  const jobs: number[] = Array.from({ length: count }, (_, i) => first + i);
  for (let i = 0; i < retries; i++) jobs.push(first + Math.floor((i * count) / Math.max(1, retries)));
  let next = 0;
  const signedAt = new Map<number, number>();
  const send = async (token: number, retry: boolean): Promise<void> => {
    const body = planBody(token, 'created', '2025-11-04T09:15:00Z');
    // A retry is a new delivery: another timestamp, hence another signature (the same signature would be a replay).
    const ts = retry ? (signedAt.get(token) ?? Math.floor(Date.now() / 1000)) - 1 : Math.floor(Date.now() / 1000);
    if (!retry) signedAt.set(token, ts);
    const t0 = performance.now();
    const res = await pool.request({
      path: '/internal/subscription-events',
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders(body, TEST_SECRET, ts) },
      body,
    });
    const answer = (await res.body.json()) as { event_id?: number; duplicate?: boolean; detail?: string };
    report.latencies.push(performance.now() - t0);
    report.sent++;
    if (res.statusCode === 202) {
      report.accepted++;
      report.acceptedIds.push(answer.event_id!);
    } else if (res.statusCode === 200 && answer.duplicate) report.duplicates++;
    else report.failed.push({ status: res.statusCode, detail: answer.detail ?? '' });
  };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const i = next++;
        await send(jobs[i], i >= count);
      }
    }),
  );
  report.elapsedMs = performance.now() - start;
  await pool.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function client(url: string, first: number, count: number, concurrency: number, retries: number): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const proc = spawn(process.execPath, ['--import', 'tsx', self, '--client', url, String(first), String(count), String(concurrency), String(retries)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ClientReport) : reject(new Error(`client exited ${code}`)),
    );
  });
}

// ---------------------------------------------------------------- server (this process)

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

interface ModeResult {
  mode: string;
  rate: number;
  p50: number;
  p99: number;
  burstRate: number;
  burstP99: number;
  drainMs: number;
  lost: number;
  duplicated: number;
  checks: string[];
}

async function runMode(mode: 'durable' | 'in-memory' | 'durable-full'): Promise<ModeResult> {
  const state = openState(mode === 'in-memory' ? ':memory:' : tempStatePath());
  if (mode === 'durable-full') state.db.pragma('synchronous = FULL');
  const t = await startTestIntake({ state, concurrency: 8 });
  try {
    // Warm-up (JIT, connections), not counted.
    await client(t.url, 1, 200, CONCURRENCY, 0);
    await until(() => t.intake.inbox.pending() === 0, 'warm-up drained', 60_000);

    const sustained = await client(t.url, 100_000, EVENTS, CONCURRENCY, 0);
    const burstCount = EVENTS;
    const burstRetries = Math.round(burstCount * RETRY_FRACTION);
    const b0 = performance.now();
    const burst = await client(t.url, 1_000_000, burstCount, CONCURRENCY * BURST_FACTOR, burstRetries);
    await until(() => t.intake.inbox.pending() === 0, 'burst drained', 120_000);
    const drainMs = performance.now() - b0;

    // Count in SQLite: every event sent is one row, processed once; every retry is a duplicate row.
    const db = state.db;
    const q = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
    const lo = 1_000_000;
    const hi = lo + burstCount;
    const rows = q('SELECT count(*) AS n FROM event_inbox WHERE token >= ? AND token < ? AND idempotency_key IS NOT NULL', lo, hi);
    const done = q("SELECT count(*) AS n FROM event_inbox WHERE token >= ? AND token < ? AND state = 'done'", lo, hi);
    const dupRows = q("SELECT count(*) AS n FROM event_inbox WHERE token >= ? AND token < ? AND state = 'duplicate'", lo, hi);
    const distinctDone = q("SELECT count(DISTINCT token) AS n FROM event_inbox WHERE token >= ? AND token < ? AND state = 'done'", lo, hi);
    const calls = t.backfill.calls.filter((c) => c.scope.kind === 'instrument' && c.scope.token >= lo && c.scope.token < hi);
    const distinctCalls = new Set(calls.map((c) => (c.scope.kind === 'instrument' ? c.scope.token : 0))).size;
    const idsInDb = burst.acceptedIds.filter((id) => t.intake.inbox.get(id) !== null).length;
    const lost = burstCount - Math.min(distinctDone, distinctCalls, idsInDb);
    const duplicated = done - distinctDone + (calls.length - distinctCalls);
    const checks = [
      `burst: ${burst.sent} requests (${burstCount} events + ${burstRetries} retries) -> ${burst.accepted} x 202, ${burst.duplicates} x duplicate, ${burst.failed.length} failed`,
      `SQLite: ${rows} event rows, ${done} done (${distinctDone} distinct tokens), ${dupRows} duplicate rows; ${calls.length} backfill enqueues for ${distinctCalls} tokens`,
    ];
    if (sustained.failed.length || burst.failed.length) checks.push(`failures: ${JSON.stringify([...sustained.failed, ...burst.failed].slice(0, 3))}`);
    if (rows !== burstCount || dupRows !== burstRetries || burst.accepted !== burstCount || burst.duplicates !== burstRetries)
      checks.push('MISMATCH in counts');
    return {
      mode,
      rate: (sustained.sent / sustained.elapsedMs) * 1000,
      p50: pct(sustained.latencies, 50),
      p99: pct(sustained.latencies, 99),
      burstRate: (burst.sent / burst.elapsedMs) * 1000,
      burstP99: pct(burst.latencies, 99),
      drainMs,
      lost,
      duplicated,
      checks,
    };
  } finally {
    await t.close();
    state.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(
    `webhook bench: ${EVENTS} events sustained at concurrency ${CONCURRENCY}; burst ${EVENTS} events + ${Math.round(EVENTS * RETRY_FRACTION)} retries at concurrency ${CONCURRENCY * BURST_FACTOR}; ` +
      `client in a second process; ${ROUNDS} rounds, modes interleaved, best round per mode compared (a shared machine is noisy)\n`,
  );
  const modes = ['in-memory', 'durable', 'durable-full'] as const;
  const all: ModeResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of modes) {
      const r = await runMode(mode);
      all.push(r);
      process.stdout.write(
        `round ${round} ${mode.padEnd(13)} sustained ${r.rate.toFixed(0).padStart(6)} ev/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms | burst ${r.burstRate.toFixed(0)} req/s p99 ${r.burstP99.toFixed(2)} ms, drained in ${r.drainMs.toFixed(0)} ms | lost ${r.lost} duplicated ${r.duplicated}\n`,
      );
      for (const c of r.checks) process.stdout.write(`    ${c}\n`);
    }
  }
  const best = (mode: string) => all.filter((r) => r.mode === mode).reduce((a, b) => (b.rate > a.rate ? b : a));
  const [mem, durable, full] = modes.map(best);
  process.stdout.write(
    `best rounds: in-memory ${mem.rate.toFixed(0)} ev/s p50 ${mem.p50.toFixed(2)} p99 ${mem.p99.toFixed(2)} ms; durable ${durable.rate.toFixed(0)} ev/s p50 ${durable.p50.toFixed(2)} p99 ${durable.p99.toFixed(2)} ms; ` +
      `synchronous=FULL ${full.rate.toFixed(0)} ev/s p50 ${full.p50.toFixed(2)} p99 ${full.p99.toFixed(2)} ms\n` +
      `durable inbox (WAL, synchronous=NORMAL, as shipped) vs in-memory: throughput x${(durable.rate / mem.rate).toFixed(2)}, p50 x${(durable.p50 / mem.p50).toFixed(2)}, p99 x${(durable.p99 / mem.p99).toFixed(2)}\n` +
      `synchronous=FULL vs in-memory: throughput x${(full.rate / mem.rate).toFixed(2)}, p50 x${(full.p50 / mem.p50).toFixed(2)}, p99 x${(full.p99 / mem.p99).toFixed(2)}\n`,
  );
  const targets = new Targets();
  targets.equals(
    'webhook events lost (all rounds and modes)',
    all.reduce((n, r) => n + r.lost, 0),
    0,
  );
  targets.equals(
    'webhook events duplicated (all rounds and modes)',
    all.reduce((n, r) => n + r.duplicated, 0),
    0,
  );
  targets.print((l) => process.stdout.write(`${l}\n`));
  const bad = all.filter((r) => r.lost !== 0 || r.duplicated !== 0 || r.checks.some((c) => c.startsWith('MISMATCH') || c.startsWith('failures')));
  if (bad.length) {
    process.stdout.write(`FAILED: ${bad.map((r) => r.mode).join(', ')} lost or duplicated events\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`burst check: 0 lost, 0 duplicated in every round and mode (counted in SQLite)\n`);
  }
}

if (process.argv[2] === '--client') {
  const [url, first, count, concurrency, retries] = process.argv.slice(3);
  await runClient(url, Number(first), Number(count), Number(concurrency), Number(retries));
} else {
  await main();
}
