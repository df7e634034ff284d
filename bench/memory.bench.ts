// bench:memory: resident memory of the headless console on embedded defaults, and what each part costs.
//
// The console boots in a child process from the build (out/main/headless.js, a temp STRIKEDESK_HOME, port 0), as a
// user runs it. Once it is ready, a 126-leg NIFTY chain (3 expiries x 21 strikes x CE/PE) is asked for through the
// ConsoleApi (chain:distribution, as the chain screen does) and kept open: asked again every 5 s for the hold time.
// The child's VmRSS (and its descendants', if any) is sampled from /proc every 200 ms from spawn to the end; the peak
// is the kernel's VmHWM (exact for the process, whatever the sampling missed).
//   steady = median RSS over the last half of the hold;   peak = VmHWM (summed over the process tree)
//
// Variants, each booted the same way and held as long, so parts can be subtracted (same run, same machine):
//   embedded         defaults: PGlite market store, SQLite state store, the devticker in process
//   postgres         DATABASE_URL to a throwaway PostgreSQL 15 (the server's memory is not the console's): PGlite
//                    costs embedded - postgres
//   restart          the embedded console started again on the same home: a first start also runs initdb for the
//                    new PGlite cluster (a second PGlite instance and the initdb module alive at once); later starts
//                    do not
//   external-ticker  TICKER_URL to a devticker in its own process (ticks over a Redis of its own, instruments from its
//                    /instruments): the embedded devticker costs embedded - external-ticker
// and two measurements without a variant:
//   renderer served  in the restart run, RSS just before and 2 s after fetching the whole renderer build 3 times
//   SQLite           better-sqlite3 loaded and the embedded run's state.db opened and read in a bare Node process,
//                    minus the same process before (the state store cannot be swapped out of the console)
// The baseline of the ratios is a bare Node 20 process (the runtime every variant carries).
//
//   npm run bench:memory                         BENCH_MEMORY_SECONDS=300 (hold time per variant)
//   VARIANTS=embedded,restart,postgres,external-ticker   which variants (default all four; restart needs embedded)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './support/free-port';
import { buildDir, spawnConsole, treeMemory, valueOf, type ConsoleProcess } from './support/console-process';
import { Targets } from './targets';

const HOLD_MS = Number(process.env.BENCH_MEMORY_SECONDS ?? 300) * 1000;
const VARIANTS = (process.env.VARIANTS ?? 'embedded,restart,postgres,external-ticker').split(',').map((v) => v.trim());
const SAMPLE_MS = 200;
const CHAIN_POLL_MS = 5_000;
const STEADY_TARGET_MB = 400;
const PEAK_TARGET_MB = 600;
const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number) => kb / 1024;

interface Sample {
  at: number;
  rssKb: number;
}

