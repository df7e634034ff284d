// bench:fullload: the whole system at the Kite account's full 9000 instruments.
//
// A devticker in its own process (the CLI, production profile, market always open, 200 strikes a side so the registry
// holds 9000+ option legs) publishes ticks on a Redis of its own, as the real ticker service does. The 9000
// subscriptions are PRELOADED through the devticker's /_sim/subscribe (its bench hook: the subscription rows are made
// directly, as after a restart with a state file), because subscribing 9000 tokens through the ticker's real limits
// (30 POSTs a minute) would take hours; the console's own subscription path is bench:subscribe's business.
// The console (embedded defaults except the ticker: PGlite market store, SQLite state) reads the ticks from Redis,
// aggregates them into 1-minute bars and serves a chain screen: a 126-leg NIFTY chain asked every second through the
// ConsoleApi over HTTP, with the push stream (GET /api/events) open, as the window does.
//
// The console runs twice against the same devticker, one after the other:
//   relay        (measured against the targets) the headless console from the build, as `npm run serve` runs it:
//                the relay front in the parent process serves the window, the core runs in a child process.
//                A probe loaded with NODE_OPTIONS=--import (support/window-probe.mjs) measures the parent's
//                event-loop delay and CPU, and puts the core child on the bench's shifted clock.
//   in-process   (the baseline) the console started in this process (startApp), window server and core on one
//                thread, as before the relay. Skipped with BASELINE_SECONDS=0.
//
// Measured over FULLLOAD_SECONDS (BASELINE_SECONDS for the baseline) after a warm-up:
//   dropped ticks        ticks the devticker published (its counter) minus ticks the console's ingestor took in
//                        (the relay: /metrics' strikedesk_ingest_ticks_total); at the end the stream is stalled
//                        (/_sim/faults) and the console drained before comparing
//   bar lag              per minute closed in the window: the last write of any of its 1-minute bars (a bench-only
//                        trigger, installed in the market store before the console opens it, stamps updated_at =
//                        clock_timestamp() on every write) minus the minute's end
//   event-loop delay     perf_hooks.monitorEventLoopDelay in the process that serves the window, less its 10 ms
//                        sampling period (a sample is the time between two timer firings; the delay is how late
//                        the timer fired); the raw sample p99 is printed too
//   CPU                  per 1000 ticks/s taken in: the window's process (process.cpuUsage) and, for the relay, the
//                        core child apart (from /proc)
// Baselines in the same run: the in-process console above (the ratio of the window process's p99), this process's
// event-loop delay before anything starts (idle), and the devticker's CPU (from /proc) for producing the ticks.
//
//   npm run bench:fullload        FULLLOAD_SECONDS=300  WARMUP_SECONDS=30  INSTRUMENTS=9000  BASELINE_SECONDS=<FULLLOAD_SECONDS>
//   DATABASE_URL=postgres://...   the console's market store on that PostgreSQL instead of PGlite
//   FULLLOAD_CPU_PROFILE=/tmp/front   a V8 CPU profile of the relay's window process over the measured window
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { startApp, type RunningApp } from '../src/main/app/app';
import { fromIstWallClock } from '../src/main/calendar';
import { loadConfig } from '../src/main/config/load';
import { setRootLogger, silentLogger } from '../src/main/log';
import { openMarketDb, type MarketDb } from '../src/main/market/db';
import { migrateMarket } from '../src/main/market/migrate';
import type { StrikeDistribution } from '../src/shared/api';
import { processTree, spawnConsole } from './support/console-process';
import { startRedisServer } from './support/redis-server';
import { Targets } from './targets';
import { freePort } from './support/free-port';

