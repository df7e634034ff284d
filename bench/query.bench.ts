// Strike-distribution query at full size (issue 17): 30 trading days of 1-minute bars for 3 expiries x 100 strikes
// x 2 sides (30 x 375 x 600 = 6.75M leg-minutes; fo_strike_bars keeps the call and the put of a strike side by side,
// so 3.375M rows) plus the index's own 1-minute bars, on a throwaway PostgreSQL 15 and on PGlite (in a temp dir).
// What one chain-screen request asks the market store: the underlying price (latestUnderlyingPrice) and the
// distribution of the 3 expiries (distributionSeries), every strike shown, every listed leg for the expiry-wide
// figures. Two instants: `latest` (just after the last session's close: the whole day's bars are summed for the day
// volume, the worst case) and `at` (a historical instant mid-session, 15 days back).
// Baseline in the same run, on the same data: main's queries (bench/baseline/distribution-main.ts) on main's schema
// (migrations 0001-0004); then migrations 0005-0007 are applied (timed) and today's queries measured. Both must give the
// same answers (checked). Targets: p95 < 20 ms on PostgreSQL, < 40 ms on PGlite.
//   npm run bench:query                 BENCH_QUERY_DAYS=30 (trading days of bars), ITERATIONS=200, BACKENDS=postgres,pglite
//   DATABASE_URL=postgres://...         use that cluster (a new database in it); without it a throwaway PostgreSQL 15
//                                       is started with scripts/throwaway-postgres.sh and stopped after
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { addDays, istInstant, weekdayOf } from '../src/main/calendar';
import { openMarketDb, type MarketDb, type Queryable } from '../src/main/market/db';
import * as current from '../src/main/market/distribution';
import { migrateMarket } from '../src/main/market/migrate';
import { MARKET_MIGRATIONS } from '../src/main/market/migrations';
import * as baseline from './baseline/distribution-main';
import { freePort } from './support/free-port';

const DAYS = Number(process.env.BENCH_QUERY_DAYS ?? 30);
const ITERATIONS = Number(process.env.ITERATIONS ?? 200);
const WARMUP = 10;
/** The baseline may take seconds per request at full size: it stops after this many ms (at least 3 requests). */
const BASELINE_BUDGET_MS = Number(process.env.BASELINE_BUDGET_MS ?? 30_000);
const BACKENDS = (process.env.BACKENDS ?? 'postgres,pglite').split(',').map((s) => s.trim()) as ('postgres' | 'pglite')[];
const TARGET_MS = { postgres: 20, pglite: 40 } as const;

const SYMBOL = 'NIFTY';
const INDEX_TOKEN = 256265;
const EXPIRIES = ['2025-12-02', '2025-12-09', '2025-12-30'];
const STRIKES = 100;
const STEP = 50;
const FIRST_STRIKE = 23_500;
const MINUTES = 375;
const strikeOf = (s: number) => FIRST_STRIKE + STEP * s;
const tokenOf = (ei: number, s: number, side: 'CE' | 'PE') => 10_000_000 + ei * 1000 + s * 2 + (side === 'PE' ? 1 : 0);

/** The last DAYS weekdays up to 2025-11-28 (a Friday), oldest first. Holidays are not modelled: bars every weekday. */
function tradingDays(): string[] {
  const days: string[] = [];
  for (let d = '2025-11-28'; days.length < DAYS; d = addDays(d, -1)) if (weekdayOf(d) !== 0 && weekdayOf(d) !== 6) days.unshift(d);
  return days;
}

// ---------- loading: one INSERT ... SELECT FROM generate_series per trading day, indexes built after ----------

