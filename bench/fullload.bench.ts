// bench:fullload: the whole system at the Kite account's full 9000 instruments.
//
// A devticker in its own process (the CLI, production profile, market always open, 200 strikes a side so the registry
// holds 9000+ option legs) publishes ticks on a Redis of its own, as the real ticker service does. The 9000
// subscriptions are PRELOADED through the devticker's /_sim/subscribe (its bench hook: the subscription rows are made
// directly, as after a restart with a state file), because subscribing 9000 tokens through the ticker's real limits
// (30 POSTs a minute) would take hours; the console's own subscription path is bench:subscribe's business.
// The console (embedded defaults except the ticker: PGlite market store, SQLite state) reads the ticks from Redis,
// aggregates them into 1-minute bars and serves a chain screen: a 126-leg NIFTY chain asked every second through the
// ConsoleApi over HTTP, as the window does.
//
// Measured over FULLLOAD_SECONDS after a warm-up:
//   dropped ticks        ticks the devticker published (its counter) minus ticks the console's ingestor took in;
//                        at the end the stream is stalled (/_sim/faults) and the console drained before comparing
//   bar lag              per minute closed in the window: the last write of any of its 1-minute bars (a bench-only
//                        trigger stamps updated_at = clock_timestamp() on every write) minus the minute's end
//   event-loop delay     perf_hooks.monitorEventLoopDelay in the process that serves the window (see windowProcess)
//   CPU                  process.cpuUsage() of that process, per 1000 ticks/s taken in
// Baselines in the same run: the same process's event-loop delay before the console starts (idle), and the
// devticker's CPU (from /proc) for producing the same ticks.
//
//   npm run bench:fullload        FULLLOAD_SECONDS=300  WARMUP_SECONDS=30  INSTRUMENTS=9000
//   DATABASE_URL=postgres://...   the console's market store on that PostgreSQL instead of PGlite
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startApp, type RunningApp } from '../src/main/app/app';
import { fromIstWallClock } from '../src/main/calendar';
import { loadConfig } from '../src/main/config/load';
import { setRootLogger, silentLogger } from '../src/main/log';
import type { StrikeDistribution } from '../src/shared/api';
import { Targets } from './targets';

const MEASURE_MS = Number(process.env.FULLLOAD_SECONDS ?? 300) * 1000;
const WARMUP_MS = Number(process.env.WARMUP_SECONDS ?? 30) * 1000;
const INSTRUMENTS = Number(process.env.INSTRUMENTS ?? 9000);
const SIM_TOKEN = 'fullload-bench-sim-token-0123456789';
const BAR_LAG_TARGET_MS = 3_000;
// Both the devticker and the console run on a clock shifted into a trading session (a Wednesday, 10:00 IST on), so a
// run at any hour streams and stores a session's ticks; bar lags are measured on the same shifted clock.
const SESSION_START = fromIstWallClock('2025-11-12T10:00:00');
const CLOCK_OFFSET_MS = SESSION_START - Date.now();
const shiftedClock = { now: () => Date.now() + CLOCK_OFFSET_MS };
const ELD_P99_TARGET_MS = 20;
const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

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

// ---------------------------------------------------------------- the process that serves the window

/**
 * What the bench measures in "the process that serves the window": its event-loop delay and its CPU.
 *
 * TODAY (no relay yet): the console runs in this process (startApp), so the window's server IS this process, and it
 * is measured with perf_hooks and process.cpuUsage here.
 *
 * ONCE THE RELAY LANDS (src/main/relay/, the core in a child process behind the headless parent): replace this one
 * function with one that spawns the headless console from the build (bench/support/console-process.ts spawnConsole)
 * with `NODE_OPTIONS=--import <a probe module>` whose monitorEventLoopDelay + process.cpuUsage() run in the PARENT
 * (the relay, which serves the window) and report on a signal or an IPC message; take the core child's CPU from
 * /proc (bench/support/console-process.ts processTree) to report both. The rest of the bench talks to the console only
 * through `WindowProcess`: its HTTP base + token, the ingest counters (today read in process; through the relay, read
 * from /metrics' strikedesk ingest counters or an ingest:stats API channel) and the market store URL for the bar rows.
 */