/** Samples a process tree's RSS from its pid on; stop() gives the samples and the tree's summed VmHWM. */
function sampler(pid: number): { stop(): { samples: Sample[]; hwmKb: number; processes: number }; now(): number } {
  const samples: Sample[] = [];
  let hwmKb = 0;
  let processes = 1;
  const take = () => {
    const m = treeMemory(pid);
    if (m.processes === 0) return;
    samples.push({ at: performance.now(), rssKb: m.rssKb });
    hwmKb = Math.max(hwmKb, m.hwmKb);
    processes = Math.max(processes, m.processes);
  };
  take();
  const timer = setInterval(take, SAMPLE_MS);
  return {
    now: () => {
      take();
      return samples[samples.length - 1]?.rssKb ?? 0;
    },
    stop: () => {
      take();
      clearInterval(timer);
      return { samples, hwmKb, processes };
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

interface VariantResult {
  name: string;
  readyMs: number;
  legs: number;
  liveLegs: number;
  peakMb: number;
  maxSampledMb: number;
  steadyMb: number;
  atReadyMb: number;
  processes: number;
  rendererDeltaMb: number | null;
  home: string;
}

/** Asks for the 126-leg chain the way the chain screen does; returns the legs answered and how many carry data. */
async function askChain(c: ConsoleProcess, expiries: string[]): Promise<{ legs: number; live: number }> {
  const d = valueOf(
    await c.call('chain:distribution', {
      symbol: 'NIFTY',
      expiries,
      strikeRange: 10,
      timeframe: '1min',
      autoSubscribe: true,
      includePartial: false,
      oiChangeBasis: 'one_hour_earlier',
    }),
    'chain:distribution',
  );
  let legs = 0;
  let live = 0;
  for (const s of d.series)
    for (const leg of [...s.call, ...s.put]) {
      legs++;
      if (leg.ltp !== null) live++;
    }
  return { legs, live };
}

/** The whole renderer build fetched as a browser opening the console would (index, scripts, styles, assets). */
async function fetchRenderer(c: ConsoleProcess): Promise<number> {
  const files = ['/', '/favicon.svg', ...readdirSync(join(buildDir(), 'renderer', 'assets')).map((f) => `/assets/${f}`)];
  let bytes = 0;
  for (const f of files) {
    const res = await fetch(`${c.base}${f}`);
    bytes += (await res.arrayBuffer()).byteLength;
  }
  return bytes;
}

async function runVariant(name: string, env: Record<string, string>, opts: { renderer?: boolean; home?: string } = {}): Promise<VariantResult> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), `sd-bench-memory-${name}-`));
  let s: ReturnType<typeof sampler> | null = null;
  const c = await spawnConsole({ env, home, readyTimeoutMs: 180_000, onSpawn: (pid) => (s = sampler(pid)) });
  const watch = s as unknown as ReturnType<typeof sampler>;
  try {
    const atReadyKb = watch.now();
    let rendererDeltaMb: number | null = null;
    if (opts.renderer) {
      await sleep(5_000); // let the boot's garbage go first: a collection inside the window would read as a saving
      const before = watch.now();
      let bytes = 0;
      for (let i = 0; i < 3; i++) bytes += await fetchRenderer(c);
      await sleep(2_000);
      rendererDeltaMb = mb(watch.now() - before);
      console.log(
        `  [${name}] renderer build fetched 3 times (${(bytes / 3 / 1024).toFixed(0)} kB each): RSS ${mb(before).toFixed(1)} -> ${mb(watch.now()).toFixed(1)} MB`,
      );
    }
    const underlyings = valueOf(await c.call('chain:underlyings', {}), 'chain:underlyings');
    const nifty = underlyings.find((u) => u.symbol === 'NIFTY');
    if (!nifty) throw new Error('no NIFTY among the underlyings');
    const expiries = nifty.expiries.slice(0, 3).map((e) => e.expiry);
    const holdFrom = performance.now();
    let chain = await askChain(c, expiries);
    if (chain.legs !== 126) throw new Error(`expected a 126-leg chain, got ${chain.legs} legs`);
    let lastLog = holdFrom;
    while (performance.now() - holdFrom < HOLD_MS) {
      await sleep(Math.min(CHAIN_POLL_MS, HOLD_MS - (performance.now() - holdFrom)));
      chain = await askChain(c, expiries);
      if (performance.now() - lastLog >= 60_000) {
        lastLog = performance.now();
        console.log(
          `  [${name}] ${((lastLog - holdFrom) / 1000).toFixed(0)} s: RSS ${mb(watch.now()).toFixed(1)} MB, ${chain.live}/${chain.legs} legs with a price`,
        );
      }
    }
    const { samples, hwmKb, processes } = watch.stop();
    const steadyFrom = holdFrom + HOLD_MS / 2;
    const steady = samples.filter((x) => x.at >= steadyFrom).map((x) => x.rssKb);
    return {
      name,
      readyMs: c.readyMs,
      legs: chain.legs,
      liveLegs: chain.live,
      peakMb: mb(hwmKb),
      maxSampledMb: mb(Math.max(...samples.map((x) => x.rssKb))),
      steadyMb: mb(median(steady)),
      atReadyMb: mb(atReadyKb),
      processes,
      rendererDeltaMb,
      home,
    };
  } finally {
    watch.stop();
    await c.stop();
  }
}

/** Runs a small ESM script in a bare Node process and returns its JSON answer. */
async function nodeProbe(script: string, args: string[] = []): Promise<Record<string, number>> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: join(here, '..'), timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;
}

