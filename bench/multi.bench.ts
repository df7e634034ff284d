// bench:multi — several consoles, one budget. Three complete consoles (startApp, each with its own home directory)
// share one throwaway PostgreSQL 15, one Redis (ticks and events, REDIS_URL) and one devticker over real HTTP. Each console reaches the devticker through a
// recording proxy of its own, which logs every request (console, method, route, arrival time, status): the
// devticker's own sim counters keep timestamps for /history only, and per console is what the duplicate check needs.
// The proxies run in a child process of their own (support/recording-proxy.ts), so an arrival is stamped when it
// reaches them, not when the consoles' shared event loop in this process gets round to it.
//
// Load, from all three at once, for PHASE_SECONDS: an open chain screen (GET /fo/strike-distribution every 5 s, a
// different underlying per console, so each one needs its own POSTs), an immediate backfill of a wide chain of its
// own underlying, and an immediate backfill of one NIFTY chain asked by all three (claims keep it from being fetched
// twice). Then a scheduled cycle is started on all three at the same moment (the leader lock).
//
// Two phases in the same run, each with a fresh database and a fresh devticker:
//   shared    budgets shared through ticker_rate_budget (what a console on DATABASE_URL does now)
//   baseline  the old behaviour, each console its own limiter: the budget table is dropped after start-up, so every
//             console falls back to its local limiter (the same code path a console uses when the store fails)
//
//   npm run bench:multi                PHASE_SECONDS=75  STRIKE_RANGE=4 (chain screen)  BACKFILL_RANGE=10
//                                      (builds first: the killed console runs from out/; KILL=0 skips that part)
//   PHASES=shared or PHASES=baseline   run one phase;  DUMP=/tmp/x  writes each phase's request log to /tmp/x.<phase>.json
//
// In the shared phase a fourth console runs as a CHILD PROCESS from the build (out/main/headless.js, same PostgreSQL,
// its own recording proxy): it starts a manual MIDCPNIFTY chain backfill, is SIGKILLed once some of the job's requests
// are done, and a console started again on its home (a new process: a new job owner) must finish that job: the
// job ends done, owned by the new process (owner and lease in its jobs table, state.db), every chunk settled.
//
// Targets: max /history requests in any 1 s window <= 3; max POST /subscriptions in any 60 s window <= 30; duplicate
// history fetches (a token fetched by two consoles) = 0; duplicate backfill jobs = 0 (counted in the three consoles'
// jobs tables: a token whose history chunks sit in jobs of two consoles); scheduled-cycle leaders = 1; the killed
// console's job done under another owner.
import { execFile, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDevTicker, type DevTicker } from '../src/devticker/index';
import { startApp, type RunningApp } from '../src/main/app/app';
import { loadConfig } from '../src/main/config/load';
import { setRootLogger, silentLogger } from '../src/main/log';
import { openMarketDb } from '../src/main/market/db';
import { migrateMarket } from '../src/main/market/migrate';
import pg from 'pg';
import { PostgresBudget } from '../src/main/ticker/shared-budget';
import Database from 'better-sqlite3';
import { spawnConsole, valueOf, type ConsoleProcess } from './support/console-process';
import { startRedisServer } from './support/redis-server';
import type { Arrival, ProxyAnswer, ProxyRequest } from './support/recording-proxy';
import { Targets } from './targets';
import { freePort } from './support/free-port';