const side = (p: 'call' | 'put', quiet: string, token: string) => {
  const on = (v: string) => `CASE WHEN ${quiet} THEN NULL ELSE ${v} END`;
  const k = p === 'call' ? 's' : '(99 - s)';
  return [
    on(token),
    on(`100000 + ((${k} * 7919 + ei * 131 + $3 * 17 + m * 3) % 50000)`), // oi
    on(`(${k} * 31 + m * 7 + $3) % 500`), // volume
    ...['0', '0.5', '-0.5', '0.1'].map((d) => on(`greatest(0.05, 600 - ${k} * 6 + ((m * 13 + $3 * 7) % 40) + ${d})`)), // o h l c
    on(`0.12 + ${k} * 0.001`),
    on(p === 'call' ? `1 - s / 100.0` : `-(s / 100.0)`),
    on('0.0004'),
    on('-3.5'),
    on('11.2'),
    on(`1 + (m + s) % 20`),
    on(`'live'`),
    on('true'),
  ].join(', ');
};
const SIDE_COLS = ['token', 'oi', 'volume', 'open', 'high', 'low', 'close', 'iv', 'delta', 'gamma', 'theta', 'vega', 'ticks', 'source', 'complete'];
const cols = (p: string) => SIDE_COLS.map((c) => `${p}_${c}`).join(', ');
// Far out-of-the-money legs are quiet: a bar every 5th minute only (their other side still trades every minute).
const LOAD_STRIKES = `
  INSERT INTO fo_strike_bars (timeframe, symbol, expiry, strike, bucket, underlying_close, ${cols('call')}, ${cols('put')})
  SELECT 1, '${SYMBOL}', e.expiry, ${FIRST_STRIKE} + ${STEP} * s, $1::timestamptz + m * interval '1 minute',
         26000 + ((m * 13 + $3 * 101) % 400) - 200,
         ${side('call', 's >= 95 AND m % 5 <> 0', `10000000 + ei * 1000 + s * 2`)},
         ${side('put', 's < 5 AND m % 5 <> 0', `10000000 + ei * 1000 + s * 2 + 1`)}
  FROM unnest($2::date[]) WITH ORDINALITY AS e(expiry, ei0), LATERAL (SELECT (ei0 - 1)::int AS ei) x,
       generate_series(0, ${MINUTES - 1}) m, generate_series(0, ${STRIKES - 1}) s`;
const LOAD_INDEX = `
  INSERT INTO instrument_bars (timeframe, token, bucket, symbol, kind, open, high, low, close, volume, oi, ticks, source, complete)
  SELECT 1, ${INDEX_TOKEN}, $1::timestamptz + m * interval '1 minute', '${SYMBOL}', 'index', c, c + 2, c - 2, c, NULL, NULL, 60, 'live', true
  FROM generate_series(0, ${MINUTES - 1}) m, LATERAL (SELECT (26000 + ((m * 13 + $2 * 101) % 400) - 200)::float8 AS c) x`;