const BARE_NODE = `
import { readFileSync } from 'node:fs';
const kb = (k) => Number(new RegExp('^' + k + ':\\\\s+(\\\\d+) kB', 'm').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
await new Promise((r) => setTimeout(r, 300));
console.log(JSON.stringify({ rssKb: kb('VmRSS') }));`;

/** better-sqlite3 loaded, the state store opened with the console's pragmas and every table read once. */
const SQLITE_PROBE = `
import { readFileSync, copyFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const kb = (k) => Number(new RegExp('^' + k + ':\\\\s+(\\\\d+) kB', 'm').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
await new Promise((r) => setTimeout(r, 300));
const before = kb('VmRSS');
const Database = createRequire(join(process.cwd(), 'package.json'))('better-sqlite3');
const dir = mkdtempSync(join(tmpdir(), 'sd-sqlite-probe-'));
for (const f of ['state.db', 'state.db-wal']) if (existsSync(join(process.argv[1], f))) copyFileSync(join(process.argv[1], f), join(dir, f));
const db = new Database(join(dir, 'state.db'));
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL'); db.pragma('foreign_keys = ON');
let rows = 0;
for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()) for (const r of db.prepare('SELECT * FROM "' + name + '"').iterate()) rows++;
await new Promise((r) => setTimeout(r, 300));
console.log(JSON.stringify({ beforeKb: before, afterKb: kb('VmRSS'), rows, pageKb: db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true }) / 1024 }));`;

async function withThrowawayPostgres<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const script = join(here, '../scripts/throwaway-postgres.sh');
  const dir = mkdtempSync(join(tmpdir(), 'sd-memory-pg-'));
  const admin = (await run('bash', [script, 'start', dir, String(await freePort())], { timeout: 60_000 })).stdout.trim();
  try {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query('CREATE DATABASE sd_memory');
    await c.end();
    const u = new URL(admin);
    u.pathname = '/sd_memory';
    return await fn(u.toString());
  } finally {
    await run('bash', [script, 'stop', dir], { timeout: 60_000 }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A devticker in its own process (the CLI), publishing ticks on a Redis of its own, with /instruments served. */
async function withExternalTicker<T>(fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const redisPort = await freePort();
  const redisDir = mkdtempSync(join(tmpdir(), 'sd-memory-redis-'));
  const redis: ChildProcess = spawn(
    '/usr/bin/redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir],
    { stdio: 'ignore' },
  );
  const dtPort = await freePort();
  const dt: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(here, '../src/devticker/cli.ts'),
      '--port',
      String(dtPort),
      '--clock',
      'always-open',
      '--instruments-route',
      '--redis-url',
      `redis://127.0.0.1:${redisPort}`,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: join(here, '..') },
  );
  let out = '';
  dt.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  dt.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  try {
    const url = `http://127.0.0.1:${dtPort}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`external devticker not ready:\n${out.slice(-2000)}`);
      await sleep(300);
    }
    return await fn({ TICKER_URL: url, REDIS_URL: `redis://127.0.0.1:${redisPort}`, STRIKEDESK_INSTRUMENTS: `${url}/instruments` });
  } finally {
    dt.kill('SIGTERM');
    redis.kill('SIGTERM');
    await sleep(500);
    rmSync(redisDir, { recursive: true, force: true });
  }
}

const f1 = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(1));