const PHASE_MS = Number(process.env.PHASE_SECONDS ?? 75) * 1000;
const STRIKE_RANGE = Number(process.env.STRIKE_RANGE ?? 4);
const BACKFILL_RANGE = Number(process.env.BACKFILL_RANGE ?? 10);
const PHASES = (process.env.PHASES ?? 'shared,baseline').split(',');
const SYMBOLS = ['NIFTY', 'BANKNIFTY', 'FINNIFTY'];
const CHAIN_POLL_MS = 5_000;
const KILL = process.env.KILL !== '0';
const KILL_SYMBOL = 'MIDCPNIFTY';
const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The recording proxies, one per console, in a child process (support/recording-proxy.ts: the wire stamp must not
 * share the judged consoles' event loop).
 */
async function recordingProxies(target: string, count: number): Promise<{ urls: string[]; clear(): Promise<void>; dump(): Promise<Arrival[]>; close(): void }> {
  const child = fork(join(HERE, 'support', 'recording-proxy.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T extends ProxyAnswer['type']>(type: T): Promise<Extract<ProxyAnswer, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: ProxyAnswer) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Extract<ProxyAnswer, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`the recording proxies exited (${code}) before answering '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ask = <T extends ProxyAnswer['type']>(request: ProxyRequest, type: T) => {
    const answer = next(type);
    child.send(request);
    return answer;
  };
  const { urls } = await ask({ type: 'start', target, count }, 'ready');
  return {
    urls,
    clear: async () => void (await ask({ type: 'clear' }, 'cleared')),
    dump: async () => (await ask({ type: 'dump' }, 'log')).entries,
    close: () => void child.kill('SIGTERM'),
  };
}

interface BudgetChange {
  bucket: string;
  old_grants: (number | string)[] | null;
  new_grants: (number | string)[];
  at: number;
}

/**
 * The grants the store made, from its change log: every time that entered a budget's array, less those taken out
 * while still inside the window (a refund, or a restamp that moved the grant to a later time, which entered too).
 * Times leaving at the window's end are pruning, not refunds.
 */
function grantsFromChanges(changes: BudgetChange[]): { bucket: string; at: number }[] {
  const windowOf = (bucket: string) => (bucket.endsWith('|history') ? 1_000 : 60_000);
  const out: { bucket: string; at: number }[] = [];
  const cancelled: { bucket: string; at: number }[] = [];
  for (const c of changes) {
    const before = (c.old_grants ?? []).map(Number);
    const after = c.new_grants.map(Number);
    const rest = [...after];
    for (const g of before) {
      const i = rest.indexOf(g);
      if (i >= 0) rest.splice(i, 1);
      else if (Number(c.at) - g < windowOf(c.bucket)) cancelled.push({ bucket: c.bucket, at: g });
    }
    for (const g of rest) out.push({ bucket: c.bucket, at: g });
  }
  for (const x of cancelled) {
    const i = out.findIndex((g) => g.bucket === x.bucket && g.at === x.at);
    if (i >= 0) out.splice(i, 1);
  }
  return out;
}

/** The most entries in any window [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface TestPostgres {
  database(): Promise<string>;
  stop(): Promise<void>;
}

/** DATABASE_URL's server when set, else a throwaway PostgreSQL 15 (scripts/throwaway-postgres.sh) on a free port. */
async function startPostgres(): Promise<TestPostgres> {
  const run = promisify(execFile);
  const script = join(dirname(fileURLToPath(import.meta.url)), '../scripts/throwaway-postgres.sh');
  let admin = process.env.DATABASE_URL;
  let dir: string | null = null;
  if (!admin) {
    dir = mkdtempSync(join(tmpdir(), 'sd-multi-pg-'));
    const port = await freePort();
    admin = (await run('bash', [script, 'start', dir, String(port)], { timeout: 60_000 })).stdout.trim();
  }
  const adminUrl = admin;
  const created: string[] = [];
  const sql = async (text: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  return {
    async database() {
      const name = `sdmulti_${randomBytes(5).toString('hex')}`;
      await sql(`CREATE DATABASE ${name}`);
      created.push(name);
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async stop() {
      if (dir) {
        await run('bash', [script, 'stop', dir], { timeout: 60_000 }).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      } else {
        for (const name of created) await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PhaseResult {
  name: string;
  maxHistory1s: number;
  maxPost60s: number;
  historyCalls: number;
  historyTurnedAway: number;
  posts: number;
  posts429: number;
  postsAccepted: number;
  historyAnswered: number;
  deletes: number;
  duplicateFetches: number;
  /** Index tokens fetched by several consoles: each console reads the spot to centre a chain (planning, not backfill). */
  duplicateSpotReads: number;
  leaders: number;
  backfillDone: number;
  budgetModes: string[];
  /** Ticks each console took in from the Redis feed over the phase. */
  ticksIn: number[];
  devtickerMaxHistory1s: number;
  /** From the store's own grant log (shared phase): the most history grants in any 1 s, and POST grants in 60 s. */
  storeMaxHistory1s: number | null;
  storeMaxPost60s: number | null;
  /** Tokens whose history chunks sit in jobs of more than one console's jobs table, and the jobs holding them. */
  duplicateJobTokens: number;
  duplicateJobs: number;
  jobsCounted: number;
  killed: KillResult | null;
}

interface KillResult {
  jobId: number;
  /** requests done when the console was killed, of planned */
  doneAtKill: number;
  planned: number;
  ownerAtKill: string | null;
  finalOwner: string | null;
  finalState: string;
  chunksPending: number;
  chunksDone: number;
  restartMs: number;
  finishMs: number;
  error: string | null;
}

interface JobChunkRow {
  job_id: number;
  token: number;
  state: string;
  trigger: string;
}

/**
 * Duplicate backfill jobs across consoles, from their jobs tables: a token with history chunks (anything but
 * 'covered', which fetches nothing) in jobs of two consoles was planned twice. Returns the tokens and the jobs.
 */
function duplicateJobs(perConsole: JobChunkRow[][]): { tokens: number; jobs: number; counted: number } {
  const byToken = new Map<number, Set<string>>();
  let counted = 0;
  for (const [i, rows] of perConsole.entries()) {
    counted += new Set(rows.map((r) => r.job_id)).size;
    for (const r of rows) {
      if (r.state === 'covered') continue;
      (byToken.get(r.token) ?? byToken.set(r.token, new Set()).get(r.token))?.add(`${i}:${r.job_id}`);
    }
  }
  const dupTokens = [...byToken.values()].filter((jobs) => new Set([...jobs].map((j) => j.split(':')[0])).size > 1);
  const dupJobs = new Set(dupTokens.flatMap((jobs) => [...jobs]));
  return { tokens: dupTokens.length, jobs: dupJobs.size, counted };
}

function readJob(home: string, id: number): { state: string; owner: string | null; pending: number; done: number } | null {
  const db = new Database(join(home, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const job = db.prepare('SELECT state, owner FROM backfill_jobs WHERE id = ?').get(id) as { state: string; owner: string | null } | undefined;
    if (!job) return null;
    const c = db.prepare(`SELECT sum(state = 'pending') AS pending, sum(state <> 'pending') AS done FROM backfill_chunks WHERE job_id = ?`).get(id) as {
      pending: number | null;
      done: number | null;
    };
    return { state: job.state, owner: job.owner, pending: c.pending ?? 0, done: c.done ?? 0 };
  } finally {
    db.close();
  }
}

/**
 * KILL_HOOK: a console (child process) runs a manual chain backfill, is SIGKILLed mid-job, and a console started
 * again on its home finishes the job under a new owner (the job's lease, src/main/backfill/queue.ts).
 */
async function killedConsoleResumes(killable: ConsoleProcess, env: Record<string, string>): Promise<KillResult> {
  const t0 = Date.now();
  const job = valueOf(
    await killable.call('backfill:start', {
      scope: { kind: 'chain', symbol: KILL_SYMBOL, strikeRange: 5 },
      lookbackMinutes: 60,
      reason: 'bench:multi killed console',
    }),
    'backfill:start',
  );
  const result: KillResult = {
    jobId: job.id,
    doneAtKill: 0,
    planned: job.requestsPlanned,
    ownerAtKill: null,
    finalOwner: null,
    finalState: job.state,
    chunksPending: 0,
    chunksDone: 0,
    restartMs: 0,
    finishMs: 0,
    error: null,
  };
  // Kill it once a few of its requests are done but not all: mid-job.
  for (;;) {
    const now = valueOf(await killable.call('backfill:jobs', { state: 'all', limit: 50 }), 'backfill:jobs').find((j) => j.id === job.id);
    if (!now) throw new Error(`job #${job.id} is not listed`);
    result.planned = now.requestsPlanned;
    if (now.state === 'done' || now.state === 'failed') throw new Error(`the job ended (${now.state}) before it could be killed; give it more work`);
    if (now.requestsDone >= Math.min(3, Math.max(1, now.requestsPlanned - 2))) {
      result.doneAtKill = now.requestsDone;
      break;
    }
    if (Date.now() - t0 > 120_000) throw new Error('the job did not start within 120 s');
    await sleep(200);
  }
  await killable.kill();
  result.ownerAtKill = readJob(killable.home, job.id)?.owner ?? null;
  const restartFrom = Date.now();
  const again = await spawnConsole({ env, home: killable.home, keepHome: true });
  result.restartMs = Date.now() - restartFrom;
  try {
    for (;;) {
      const row = readJob(again.home, job.id);
      if (row && (row.state === 'done' || row.state === 'failed' || row.state === 'cancelled')) break;
      if (Date.now() - restartFrom > 240_000) break;
      await sleep(500);
    }
    result.finishMs = Date.now() - restartFrom;
  } finally {
    await again.stop();
  }
  const final = readJob(killable.home, job.id);
  result.finalOwner = final?.owner ?? null;
  result.finalState = final?.state ?? 'missing';
  result.chunksPending = final?.pending ?? 0;
  result.chunksDone = final?.done ?? 0;
  return result;
}

async function runPhase(name: 'shared' | 'baseline', pgCluster: TestPostgres): Promise<PhaseResult> {
  const databaseUrl = await pgCluster.database();
  // One Redis for the phase, as a deployment has: the devticker publishes ticks and events there and every console
  // reads them (the budgets themselves are shared through PostgreSQL: src/main/ticker/shared-budget.ts says why).
  const redis = await startRedisServer(`multi-${name}`);
  const dt: DevTicker = await startDevTicker({ host: '127.0.0.1', port: 0, clockMode: 'always-open', instrumentsRoute: true, redisUrl: redis.url });
  const withKill = KILL && name === 'shared';
  const proxy = await recordingProxies(dt.url, SYMBOLS.length + (withKill ? 1 : 0));
  let killable: ConsoleProcess | null = null;
  let killEnv: Record<string, string> = {};
  const homes: string[] = [];
  const apps: RunningApp[] = [];
  try {
    // Migrate once first: three consoles migrating at the same moment serialise on the migration lock anyway.
    const admin = await openMarketDb({ databaseUrl, poolSize: 1 });
    await migrateMarket(admin);
    for (let i = 0; i < SYMBOLS.length; i++) {
      const home = mkdtempSync(join(tmpdir(), `sd-multi-${name}-${i}-`));
      homes.push(home);
      const env = {
        STRIKEDESK_HOME: home,
        STRIKEDESK_PORT: '0',
        DATABASE_URL: databaseUrl,
        TICKER_URL: proxy.urls[i],
        STRIKEDESK_INSTRUMENTS: `${dt.url}/instruments`,
        STRIKEDESK_POLL_INTERVAL: '3600',
        STRIKEDESK_BACKFILL_INTERVAL: '1440',
        STRIKEDESK_BACKFILL_LOOKBACK: '30',
        REDIS_URL: redis.url,
        STRIKEDESK_LOG_LEVEL: 'silent',
      };
      apps.push(await startApp(loadConfig({ env, argv: [] }), { env }));
    }
    if (withKill) {
      const home = mkdtempSync(join(tmpdir(), `sd-multi-${name}-killable-`));
      homes.push(home);
      killEnv = {
        DATABASE_URL: databaseUrl,
        TICKER_URL: proxy.urls[SYMBOLS.length],
        STRIKEDESK_INSTRUMENTS: `${dt.url}/instruments`,
        STRIKEDESK_POLL_INTERVAL: '3600',
        STRIKEDESK_BACKFILL_INTERVAL: '1440',
        STRIKEDESK_BACKFILL_LOOKBACK: '30',
        REDIS_URL: redis.url,
        STRIKEDESK_LOG_LEVEL: 'warn',
      };
      killable = await spawnConsole({ env: killEnv, home, keepHome: true });
    }
    // Bench only: a trigger logs every grant the store makes (its grant time), an independent record to compare the
    // arrivals with: the store may never grant more than the budget; arrivals also carry the grant-to-wire spread.
    await admin.exec(`
      CREATE TABLE bench_budget_changes (bucket text NOT NULL, old_grants bigint[], new_grants bigint[] NOT NULL, at bigint NOT NULL);
      CREATE FUNCTION bench_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO bench_budget_changes VALUES (NEW.bucket, CASE WHEN TG_OP = 'UPDATE' THEN OLD.grants END, NEW.grants,
          (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
        RETURN NEW;
      END $$;
      CREATE TRIGGER bench_log_change AFTER INSERT OR UPDATE ON ticker_rate_budget FOR EACH ROW EXECUTE FUNCTION bench_log_change();`);
    if (name === 'baseline') {
      // The old behaviour: without the table every console's limiter falls back to its own log.
      await admin.exec('DROP TABLE ticker_rate_budget');
    }
    const startedAt = Date.now();
    await proxy.clear();
    dt.sim.resetCounters();

    // Chain screens: each console its own underlying, polled like an open screen.
    let polling = true;
    const screens = apps.map(async (app, i) => {
      const registry = app.context.registry;
      if (!registry) throw new Error('no registry');
      const [expiry] = await registry.expiries(SYMBOLS[i], new Date().toISOString().slice(0, 10));
      while (polling) {
        await fetch(`${app.url}/fo/strike-distribution?symbol=${SYMBOLS[i]}&expiry=${expiry}&strike_range=${STRIKE_RANGE}&timeframe=1min`).catch(
          () => undefined,
        );
        await sleep(CHAIN_POLL_MS);
      }
    });
    // History-heavy backfill: a wide chain of its own, and one NIFTY chain all three ask for.
    const jobs = await Promise.all(
      apps.map(async (app, i) => {
        const backfill = app.context.backfill;
        if (!backfill) throw new Error('no backfill');
        const own = await backfill.enqueueImmediate({ kind: 'chain', symbol: SYMBOLS[i], strikeRange: BACKFILL_RANGE }, 'bench', 'bench:multi own chain');
        const common = await backfill.enqueueImmediate({ kind: 'chain', symbol: 'NIFTY', strikeRange: 3 }, 'bench', 'bench:multi common chain');
        return [own.id, common.id];
      }),
    );
    // The scheduled cycle started on all three at the same moment: the advisory lock must let exactly one lead. A
    // console that does not lead answers at once; the leader's cycle runs its job, so it may still be running.
    const led: (boolean | null)[] = apps.map(() => null);
    const cycles = apps.map((app, i) =>
      app.context.backfill?.runScheduledCycle().then(
        (c) => (led[i] = c.led),
        () => (led[i] = false),
      ),
    );
    // KILL_HOOK: a fourth console (a child process) killed mid-job; a console started again on its home finishes it.
    const killed = killable
      ? killedConsoleResumes(killable, killEnv).catch((err: Error): KillResult => ({
          jobId: 0,
          doneAtKill: 0,
          planned: 0,
          ownerAtKill: null,
          finalOwner: null,
          finalState: 'error',
          chunksPending: 0,
          chunksDone: 0,
          restartMs: 0,
          finishMs: 0,
          error: err.message,
        }))
      : null;

    const left = PHASE_MS - (Date.now() - startedAt);
    if (left > 0) await sleep(left);
    polling = false;
    await Promise.all(screens);
    await Promise.race([Promise.all(cycles), sleep(1_000)]);
    const killedResult = killed ? await killed : null;
    // Duplicate jobs, counted in the three consoles' jobs tables (history chunks of the same token in two consoles).
    const chunkRows = apps.map(
      (app) =>
        app.context.state.db
          .prepare('SELECT c.job_id, c.token, c.state, j.trigger FROM backfill_chunks c JOIN backfill_jobs j ON j.id = c.job_id')
          .all() as JobChunkRow[],
    );
    const dups = duplicateJobs(chunkRows);
    const leaders = led.filter((l) => l !== false).length;
    let backfillDone = 0;
    for (const [i, app] of apps.entries()) for (const id of jobs[i]) if (app.context.backfill?.job(id).state === 'done') backfillDone++;
    const storeGrants =
      name === 'shared'
        ? grantsFromChanges(await admin.query<BudgetChange>('SELECT bucket, old_grants, new_grants, at FROM bench_budget_changes ORDER BY at')).filter(
            (g) => g.at >= startedAt,
          )
        : [];
    await admin.close();
    const log = await proxy.dump();
    if (process.env.DUMP) writeFileSync(`${process.env.DUMP}.${name}.json`, JSON.stringify(log.map((a) => ({ ...a, at: a.at - startedAt }))));
    const ticksIn = apps.map((app) => {
      const s = app.context.ingestor?.stats();
      return s ? s.optionTicks + s.underlyingTicks : 0;
    });
    const budgetModes = apps.map((app) => {
      const b = app.context.ticker?.stats().budget;
      return b ? `${b.mode}${b.failures ? ` (${b.failures} store failures)` : ''}${b.restamped ? ` (${b.restamped} restamped)` : ''}` : '?';
    });
    const history = log.filter((a) => a.route === '/history');
    const posts = log.filter((a) => a.method === 'POST' && a.route === '/subscriptions');
    // A token whose history was answered (200) to two different consoles was fetched twice.
    const byToken = new Map<number, Set<number>>();
    for (const h of history) if (h.status === 200 && h.token !== null) (byToken.get(h.token) ?? byToken.set(h.token, new Set()).get(h.token))?.add(h.console);
    const dtHistory = dt.sim.counters().historyCalls.map((c) => c.at);
    return {
      name,
      maxHistory1s: maxInWindow(
        history.map((h) => h.at),
        1_000,
      ),
      maxPost60s: maxInWindow(
        posts.map((p) => p.at),
        60_000,
      ),
      historyCalls: history.length,
      historyTurnedAway: history.filter((h) => h.status === 502).length,
      posts: posts.length,
      posts429: posts.filter((p) => p.status === 429).length,
      postsAccepted: posts.filter((p) => p.status >= 200 && p.status < 300).length,
      historyAnswered: history.filter((h) => h.status === 200).length,
      deletes: log.filter((a) => a.method === 'DELETE').length,
      duplicateFetches: [...byToken.entries()].filter(([t, s]) => s.size > 1 && dt.registry.byToken(t)?.segment !== 'INDICES').length,
      duplicateSpotReads: [...byToken.entries()].filter(([t, s]) => s.size > 1 && dt.registry.byToken(t)?.segment === 'INDICES').length,
      leaders,
      backfillDone,
      budgetModes,
      ticksIn,
      devtickerMaxHistory1s: maxInWindow(dtHistory, 1_000),
      storeMaxHistory1s:
        name === 'shared'
          ? maxInWindow(
              storeGrants.filter((g) => g.bucket.endsWith('|history')).map((g) => Number(g.at)),
              1_000,
            )
          : null,
      storeMaxPost60s:
        name === 'shared'
          ? maxInWindow(
              storeGrants.filter((g) => g.bucket.endsWith('|create')).map((g) => Number(g.at)),
              60_000,
            )
          : null,
      duplicateJobTokens: dups.tokens,
      duplicateJobs: dups.jobs,
      jobsCounted: dups.counted,
      killed: killedResult,
    };
  } finally {
    for (const app of apps) await app.stop().catch(() => undefined);
    await (killable as ConsoleProcess | null)?.stop().catch(() => undefined);
    proxy.close();
    await dt.close();
    await redis.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }
}

/** What one shared grant costs: the statement's round trip on the throwaway server. */
async function grantLatency(pgCluster: TestPostgres): Promise<{ p50: number; p95: number; n: number }> {
  const db = await openMarketDb({ databaseUrl: await pgCluster.database(), poolSize: 2 });
  try {
    await migrateMarket(db);
    const store = new PostgresBudget(db, 'bench');
    const ms: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await store.tryGrant('history', 1_000_000, 1_000);
      ms.push(performance.now() - t);
    }
    return { p50: percentile(ms, 50), p95: percentile(ms, 95), n: ms.length };
  } finally {
    await db.close();
  }
}

setRootLogger(silentLogger);
const pgCluster = await startPostgres();
try {
  const latency = await grantLatency(pgCluster);
  console.log(`shared grant statement: p50 ${latency.p50.toFixed(2)} ms, p95 ${latency.p95.toFixed(2)} ms over ${latency.n} grants (PostgreSQL 15, loopback)`);
  const results: PhaseResult[] = [];
  for (const phase of PHASES) {
    if (phase !== 'shared' && phase !== 'baseline') throw new Error(`PHASES: unknown phase '${phase}' (shared, baseline)`);
    const started = Date.now();
    const r = await runPhase(phase, pgCluster);
    results.push(r);
    console.log(
      `${r.name.padEnd(8)} (${((Date.now() - started) / 1000).toFixed(0)} s, budgets: ${r.budgetModes.join('/')}, ticks in from Redis: ${r.ticksIn.join('/')}): ` +
        `max /history in 1 s ${r.maxHistory1s} (devticker's log, stamped when it answers: ${r.devtickerMaxHistory1s}), ${r.historyCalls} history calls (${r.historyAnswered} answered, ${r.historyTurnedAway} turned away by Kite); ` +
        `max POST in 60 s ${r.maxPost60s}, ${r.posts} POSTs (${r.postsAccepted} accepted, ${r.posts429} answered 429); ${r.deletes} DELETEs; ` +
        (r.storeMaxHistory1s === null
          ? ''
          : `store's grant log: max history grants in 1 s ${r.storeMaxHistory1s}, max POST grants in 60 s ${r.storeMaxPost60s}; `) +
        `duplicate fetches ${r.duplicateFetches} (+ ${r.duplicateSpotReads} index spot reads); scheduled-cycle leaders ${r.leaders}; backfill jobs done ${r.backfillDone}/${SYMBOLS.length * 2}`,
    );
  }
  const shared = results.find((r) => r.name === 'shared');
  const baseline = results.find((r) => r.name === 'baseline');
  if (shared && baseline) {
    console.log(
      `overrun ratio, baseline vs shared: history ${(baseline.maxHistory1s / shared.maxHistory1s).toFixed(2)}x (baseline ${(baseline.maxHistory1s / 3).toFixed(2)}x the 3/s budget), POST ${(baseline.maxPost60s / Math.max(1, shared.maxPost60s)).toFixed(2)}x (baseline ${(baseline.maxPost60s / 30).toFixed(2)}x the 30/min budget)`,
    );
  }
  if (shared) {
    console.log(
      `duplicate backfill jobs (jobs tables of the 3 consoles, ${shared.jobsCounted} jobs): ${shared.duplicateJobs} jobs share ${shared.duplicateJobTokens} tokens`,
    );
    const k = shared.killed;
    if (k) {
      console.log(
        k.error
          ? `killed console: ${k.error}`
          : `killed console: job #${k.jobId} SIGKILLed at ${k.doneAtKill}/${k.planned} requests (owner ${k.ownerAtKill}); restarted in ${(k.restartMs / 1000).toFixed(1)} s, job ${k.finalState} ${(k.finishMs / 1000).toFixed(1)} s after the restart under owner ${k.finalOwner}; chunks ${k.chunksDone} settled, ${k.chunksPending} pending`,
      );
    }
    const targets = new Targets();
    targets.atMost('history-per-second', shared.maxHistory1s, 3);
    targets.atMost('posts-per-minute', shared.maxPost60s, 30);
    targets.equals('duplicate-history-fetches', shared.duplicateFetches, 0);
    targets.equals('duplicate-backfill-jobs', shared.duplicateJobs, 0);
    targets.equals('scheduled-leaders', shared.leaders, 1);
    if (!k) targets.notMeasured('killed-console-resumed', 'KILL=0', 'job done under another owner');
    else {
      const resumed = !k.error && k.finalState === 'done' && k.chunksPending === 0 && k.finalOwner !== null && k.finalOwner !== k.ownerAtKill;
      targets.check(
        'killed-console-resumed',
        resumed,
        k.error ? `error: ${k.error}` : `job ${k.finalState}, owner ${k.ownerAtKill} -> ${k.finalOwner}, ${k.chunksPending} chunks pending`,
        'job done under another owner, 0 chunks pending',
      );
    }
    targets.print();
  }
} finally {
  await pgCluster.stop();
}
process.exit(0);