const MEASURE_MS = Number(process.env.FULLLOAD_SECONDS ?? 300) * 1000;
const BASELINE_MS = Number(process.env.BASELINE_SECONDS ?? MEASURE_MS / 1000) * 1000;
const WARMUP_MS = Number(process.env.WARMUP_SECONDS ?? 30) * 1000;
const INSTRUMENTS = Number(process.env.INSTRUMENTS ?? 9000);
const DATABASE_URL = process.env.DATABASE_URL;
const SIM_TOKEN = 'fullload-bench-sim-token-0123456789';
const BAR_LAG_TARGET_MS = 3_000;
// Both the devticker and the console run on a clock shifted into a trading session (a Wednesday, 10:00 IST on), so a
// run at any hour streams and stores a session's ticks; bar lags are measured on the same shifted clock.
const SESSION_START = fromIstWallClock('2025-11-12T10:00:00');
const CLOCK_OFFSET_MS = SESSION_START - Date.now();
const shiftedClock = { now: () => Date.now() + CLOCK_OFFSET_MS };
const ELD_P99_TARGET_MS = 20;
/**
 * monitorEventLoopDelay samples the time between two firings of a repeating timer of this period, so every sample
 * includes the period itself (nodejs/node#34661: an idle loop reads ~10 ms at resolution 10). The event-loop delay,
 * how late the timer fired, is the sample less the period; the raw p99 is printed beside it.
 */
const ELD_RESOLUTION_MS = 10;
const loopDelayMs = (sampleNs: number) => Math.max(0, sampleNs / 1e6 - ELD_RESOLUTION_MS);
const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- the market store and its bar rows

/**
 * Opens the console's market store before the console does (same migrations), and installs the bench-only trigger
 * that stamps every write of a 1-minute bar with the moment it happened (the column's default stamps the first
 * insert only), so the last write of a minute's bars is in the rows. Done before the console starts because with
 * the relay the store (PGlite) lives inside the core child, where the bench cannot reach it while it runs.
 */
async function openStore(home: string): Promise<MarketDb> {
  return openMarketDb({ databaseUrl: DATABASE_URL, pgliteDir: DATABASE_URL ? undefined : join(home, 'market'), poolSize: 2 });
}

async function prepareStore(home: string): Promise<void> {
  const db = await openStore(home);
  try {
    await migrateMarket(db);
    await db.exec(`
      CREATE OR REPLACE FUNCTION bench_stamp_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.timeframe = 1 THEN NEW.updated_at := clock_timestamp(); END IF;
        RETURN NEW;
      END $$;
      DROP TRIGGER IF EXISTS bench_stamp_strike ON fo_strike_bars;
      DROP TRIGGER IF EXISTS bench_stamp_instrument ON instrument_bars;
      CREATE TRIGGER bench_stamp_strike BEFORE INSERT OR UPDATE ON fo_strike_bars FOR EACH ROW EXECUTE FUNCTION bench_stamp_write();
      CREATE TRIGGER bench_stamp_instrument BEFORE INSERT OR UPDATE ON instrument_bars FOR EACH ROW EXECUTE FUNCTION bench_stamp_write();`);
  } finally {
    await db.close();
  }
}

type BarLag = { bucket: number; lastWriteMs: number; rows: number };

/**
 * Bar rows of 1-minute buckets in [fromMs, toMs): bucket -> last write (on the shifted clock), rows.
 * `stampOffsetMs` turns the database's clock_timestamp() into the shifted clock: CLOCK_OFFSET_MS when the database
 * runs on the real clock (PostgreSQL; PGlite in this process), 0 when it already runs shifted (PGlite inside the
 * probed core child, whose Date.now is shifted).
 */
async function queryBarLags(db: MarketDb, fromMs: number, toMs: number, stampOffsetMs: number): Promise<BarLag[]> {
  const rows = await db.query<{ bucket: Date; last_write: Date; n: number }>(
    `SELECT bucket, max(updated_at) AS last_write, count(*)::int AS n FROM (
       SELECT bucket, updated_at FROM fo_strike_bars WHERE timeframe = 1 AND bucket >= $1 AND bucket < $2
       UNION ALL
       SELECT bucket, updated_at FROM instrument_bars WHERE timeframe = 1 AND bucket >= $1 AND bucket < $2) b
     GROUP BY bucket ORDER BY bucket`,
    [new Date(fromMs), new Date(toMs)],
  );
  return rows.map((r) => ({ bucket: r.bucket.getTime(), lastWriteMs: r.last_write.getTime() + stampOffsetMs, rows: Number(r.n) }));
}

// ---------------------------------------------------------------- the process that serves the window

interface IngestCounts {
  /** Ticks taken in by the console's ingestor (option + underlying). */
  ticks: number;
  parseErrors: number;
  mockSkipped: number;
  droppedBars: number;
  barsWritten: number;
  queueDepth: number;
  /** Whatever else the variant can see (the in-process console: all of IngestStats). */
  more?: Record<string, unknown>;
}