async function load(db: MarketDb, days: string[], backend: string): Promise<number> {
  const t0 = performance.now();
  // Bulk load without the indexes, then build them: the index definitions are read back from the catalogue, so the
  // schema is exactly the migrations' one.
  const defs = await db.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fo_strike_bars'`);
  await db.exec('ALTER TABLE fo_strike_bars DROP CONSTRAINT fo_strike_bars_pkey');
  for (const d of defs) if (d.indexname !== 'fo_strike_bars_pkey') await db.exec(`DROP INDEX ${d.indexname}`);
  for (const [i, day] of days.entries()) {
    await db.query(LOAD_STRIKES, [new Date(istInstant(day, 9, 15)).toISOString(), EXPIRIES, i]);
    await db.query(LOAD_INDEX, [new Date(istInstant(day, 9, 15)).toISOString(), i]);
    if ((i + 1) % 10 === 0) process.stdout.write(`  [${backend}] loaded ${i + 1}/${days.length} days (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const t1 = performance.now();
  for (const d of defs) await db.exec(d.indexdef);
  await db.exec('ALTER TABLE fo_strike_bars ADD CONSTRAINT fo_strike_bars_pkey PRIMARY KEY USING INDEX fo_strike_bars_pkey');
  await db.exec('VACUUM ANALYZE fo_strike_bars');
  await db.exec('VACUUM ANALYZE instrument_bars');
  const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fo_strike_bars');
  console.log(
    `  [${backend}] ${n.toLocaleString('en')} strike-bar rows (${(2 * n).toLocaleString('en')} legs) in ${((t1 - t0) / 1000).toFixed(1)} s + indexes ${((performance.now() - t1) / 1000).toFixed(1)} s`,
  );
  return n;
}

// ---------- one chain-screen request ----------

type Impl = Pick<typeof current, 'distributionSeries' | 'latestUnderlyingPrice'>;

const listedLegs = (expiry: string): current.ListedLeg[] => {
  const ei = EXPIRIES.indexOf(expiry);
  return Array.from({ length: STRIKES }, (_, s) => (['CE', 'PE'] as const).map((side) => ({ strike: strikeOf(s), side, token: tokenOf(ei, s, side) }))).flat();
};
/** Weekday sessions (the loaded bars' days), 09:15-15:30 IST. */
const expectingData = (ms: number) => {
  const d = new Date(ms + 330 * 60_000);
  const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
  return d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && minute >= 555 && minute < 930;
};

async function request(impl: Impl, db: Queryable, q: { now: number; at?: number }) {
  const price = await impl.latestUnderlyingPrice(db, { symbol: SYMBOL, indexToken: INDEX_TOKEN, atOrBefore: q.at, now: q.now });
  const strikes = Array.from({ length: STRIKES }, (_, s) => strikeOf(s));
  const atm = current.nearestStrike(strikes, price?.price ?? null);
  const series = await impl.distributionSeries(db, {
    symbol: SYMBOL,
    timeframe: '1min',
    expiries: EXPIRIES.map((expiry, ei) => ({
      expiry,
      strikes,
      atm,
      step: STEP,
      tokens: new Map(strikes.flatMap((k, s) => (['CE', 'PE'] as const).map((side) => [current.legKey(k, side), tokenOf(ei, s, side)] as [string, number]))),
    })),
    at: q.at,
    now: q.now,
    expectingData,
    legState: () => 'missing',
    listedLegs: async (expiry) => listedLegs(expiry),
    price: price?.price ?? null,
  });
  return { price, series };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function measure(impl: Impl, db: Queryable, q: { now: number; at?: number }, opts: { iterations: number; budgetMs?: number; warmup: number }) {
  for (let i = 0; i < opts.warmup; i++) await request(impl, db, q);
  const ms: number[] = [];
  const t0 = performance.now();
  while (ms.length < opts.iterations) {
    const t = performance.now();
    await request(impl, db, q);
    ms.push(performance.now() - t);
    if (opts.budgetMs !== undefined && ms.length >= 3 && performance.now() - t0 > opts.budgetMs) break;
  }
  return { p50: pct(ms, 50), p95: pct(ms, 95), max: Math.max(...ms), n: ms.length };
}

/** Every statement one request issues (first parameters of each shape), for the plans. */
async function statementsOf(impl: Impl, db: Queryable, q: { now: number; at?: number }) {
  const seen = new Map<string, unknown[]>();
  const recorder: Queryable = {
    query: (sql, params) => {
      if (!seen.has(sql)) seen.set(sql, params ?? []);
      return db.query(sql, params);
    },
    exec: (sql) => db.exec(sql),
  };
  await request(impl, recorder, q);
  return [...seen];
}

async function plans(db: MarketDb, impl: Impl, q: { now: number; at?: number }, full: boolean, runs = 5): Promise<void> {
  for (const [sql, params] of await statementsOf(impl, db, q)) {
    // PGlite runs EXPLAIN ANALYZE too (its single-user backend supports it); the plans are the same planner's.
    const explain = 'EXPLAIN (ANALYZE, BUFFERS)';
    // Client-side time of the statement alone (median of `runs`), planning and round trip included.
    const walls: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await db.query(sql, params);
      walls.push(performance.now() - t);
    }
    const wall = `${pct(walls, 50).toFixed(2)} ms`;
    const rows = await db.query<{ 'QUERY PLAN': string }>(`${explain} ${sql}`, params);
    const plan = rows.map((r) => r['QUERY PLAN']);
    const oneLine = sql.replace(/\s+/g, ' ').trim();
    if (full) {
      console.log(`\n  -- [${wall} alone] ${oneLine.slice(0, 220)}${oneLine.length > 220 ? ' ...' : ''}`);
      for (const line of plan) console.log(`     ${line}`);
    } else {
      const exec = plan.find((l) => l.startsWith('Execution Time')) ?? '';
      console.log(`     ${wall.padStart(10)} alone  ${exec.padEnd(28)} ${oneLine.slice(0, 150)}`);
    }
  }
}

// ---------- backends ----------

interface Store {
  db: MarketDb;
  close(): Promise<void>;
}

async function openStore(backend: 'postgres' | 'pglite'): Promise<Store> {
  if (backend === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'sd-bench-query-'));
    const db = await openMarketDb({ pgliteDir: join(dir, 'market') });
    return {
      db,
      close: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  let adminUrl = process.env.DATABASE_URL;
  let stop = () => undefined as void;
  if (!adminUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'sd-bench-pg-'));
    const script = join(import.meta.dirname, '..', 'scripts', 'throwaway-postgres.sh');
    adminUrl = execFileSync(script, ['start', dir, String(await freePort())], { encoding: 'utf8' }).trim();
    console.log(`  throwaway PostgreSQL 15 at ${adminUrl}`);
    stop = () => {
      execFileSync(script, ['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const name = `sdbench_query_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const [{ server_version: version }] = (await admin.query<{ server_version: string }>('SHOW server_version')).rows;
  console.log(`  PostgreSQL ${version}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openMarketDb({ databaseUrl: url.toString() });
  return {
    db,
    close: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      stop();
    },
  };
}

const fmt = (m: { p50: number; p95: number; max: number; n: number }) =>
  `p50 ${m.p50.toFixed(1)} ms  p95 ${m.p95.toFixed(1)} ms  max ${m.max.toFixed(1)} ms  (${m.n} requests)`;

async function run(backend: 'postgres' | 'pglite'): Promise<string[]> {
  console.log(`\n[${backend}]`);
  const store = await openStore(backend);
  const targets: string[] = [];
  try {
    const { db } = store;
    const days = tradingDays();
    await migrateMarket(db, MARKET_MIGRATIONS.slice(0, 4));
    await load(db, days, backend);
    const lastDay = days[days.length - 1];
    const instants = {
      latest: { now: istInstant(lastDay, 15, 30, 10) },
      at: { now: istInstant(lastDay, 15, 30, 10), at: istInstant(days[Math.max(0, days.length - 16)], 12, 30, 20) },
    };

    const before: Record<string, Awaited<ReturnType<typeof measure>>> = {};
    const answers: Record<string, string> = {};
    for (const [name, q] of Object.entries(instants)) {
      answers[name] = JSON.stringify(await request(baseline, db, q));
      before[name] = await measure(baseline, db, q, { iterations: ITERATIONS, budgetMs: BASELINE_BUDGET_MS, warmup: 1 });
    }
    console.log(`  baseline (main's queries, schema 0001-0004): where the time goes, latest request:`);
    await plans(db, baseline, instants.latest, false, 1);

    const m0 = performance.now();
    await migrateMarket(db);
    console.log(
      `  migrations 0005-0007 (covering index, running day and quarter-hour volumes) on ${DAYS} days of bars: ${((performance.now() - m0) / 1000).toFixed(1)} s`,
    );
    await db.exec('VACUUM ANALYZE fo_strike_bars');

    for (const [name, q] of Object.entries(instants)) {
      if (JSON.stringify(await request(current, db, q)) !== answers[name])
        throw new Error(`${backend} ${name}: today's queries answer differently from main's`);
    }
    console.log(`  answers identical to the baseline's (latest and at=)`);
    for (const [name, q] of Object.entries(instants)) {
      const after = await measure(current, db, q, { iterations: ITERATIONS, warmup: WARMUP });
      const b = before[name];
      console.log(`  ${name.padEnd(6)} now:      ${fmt(after)}`);
      console.log(`  ${name.padEnd(6)} baseline: ${fmt(b)}`);
      console.log(`  ${name.padEnd(6)} ratio:    ${(b.p95 / after.p95).toFixed(1)}x faster at p95, ${(b.p50 / after.p50).toFixed(1)}x at p50`);
      const t = TARGET_MS[backend];
      targets.push(`target query_${name}_p95_${backend}: ${after.p95 < t ? 'met' : 'NOT met'} (${after.p95.toFixed(1)} ms vs < ${t} ms; ${DAYS} days)`);
    }
    console.log('\n  plans (EXPLAIN (ANALYZE, BUFFERS)), latest request:');
    await plans(db, current, instants.latest, true);
    console.log(`\n  plans (EXPLAIN (ANALYZE, BUFFERS)), at= request:`);
    await plans(db, current, instants.at, true);
    for (const t of targets) console.log(t);
  } finally {
    await store.close();
  }
  return targets;
}

console.log(
  `query benchmark: ${DAYS} trading days x ${MINUTES} minutes x ${EXPIRIES.length} expiries x ${STRIKES} strikes x 2 sides = ${(DAYS * MINUTES * EXPIRIES.length * STRIKES * 2).toLocaleString('en')} leg-minutes; ${ITERATIONS} requests after ${WARMUP} warm-up`,
);
const all: string[] = [];
for (const backend of BACKENDS) all.push(...(await run(backend)));
console.log('\nsummary');
for (const t of all) console.log(t);