interface WindowProcess {
  base: string;
  token: string;
  /** Ticks taken in by the console's ingestor so far (option + underlying). */
  ticksIn(): number;
  ingestStats(): Record<string, unknown>;
  /** Bar rows of 1-minute buckets: bucket -> last write, complete rows. */
  barLags(fromMs: number, toMs: number): Promise<{ bucket: number; lastWriteMs: number; rows: number }[]>;
  /** Starts the event-loop and CPU measurement of the process serving the window. */
  startMeasuring(): void;
  stopMeasuring(): { eldP50Ms: number; eldP99Ms: number; eldMaxMs: number; cpuSeconds: number; wallSeconds: number };
  stop(): Promise<void>;
}

async function windowProcess(env: Record<string, string>): Promise<WindowProcess> {
  const app: RunningApp = await startApp(loadConfig({ env, argv: [] }), { env, clock: shiftedClock });
  const ingestor = app.context.ingestor;
  if (!ingestor) throw new Error('the console started without a tick ingestor (no feed?)');
  const market = app.context.market;
  if (!market) throw new Error('the console started without a market store');
  // Bench only: stamp every write of a 1-minute bar with the moment it happened (the column's default stamps the
  // first insert only), so the last write of a minute's bars is in the rows.
  await market.exec(`
    CREATE OR REPLACE FUNCTION bench_stamp_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.timeframe = 1 THEN NEW.updated_at := clock_timestamp(); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER bench_stamp_strike BEFORE INSERT OR UPDATE ON fo_strike_bars FOR EACH ROW EXECUTE FUNCTION bench_stamp_write();
    CREATE TRIGGER bench_stamp_instrument BEFORE INSERT OR UPDATE ON instrument_bars FOR EACH ROW EXECUTE FUNCTION bench_stamp_write();`);
  const eld = monitorEventLoopDelay({ resolution: 10 });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  return {
    base: app.url,
    token: app.apiToken,
    ticksIn: () => {
      const s = ingestor.stats();
      return s.optionTicks + s.underlyingTicks;
    },
    ingestStats: () => ({ ...ingestor.stats() }),
    async barLags(fromMs, toMs) {
      const rows = await market.query<{ bucket: Date; last_write: Date; n: number }>(
        `SELECT bucket, max(updated_at) AS last_write, count(*)::int AS n FROM (
           SELECT bucket, updated_at FROM fo_strike_bars WHERE timeframe = 1 AND bucket >= $1 AND bucket < $2
           UNION ALL
           SELECT bucket, updated_at FROM instrument_bars WHERE timeframe = 1 AND bucket >= $1 AND bucket < $2) b
         GROUP BY bucket ORDER BY bucket`,
        [new Date(fromMs), new Date(toMs)],
      );
      // updated_at is the database's real clock; buckets are on the shifted clock.
      return rows.map((r) => ({ bucket: r.bucket.getTime(), lastWriteMs: r.last_write.getTime() + CLOCK_OFFSET_MS, rows: Number(r.n) }));
    },
    startMeasuring() {
      eld.reset();
      eld.enable();
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    },
    stopMeasuring() {
      eld.disable();
      const cpu = process.cpuUsage(cpu0);
      return {
        eldP50Ms: eld.percentile(50) / 1e6,
        eldP99Ms: eld.percentile(99) / 1e6,
        eldMaxMs: eld.max / 1e6,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        wallSeconds: (performance.now() - t0) / 1000,
      };
    },
    stop: () => app.stop(),
  };
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
  const redisPort = await freePort();
  const redisDir = mkdtempSync(join(tmpdir(), 'sd-fullload-redis-'));
  const redis: ChildProcess = spawn('/usr/bin/redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], { stdio: 'ignore' });
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const port = await freePort();
  const dt: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(here, 'support/devticker-process.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: join(here, '..'),
    env: {
      ...process.env,
      DEVTICKER_OFFSET_MS: String(CLOCK_OFFSET_MS),
      DEVTICKER_OPTIONS: JSON.stringify({ profile: 'production', host: '127.0.0.1', port, clockMode: 'real', strikesPerSide: 200, instrumentsRoute: true, redisUrl, simToken: SIM_TOKEN }),
    },
  });
  let out = '';
  dt.stdout?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  dt.stderr?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (await fetch(`${url}/health`, { headers: { Connection: 'close' } }).then((r) => r.ok, () => false)) break;
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
      redis.kill('SIGTERM');
      await Promise.all([new Promise((r) => (dt.exitCode !== null ? r(null) : dt.once('exit', r))), new Promise((r) => (redis.exitCode !== null ? r(null) : redis.once('exit', r)))]);
      rmSync(redisDir, { recursive: true, force: true });
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
  const legs = lines.map((l) => l.split(',')).filter((f) => f[seg] === 'NFO-OPT').map((f) => ({ token: Number(f[tok]), expiry: f[exp] }));
  legs.sort((a, b) => a.expiry.localeCompare(b.expiry));
  if (legs.length < n) throw new Error(`the devticker lists ${legs.length} option legs, fewer than ${n}`);
  return legs.slice(0, n).map((l) => l.token);
}