console.log(
  `bench:memory: headless console from ${buildDir()}, a 126-leg NIFTY chain held ${HOLD_MS / 1000} s per variant, RSS sampled every ${SAMPLE_MS} ms; variants: ${VARIANTS.join(', ')}`,
);
console.log('  (2 shared cores, other agents running: figures are noisy)');
const bare = await nodeProbe(BARE_NODE);
const results = new Map<string, VariantResult>();
try {
  for (const v of VARIANTS) {
    let r: VariantResult;
    if (v === 'embedded') r = await runVariant('embedded', {});
    else if (v === 'restart') {
      const first = results.get('embedded');
      if (!first) throw new Error('VARIANTS: restart needs embedded before it');
      r = await runVariant('restart', {}, { home: first.home, renderer: true });
    } else if (v === 'postgres') r = await withThrowawayPostgres((url) => runVariant('postgres', { DATABASE_URL: url }));
    else if (v === 'external-ticker') r = await withExternalTicker((env) => runVariant('external-ticker', env));
    else throw new Error(`VARIANTS: unknown variant '${v}' (embedded, restart, postgres, external-ticker)`);
    results.set(v, r);
    console.log(
      `${r.name.padEnd(16)} ready in ${(r.readyMs / 1000).toFixed(1)} s; RSS at ready ${f1(r.atReadyMb)} MB, peak (VmHWM) ${f1(r.peakMb)} MB (max sampled ${f1(r.maxSampledMb)}), steady ${f1(r.steadyMb)} MB; ` +
        `${r.legs} legs, ${r.liveLegs} with a price at the end; ${r.processes} process(es)`,
    );
  }
  const embedded = results.get('embedded');
  let sqlite: Record<string, number> | null = null;
  if (embedded) sqlite = await nodeProbe(SQLITE_PROBE, [embedded.home]);
  const bareMb = mb(bare.rssKb);
  console.log(`\nbaseline: a bare Node ${process.version} process ${f1(bareMb)} MB RSS`);
  if (embedded) {
    console.log(`embedded vs bare Node: steady ${(embedded.steadyMb / bareMb).toFixed(1)}x, peak ${(embedded.peakMb / bareMb).toFixed(1)}x`);
    console.log('what each part costs (embedded minus the variant without it; steady / peak):');
    const pgv = results.get('postgres');
    const again = results.get('restart');
    if (again)
      console.log(
        `  first start       ${f1(embedded.peakMb - again.peakMb)} MB of peak   (a new home's initdb; a restart on the same home peaks at ${f1(again.peakMb)} MB, steady ${f1(again.steadyMb)} MB)`,
      );
    if (pgv)
      console.log(
        `  PGlite            ${f1(embedded.steadyMb - pgv.steadyMb)} / ${f1(embedded.peakMb - pgv.peakMb)} MB on a first start${again ? `, ${f1(again.steadyMb - pgv.steadyMb)} / ${f1(again.peakMb - pgv.peakMb)} MB on a restart` : ''}   (pg pool instead: steady ${f1(pgv.steadyMb)}, peak ${f1(pgv.peakMb)} MB)`,
      );
    const ext = results.get('external-ticker');
    if (ext)
      console.log(
        `  devticker         ${f1(embedded.steadyMb - ext.steadyMb)} / ${f1(embedded.peakMb - ext.peakMb)} MB   (includes the in-process bus vs an ioredis subscriber)`,
      );
    if (sqlite)
      console.log(
        `  SQLite            ${f1(mb(sqlite.afterKb - sqlite.beforeKb))} MB   (better-sqlite3 + the state store (${f1(mb(sqlite.pageKb))} MB file, ${sqlite.rows} rows) read in a bare process)`,
      );
    console.log(
      `  renderer served   ${f1(again?.rendererDeltaMb ?? null)} MB   (RSS change around 3 fetches of the whole build; files are streamed from disk)`,
    );
    console.log(`  Node itself       ${f1(bareMb)} MB`);
  }
  const targets = new Targets();
  if (embedded) {
    targets.below('memory steady RSS (embedded defaults, 126-leg chain)', Number(embedded.steadyMb.toFixed(1)), STEADY_TARGET_MB, ' MB');
    targets.below('memory peak RSS (embedded defaults, 126-leg chain)', Number(embedded.peakMb.toFixed(1)), PEAK_TARGET_MB, ' MB');
    targets.equals('memory chain legs', embedded.legs, 126);
    const again = results.get('restart');
    if (again) {
      targets.below('memory steady RSS (restart on the same home)', Number(again.steadyMb.toFixed(1)), STEADY_TARGET_MB, ' MB');
      targets.below('memory peak RSS (restart on the same home)', Number(again.peakMb.toFixed(1)), PEAK_TARGET_MB, ' MB');
    }
  } else {
    targets.notMeasured('memory steady RSS (embedded defaults, 126-leg chain)', 'embedded variant not run', `< ${STEADY_TARGET_MB} MB`);
    targets.notMeasured('memory peak RSS (embedded defaults, 126-leg chain)', 'embedded variant not run', `< ${PEAK_TARGET_MB} MB`);
  }
  console.log('');
  targets.print();
} finally {
  for (const r of results.values()) rmSync(r.home, { recursive: true, force: true });
}
process.exit(0);