interface Measured {
  eldP50Ms: number;
  eldP99Ms: number;
  /** The raw sample p99 (interval included). */
  eldSampleP99Ms: number;
  eldMaxMs: number;
  /** CPU of the process serving the window. */
  cpuSeconds: number;
  /** CPU of the core's process when it is another one (the relay), else null. */
  coreCpuSeconds: number | null;
  wallSeconds: number;
  /** Share of the window the loop spent working (not waiting), 0-1. */
  eventLoopUtilization: number;
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
}

/** What the run needs of the console, whichever way it runs. */
interface WindowProcess {
  kind: 'relay' | 'in-process';
  base: string;
  token: string;
  ingest(): Promise<IngestCounts>;
  /** Bar rows of 1-minute buckets; may stop the console first (the relay's PGlite is inside the core). */
  barLags(fromMs: number, toMs: number): Promise<BarLag[]>;
  /** Starts the event-loop and CPU measurement of the process serving the window. */
  startMeasuring(): Promise<void>;
  stopMeasuring(): Promise<Measured>;
  stop(): Promise<void>;
}

/** The baseline: the console in this process, the window's server and the core on one thread. */
async function inProcessWindow(env: Record<string, string>): Promise<WindowProcess> {
  const app: RunningApp = await startApp(loadConfig({ env, argv: [] }), { env, clock: shiftedClock });
  const ingestor = app.context.ingestor;
  if (!ingestor) throw new Error('the console started without a tick ingestor (no feed?)');
  const market = app.context.market;
  if (!market) throw new Error('the console started without a market store');
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  let elu0 = performance.eventLoopUtilization();
  let gc = { count: 0, totalMs: 0, maxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  let stopped: Promise<void> | null = null;
  return {
    kind: 'in-process',
    base: app.url,
    token: app.apiToken,
    ingest: () => {
      const s = ingestor.stats();
      return Promise.resolve({
        ticks: s.optionTicks + s.underlyingTicks,
        parseErrors: s.parseErrors,
        mockSkipped: s.mockSkipped,
        droppedBars: s.droppedBars,
        barsWritten: s.barsWritten,
        queueDepth: s.queueDepth,
        more: { ...s },
      });
    },
    // The store is this process's: its clock_timestamp() is the real clock.
    barLags: (fromMs, toMs) => queryBarLags(market, fromMs, toMs, CLOCK_OFFSET_MS),
    startMeasuring() {
      eld.reset();
      eld.enable();
      gc = { count: 0, totalMs: 0, maxMs: 0 };
      gcObserver.observe({ entryTypes: ['gc'] });
      cpu0 = process.cpuUsage();
      t0 = performance.now();
      elu0 = performance.eventLoopUtilization();
      return Promise.resolve();
    },
    stopMeasuring() {
      eld.disable();
      gcObserver.disconnect();
      const cpu = process.cpuUsage(cpu0);
      return Promise.resolve({
        eldP50Ms: loopDelayMs(eld.percentile(50)),
        eldP99Ms: loopDelayMs(eld.percentile(99)),
        eldMaxMs: loopDelayMs(eld.max),
        eldSampleP99Ms: eld.percentile(99) / 1e6,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        coreCpuSeconds: null,
        wallSeconds: (performance.now() - t0) / 1000,
        eventLoopUtilization: performance.eventLoopUtilization(elu0).utilization,
        gcCount: gc.count,
        gcTotalMs: gc.totalMs,
        gcMaxMs: gc.maxMs,
      });
    },
    stop: () => (stopped ??= app.stop()),
  };
}

/** One sample per counter of a Prometheus text exposition (unlabelled series only). */
function promValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

type ProbeReport = Omit<Measured, 'coreCpuSeconds'>;

/** Asks a probed process (support/window-probe.mjs) for what it measured since the last ask, and to start over. */
function probeReporter(pid: number, reportFile: string, output: () => string): () => Promise<ProbeReport> {
  let seq = 0;
  return async () => {
    process.kill(pid, 'SIGUSR2');
    for (let i = 0; i < 100; i++) {
      if (existsSync(reportFile)) {
        const r = JSON.parse(readFileSync(reportFile, 'utf8')) as ProbeReport & { seq: number };
        if (r.seq > seq) {
          seq = r.seq;
          return r;
        }
      }
      await sleep(50);
    }
    throw new Error(`the probe in process ${pid} did not report (NODE_OPTIONS --import window-probe.mjs):\n${output()}`);
  };
}

const PROBE_URL = pathToFileURL(join(here, 'support/window-probe.mjs')).href;

/**
 * The idle control: a bare node process with only the probe in it, measured over the same window as the console.
 * Its event-loop delay is the machine's scheduling noise (2 shared cores): the floor under any process's figure.
 */
async function idleControl(dir: string): Promise<{ report: () => Promise<ProbeReport>; stop(): void }> {
  const reportFile = join(dir, 'idle-probe-report.json');
  const child = spawn(process.execPath, ['--import', PROBE_URL, '-e', 'setInterval(() => undefined, 1 << 30)'], {
    stdio: 'ignore',
    env: { ...process.env, PROBE_REPORT_FILE: reportFile },
  });
  // The probe writes report 0 once its SIGUSR2 handler is in place (before that, the signal would end the process).
  for (let i = 0; !existsSync(reportFile); i++) {
    if (i >= 200 || child.exitCode !== null) throw new Error('the idle control process did not start its probe');
    await sleep(50);
  }
  return { report: probeReporter(child.pid as number, reportFile, () => ''), stop: () => void child.kill('SIGTERM') };
}

/** The relay: the headless console from the build; the probe measures its parent, which serves the window. */
async function relayWindow(env: Record<string, string>, home: string): Promise<WindowProcess> {
  const reportFile = join(home, 'probe-report.json');
  const console_ = await spawnConsole({
    home,
    keepHome: true,
    env: {
      ...env,
      STRIKEDESK_LOG_LEVEL: 'warn',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PROBE_URL}`.trim(),
      PROBE_REPORT_FILE: reportFile,
      PROBE_CLOCK_OFFSET_MS: String(CLOCK_OFFSET_MS),
      // Diagnostics: the window process's CPU profile over the measured window (<prefix>.<n>.cpuprofile).
      ...(process.env.FULLLOAD_CPU_PROFILE ? { PROBE_CPU_PROFILE: process.env.FULLLOAD_CPU_PROFILE } : {}),
    },
  });
  const parentPid = console_.pid;
  const corePids = () => processTree(parentPid).filter((p) => p !== parentPid);
  const coreCpu = () => corePids().reduce((sum, p) => sum + procCpuSeconds(p), 0);
  const report = probeReporter(parentPid, reportFile, () => console_.output().slice(-2000));
  let core0 = 0;
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= console_.stop());
  return {
    kind: 'relay',
    base: console_.base,
    token: console_.token,
    async ingest() {
      const res = await fetch(`${console_.base}/metrics`, { headers: { Authorization: `Bearer ${console_.token}` } });
      if (!res.ok) throw new Error(`/metrics: ${res.status}`);
      const text = await res.text();
      const v = (name: string) => promValue(text, name);
      return {
        ticks: v('strikedesk_ingest_ticks_total'),
        parseErrors: v('strikedesk_ingest_parse_errors_total'),
        mockSkipped: v('strikedesk_ingest_mock_ticks_skipped_total'),
        droppedBars: v('strikedesk_ingest_dropped_bars_total'),
        barsWritten: v('strikedesk_ingest_bars_written_total'),
        queueDepth: v('strikedesk_ingest_queue_depth'),
      };
    },
    async barLags(fromMs, toMs) {
      // PGlite is inside the core child while it runs: stop the console (its writer flushes) and open the store here.
      await stop();
      const db = await openStore(home);
      try {
        return await queryBarLags(db, fromMs, toMs, DATABASE_URL ? CLOCK_OFFSET_MS : 0);
      } finally {
        await db.close();
      }
    },
    async startMeasuring() {
      await report();
      core0 = coreCpu();
    },
    async stopMeasuring() {
      const coreCpuSeconds = coreCpu() - core0;
      const r = await report();
      return { ...r, coreCpuSeconds };
    },
    stop,
  };
}

/** The window's push stream (GET /api/events), read as the renderer's EventSource does: counts the events. */
function openPushStream(base: string, token: string): { events(): number; close(): void } {
  const abort = new AbortController();
  let events = 0;
  void (async () => {
    const res = await fetch(`${base}/api/events?token=${encodeURIComponent(token)}`, { signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`/api/events: ${res.status}`);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        if (buffered.startsWith('data:')) events++;
        buffered = buffered.slice(end + 2);
      }
    }
  })().catch(() => undefined);
  return { events: () => events, close: () => abort.abort() };
}

// ---------------------------------------------------------------- the ticker side

interface TickerSide {
  url: string;
  redisUrl: string;
  pid: number;
  sim(path: string, body?: unknown): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startTickerSide(): Promise<TickerSide> {
  const redis = await startRedisServer('fullload');
  const redisUrl = redis.url;
  const port = await freePort();
  const dt: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(here, 'support/devticker-process.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: join(here, '..'),
    env: {
      ...process.env,
      DEVTICKER_OFFSET_MS: String(CLOCK_OFFSET_MS),
      DEVTICKER_OPTIONS: JSON.stringify({
        profile: 'production',
        host: '127.0.0.1',
        port,
        clockMode: 'real',
        strikesPerSide: 200,
        instrumentsRoute: true,
        redisUrl,
        simToken: SIM_TOKEN,
      }),
    },
  });
  let out = '';
  dt.stdout?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  dt.stderr?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (
      await fetch(`${url}/health`, { headers: { Connection: 'close' } }).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline || dt.exitCode !== null) throw new Error(`devticker not ready:\n${out}`);
    await sleep(300);
  }
  return {
    url,
    redisUrl,
    pid: dt.pid as number,
    async sim(path, body) {
      const res = await fetch(`${url}/_sim/${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'X-Sim-Token': SIM_TOKEN, 'Content-Type': 'application/json', Connection: 'close' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`/_sim/${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    },
    async stop() {
      dt.kill('SIGTERM');
      await new Promise((r) => (dt.exitCode !== null ? r(null) : dt.once('exit', r)));
      await redis.stop();
    },
  };
}

/** The option legs of the devticker's registry, nearest expiries and strikes first (what an account subscribes). */
async function optionTokens(url: string, n: number): Promise<number[]> {
  // Connection: close: a kept-alive socket of this process's pool could be the one the console's start-up reuses just
  // as the devticker times it out (UND_ERR_SOCKET at the registry load).
  const csv = await (await fetch(`${url}/instruments`, { headers: { Connection: 'close' } })).text();
  const [head, ...lines] = csv.trim().split('\n');
  const cols = head.split(',');
  const at = (name: string) => cols.indexOf(name);
  const [tok, seg, exp] = [at('instrument_token'), at('segment'), at('expiry')];
  const legs = lines
    .map((l) => l.split(','))
    .filter((f) => f[seg] === 'NFO-OPT')
    .map((f) => ({ token: Number(f[tok]), expiry: f[exp] }));
  legs.sort((a, b) => a.expiry.localeCompare(b.expiry));
  if (legs.length < n) throw new Error(`the devticker lists ${legs.length} option legs, fewer than ${n}`);
  return legs.slice(0, n).map((l) => l.token);
}

// ---------------------------------------------------------------- the run

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

interface VariantResult {
  kind: WindowProcess['kind'];
  bootSeconds: number;
  m: Measured;
  /** The idle control process over the same window. */
  idle: ProbeReport;
  sent: number;
  taken: number;
  ticksPerSecond: number;
  dtCores: number;
  ingest: IngestCounts;
  lags: (BarLag & { lagMs: number })[];
  worstLag: number;
  chainMs: number[];
  chainLegs: number;
  chainLive: number;
  pushEvents: number;
}

async function runVariant(kind: WindowProcess['kind'], measureMs: number, ticker: TickerSide): Promise<VariantResult> {
  const home = mkdtempSync(join(tmpdir(), `sd-fullload-${kind}-`));
  let win: WindowProcess | null = null;
  const control = await idleControl(home);
  try {
    await prepareStore(home);
    const env: Record<string, string> = {
      STRIKEDESK_HOME: home,
      STRIKEDESK_PORT: '0',
      TICKER_URL: ticker.url,
      REDIS_URL: ticker.redisUrl,
      STRIKEDESK_INSTRUMENTS: `${ticker.url}/instruments`,
      STRIKEDESK_LOG_LEVEL: 'silent',
      ...(DATABASE_URL ? { DATABASE_URL } : {}),
    };
    const bootStarted = performance.now();
    win = kind === 'relay' ? await relayWindow(env, home) : await inProcessWindow(env);
    const w = win;
    const bootSeconds = (performance.now() - bootStarted) / 1000;
    console.log(`[${kind}] console ready in ${bootSeconds.toFixed(1)} s`);

    // The chain screen: NIFTY, 3 expiries x 21 strikes, asked every second, with the push stream open.
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${w.token}` };
    const underlyings = (await (await fetch(`${w.base}/api/chain:underlyings`, { method: 'POST', headers, body: '{}' })).json()) as {
      ok: boolean;
      value: { symbol: string; expiries: { expiry: string }[] }[];
    };
    const expiries =
      underlyings.value
        .find((u) => u.symbol === 'NIFTY')
        ?.expiries.slice(0, 3)
        .map((e) => e.expiry) ?? [];
    const push = openPushStream(w.base, w.token);
    let screen = true;
    const chainMs: number[] = [];
    let chainLegs = 0;
    let chainLive = 0;
    const chainLoop = (async () => {
      while (screen) {
        const t = performance.now();
        const res = await fetch(`${w.base}/api/chain:distribution`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ symbol: 'NIFTY', expiries, strikeRange: 10 }),
        }).catch(() => null);
        const body = res ? ((await res.json()) as { ok: boolean; value?: StrikeDistribution }) : null;
        chainMs.push(performance.now() - t);
        if (body?.ok && body.value) {
          chainLegs = body.value.series.reduce((n, s) => n + s.call.length + s.put.length, 0);
          chainLive = body.value.series.reduce((n, s) => n + [...s.call, ...s.put].filter((l) => l.ltp !== null).length, 0);
        }
        await sleep(Math.max(0, 1_000 - (performance.now() - t)));
      }
    })();

    await sleep(WARMUP_MS);
    chainMs.length = 0;
    // Counters read with the stream stalled and the console drained, so nothing is in flight between the two. The
    // relay's counters come from /metrics, which the ingestor updates every 250 ms: polled slower than that.
    const drained = async (): Promise<{ sent: number; taken: number }> => {
      await ticker.sim('faults', { stall: true });
      const sent = Number(((await ticker.sim('state')).counters as { ticksPublished: number }).ticksPublished);
      let taken = (await w.ingest()).ticks;
      for (let i = 0; i < 60; i++) {
        await sleep(500);
        const now = (await w.ingest()).ticks;
        if (now === taken) break;
        taken = now;
      }
      return { sent, taken };
    };
    const start = await drained();
    await ticker.sim('faults', { stall: false });
    const events0 = push.events();
    const dtCpu0 = procCpuSeconds(ticker.pid);
    const measureFrom = shiftedClock.now();
    await control.report();
    await w.startMeasuring();
    let lastLog = performance.now();
    const started = performance.now();
    while (performance.now() - started < measureMs) {
      await sleep(Math.min(5_000, measureMs - (performance.now() - started)));
      if (performance.now() - lastLog >= 60_000) {
        lastLog = performance.now();
        const s = await w.ingest();
        console.log(
          `  [${kind}] ${((lastLog - started) / 1000).toFixed(0)} s: ${s.ticks - start.taken} ticks in, queue ${s.queueDepth}, dropped bars ${s.droppedBars}, chain ${chainLive}/${chainLegs} legs priced`,
        );
      }
    }
    const m = await w.stopMeasuring();
    const idle = await control.report();
    const measureTo = shiftedClock.now();
    const inAtEnd = (await w.ingest()).ticks;
    const pushEvents = push.events() - events0;
    const dtCpu = procCpuSeconds(ticker.pid) - dtCpu0;
    // Stop the stream, let the console drain what is in flight, then compare the counts.
    const end = await drained();
    screen = false;
    await chainLoop;
    push.close();
    const ingest = await w.ingest();
    await ticker.sim('faults', { stall: false });

    // Minutes that closed inside the measured window, with 5 s for their last write to land.
    const firstBucket = Math.ceil(measureFrom / 60_000) * 60_000;
    const lastBucketEnd = Math.floor((measureTo - 5_000) / 60_000) * 60_000;
    const lags = (await w.barLags(firstBucket, lastBucketEnd - 60_000 + 1)).map((b) => ({ ...b, lagMs: b.lastWriteMs - (b.bucket + 60_000) }));
    return {
      kind,
      bootSeconds,
      m,
      idle,
      sent: end.sent - start.sent,
      taken: end.taken - start.taken,
      ticksPerSecond: (inAtEnd - start.taken) / m.wallSeconds,
      dtCores: dtCpu / m.wallSeconds,
      ingest,
      lags,
      worstLag: lags.length ? Math.max(...lags.map((l) => l.lagMs)) : NaN,
      chainMs,
      chainLegs,
      chainLive,
      pushEvents,
    };
  } finally {
    control.stop();
    await win?.stop().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

/** % of one core per 1000 ticks/s. */
const per1000 = (cpuSeconds: number, r: VariantResult) => ((cpuSeconds / r.m.wallSeconds) * 100) / (r.ticksPerSecond / 1000);

function describe(r: VariantResult, idleP99: number): void {
  const { m } = r;
  const where = r.kind === 'relay' ? 'relay front (parent process)' : "the console's own process (window server + core)";
  console.log(`\n[${r.kind}] measured ${m.wallSeconds.toFixed(0)} s`);
  console.log(`  ticks: devticker published ${r.sent}, console took in ${r.taken}; dropped ${r.sent - r.taken}`);
  console.log(
    `  ingest: ${JSON.stringify(r.ingest.more ? { parseErrors: r.ingest.more.parseErrors, mockSkipped: r.ingest.more.mockSkipped, outsideSession: r.ingest.more.outsideSession, lateDropped: r.ingest.more.lateDropped, droppedBars: r.ingest.more.droppedBars, barsWritten: r.ingest.more.barsWritten, writeFailures: r.ingest.more.writeFailures, instruments: r.ingest.more.instruments, lastFlushLatencyMs: r.ingest.more.lastFlushLatencyMs } : { parseErrors: r.ingest.parseErrors, mockSkipped: r.ingest.mockSkipped, droppedBars: r.ingest.droppedBars, barsWritten: r.ingest.barsWritten, queueDepth: r.ingest.queueDepth })}`,
  );
  console.log(
    `  bars: ${r.lags.length} minutes closed in the window; per minute last write after the minute's end (ms): ${r.lags.map((l) => `${new Date(l.bucket).toISOString().slice(11, 16)} ${l.lagMs} (${l.rows} rows)`).join(', ')}`,
  );
  console.log(
    `  event-loop delay in the process serving the window (${where}): p50 ${m.eldP50Ms.toFixed(2)} ms, p99 ${m.eldP99Ms.toFixed(2)} ms, max ${m.eldMaxMs.toFixed(1)} ms (how late the ${ELD_RESOLUTION_MS} ms sampling timer fired; the raw samples, interval included, p99 ${m.eldSampleP99Ms.toFixed(2)} ms)`,
  );
  console.log(
    `    the loop busy ${(m.eventLoopUtilization * 100).toFixed(1)}% of the window; GC ${m.gcCount} pauses, ${m.gcTotalMs.toFixed(0)} ms in all, longest ${m.gcMaxMs.toFixed(1)} ms`,
  );
  console.log(
    `    idle control process over the same window: p50 ${r.idle.eldP50Ms.toFixed(2)} ms, p99 ${r.idle.eldP99Ms.toFixed(2)} ms, max ${r.idle.eldMaxMs.toFixed(1)} ms (window process p99 x${(m.eldP99Ms / r.idle.eldP99Ms).toFixed(2)} of it); this process idle before the run: p99 ${idleP99.toFixed(2)} ms`,
  );
  const windowCores = m.cpuSeconds / m.wallSeconds;
  const cpuLine = `  CPU at ${r.ticksPerSecond.toFixed(0)} ticks/s: window process ${(windowCores * 100).toFixed(1)}% of a core = ${per1000(m.cpuSeconds, r).toFixed(1)}% per 1000 ticks/s`;
  const coreLine =
    m.coreCpuSeconds === null
      ? ' (the core is the same process)'
      : `; core process ${((m.coreCpuSeconds / m.wallSeconds) * 100).toFixed(1)}% = ${per1000(m.coreCpuSeconds, r).toFixed(1)}% per 1000 ticks/s`;
  console.log(`${cpuLine}${coreLine}; the devticker producing them ${(r.dtCores * 100).toFixed(1)}%`);
  console.log(
    `  chain screen: ${r.chainLegs} legs (${r.chainLive} priced), answer p50 ${percentile(r.chainMs, 50).toFixed(1)} ms, p95 ${percentile(r.chainMs, 95).toFixed(1)} ms over ${r.chainMs.length} asks; ${r.pushEvents} push events on /api/events`,
  );
}

setRootLogger(silentLogger);
console.log(
  `bench:fullload: ${INSTRUMENTS} instruments, devticker production profile (own process, Redis), console in ${DATABASE_URL ? 'PostgreSQL' : 'PGlite'}; warm-up ${WARMUP_MS / 1000} s, measured ${MEASURE_MS / 1000} s (relay)${BASELINE_MS > 0 ? ` and ${BASELINE_MS / 1000} s (in-process baseline)` : ''}`,
);
console.log('  (2 shared cores, other agents running: figures are noisy)');

// Baseline: this process's event-loop delay with nothing running, over 5 s.
const idle = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
idle.enable();
await sleep(5_000);
idle.disable();
const idleP99 = loopDelayMs(idle.percentile(99));

const ticker = await startTickerSide();
const targets = new Targets();
try {
  const tokens = await optionTokens(ticker.url, INSTRUMENTS);
  const pre = await ticker.sim('subscribe', { tokens });
  const subscribed = Number(pre.subscribed);
  console.log(`preloaded ${subscribed} subscriptions through /_sim/subscribe (${(pre.missing as unknown[]).length} missing)`);

  const baseline = BASELINE_MS > 0 ? await runVariant('in-process', BASELINE_MS, ticker) : null;
  const relay = await runVariant('relay', MEASURE_MS, ticker);
  if (baseline) describe(baseline, idleP99);
  describe(relay, idleP99);
  if (baseline) {
    console.log(
      `\nwindow process event-loop delay p99, relay vs in-process: ${relay.m.eldP99Ms.toFixed(2)} ms vs ${baseline.m.eldP99Ms.toFixed(2)} ms (x${(relay.m.eldP99Ms / baseline.m.eldP99Ms).toFixed(3)})`,
    );
    const relayTotal = relay.m.cpuSeconds + (relay.m.coreCpuSeconds ?? 0);
    console.log(
      `CPU per 1000 ticks/s, relay (window + core) vs in-process: ${per1000(relayTotal, relay).toFixed(1)}% vs ${per1000(baseline.m.cpuSeconds, baseline).toFixed(1)}% (x${(per1000(relayTotal, relay) / per1000(baseline.m.cpuSeconds, baseline)).toFixed(2)})`,
    );
  }
  console.log('');
  targets.atLeast('fullload instruments streaming', subscribed, INSTRUMENTS);
  targets.equals('fullload dropped ticks', relay.sent - relay.taken, 0);
  targets.equals('fullload dropped bars', relay.ingest.droppedBars, 0);
  if (relay.lags.length) targets.atMost('fullload worst bar lag after its minute', relay.worstLag, BAR_LAG_TARGET_MS, ' ms');
  else
    targets.notMeasured(
      'fullload worst bar lag after its minute',
      'no minute closed inside the window (FULLLOAD_SECONDS too short)',
      `<= ${BAR_LAG_TARGET_MS} ms`,
    );
  targets.below('fullload event-loop delay p99 (process serving the window)', Number(relay.m.eldP99Ms.toFixed(2)), ELD_P99_TARGET_MS, ' ms', 2);
  targets.print();
  // The control is a process doing nothing: when even it misses the target, the machine's scheduling decides the
  // verdict, not the console (rerun on a quieter machine).
  if (relay.idle.eldP99Ms >= ELD_P99_TARGET_MS)
    console.log(
      `note: the idle control process's own p99 was ${relay.idle.eldP99Ms.toFixed(2)} ms over the same window (>= ${ELD_P99_TARGET_MS} ms): the event-loop target is not decidable on this machine right now`,
    );
} finally {
  await ticker.stop();
}
process.exit(0);