// ---------------------------------------------------------------- the run

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

setRootLogger(silentLogger);
console.log(`bench:fullload: ${INSTRUMENTS} instruments, devticker production profile (own process, Redis), console in ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}; warm-up ${WARMUP_MS / 1000} s, measured ${MEASURE_MS / 1000} s`);
console.log('  (2 shared cores, other agents running: figures are noisy)');

// Baseline: this process's event-loop delay with nothing running, over 5 s.
const idle = monitorEventLoopDelay({ resolution: 10 });
idle.enable();
await sleep(5_000);
idle.disable();
const idleP99 = idle.percentile(99) / 1e6;

const ticker = await startTickerSide();
const home = mkdtempSync(join(tmpdir(), 'sd-fullload-'));
let win: WindowProcess | null = null;
const targets = new Targets();
try {
  const tokens = await optionTokens(ticker.url, INSTRUMENTS);
  const pre = await ticker.sim('subscribe', { tokens });
  console.log(`preloaded ${String(pre.subscribed)} subscriptions through /_sim/subscribe (${(pre.missing as unknown[]).length} missing)`);
  const env: Record<string, string> = {
    STRIKEDESK_HOME: home,
    STRIKEDESK_PORT: '0',
    TICKER_URL: ticker.url,
    REDIS_URL: ticker.redisUrl,
    STRIKEDESK_INSTRUMENTS: `${ticker.url}/instruments`,
    STRIKEDESK_LOG_LEVEL: 'silent',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  };
  const bootStarted = performance.now();
  win = await windowProcess(env);
  const w = win;
  console.log(`console ready in ${((performance.now() - bootStarted) / 1000).toFixed(1)} s`);

  // The chain screen: NIFTY, 3 expiries x 21 strikes, asked every second (the window re-reads on each push).
  const underlyings = (await (await fetch(`${w.base}/api/chain:underlyings`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${w.token}` }, body: '{}' })).json()) as { ok: boolean; value: { symbol: string; expiries: { expiry: string }[] }[] };
  const expiries = underlyings.value.find((u) => u.symbol === 'NIFTY')?.expiries.slice(0, 3).map((e) => e.expiry) ?? [];
  let screen = true;
  const chainMs: number[] = [];
  let chainLegs = 0;
  let chainLive = 0;
  const chainLoop = (async () => {
    while (screen) {
      const t = performance.now();
      const res = await fetch(`${w.base}/api/chain:distribution`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${w.token}` },
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
  // Counters read with the stream stalled and the console drained, so nothing is in flight between the two.
  const drained = async (): Promise<{ sent: number; taken: number }> => {
    await ticker.sim('faults', { stall: true });
    const sent = Number(((await ticker.sim('state')).counters as { ticksPublished: number }).ticksPublished);
    let taken = w.ticksIn();
    for (let i = 0; i < 100; i++) {
      await sleep(200);
      const now = w.ticksIn();
      if (now === taken) break;
      taken = now;
    }
    return { sent, taken: w.ticksIn() };
  };
  const start = await drained();
  await ticker.sim('faults', { stall: false });
  const sent0 = start.sent;
  const in0 = start.taken;
  const dtCpu0 = procCpuSeconds(ticker.pid);
  const measureFrom = shiftedClock.now();
  w.startMeasuring();
  let lastLog = performance.now();
  const started = performance.now();
  while (performance.now() - started < MEASURE_MS) {
    await sleep(Math.min(5_000, MEASURE_MS - (performance.now() - started)));
    if (performance.now() - lastLog >= 60_000) {
      lastLog = performance.now();
      const s = w.ingestStats();
      console.log(`  ${((lastLog - started) / 1000).toFixed(0)} s: ${w.ticksIn() - in0} ticks in, queue ${String(s.queueDepth)}/${String(s.queueCapacity)}, dropped bars ${String(s.droppedBars)}, chain ${chainLive}/${chainLegs} legs priced`);
    }
  }
  const m = w.stopMeasuring();
  const measureTo = shiftedClock.now();
  const inAtEnd = w.ticksIn();
  const dtCpu = procCpuSeconds(ticker.pid) - dtCpu0;
  // Stop the stream, let the console drain what is in flight, then compare the counts.
  const end = await drained();
  const sent1 = end.sent;
  const in1 = end.taken;
  screen = false;
  await chainLoop;
  const sent = sent1 - sent0;
  const taken = in1 - in0;
  const ticksPerSecond = (inAtEnd - in0) / m.wallSeconds;
  const coresUsed = m.cpuSeconds / m.wallSeconds;
  const cpuPer1000 = (coresUsed * 100) / (ticksPerSecond / 1000);
  const dtCores = dtCpu / m.wallSeconds;
  const stats = w.ingestStats();

  // Minutes that closed inside the measured window, with 5 s for their last write to land.
  const firstBucket = Math.ceil(measureFrom / 60_000) * 60_000;
  const lastBucketEnd = Math.floor((measureTo - 5_000) / 60_000) * 60_000;
  const lags = (await w.barLags(firstBucket, lastBucketEnd - 60_000 + 1)).map((b) => ({ ...b, lagMs: b.lastWriteMs - (b.bucket + 60_000) }));
  const worstLag = lags.length ? Math.max(...lags.map((l) => l.lagMs)) : NaN;

  console.log(`\nticks: devticker published ${sent} (${(sent / m.wallSeconds).toFixed(0)}/s over the window + drain), console took in ${taken}; dropped ${sent - taken}`);
  console.log(`ingest: ${JSON.stringify({ parseErrors: stats.parseErrors, mockSkipped: stats.mockSkipped, outsideSession: stats.outsideSession, lateDropped: stats.lateDropped, droppedBars: stats.droppedBars, barsWritten: stats.barsWritten, writeFailures: stats.writeFailures, instruments: stats.instruments, lastFlushLatencyMs: stats.lastFlushLatencyMs })}`);
  console.log(`bars: ${lags.length} minutes closed in the window; per minute last write after the minute's end (ms): ${lags.map((l) => `${new Date(l.bucket).toISOString().slice(11, 16)} ${l.lagMs} (${l.rows} rows)`).join(', ')}`);
  console.log(`event-loop delay in the process serving the window (today: the console's own process): p50 ${m.eldP50Ms.toFixed(2)} ms, p99 ${m.eldP99Ms.toFixed(2)} ms, max ${m.eldMaxMs.toFixed(1)} ms; idle baseline p99 ${idleP99.toFixed(2)} ms (x${(m.eldP99Ms / idleP99).toFixed(1)})`);
  console.log(`CPU: ${(coresUsed * 100).toFixed(1)}% of one core at ${ticksPerSecond.toFixed(0)} ticks/s = ${cpuPer1000.toFixed(1)}% of a core per 1000 ticks/s; the devticker producing them ${(dtCores * 100).toFixed(1)}% (console/devticker x${(coresUsed / dtCores).toFixed(2)})`);
  console.log(`chain screen: ${chainLegs} legs (${chainLive} priced), answer p50 ${percentile(chainMs, 50).toFixed(1)} ms, p95 ${percentile(chainMs, 95).toFixed(1)} ms over ${chainMs.length} asks`);
  console.log('');
  targets.atLeast('fullload instruments streaming', Number(pre.subscribed), INSTRUMENTS);
  targets.equals('fullload dropped ticks', sent - taken, 0);
  targets.equals('fullload dropped bars', Number(stats.droppedBars), 0);
  if (lags.length) targets.atMost('fullload worst bar lag after its minute', worstLag, BAR_LAG_TARGET_MS, ' ms');
  else targets.notMeasured('fullload worst bar lag after its minute', 'no minute closed inside the window (FULLLOAD_SECONDS too short)', `<= ${BAR_LAG_TARGET_MS} ms`);
  targets.below('fullload event-loop delay p99 (process serving the window)', Number(m.eldP99Ms.toFixed(2)), ELD_P99_TARGET_MS, ' ms', 2);
  targets.print();
} finally {
  await win?.stop().catch(() => undefined);
  await ticker.stop();
  rmSync(home, { recursive: true, force: true });
}
process.exit(0);
