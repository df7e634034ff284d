// Bar writer throughput (issue 17): Strikedesk's batched writer (src/main/market/bars.ts, used by the live flush in
// src/main/ingest/writer.ts and by backfill in src/main/backfill/writer.ts) vs row by row, one INSERT .. ON CONFLICT
// per side row committed on its own, with the same merge rules, for the same rows. Two shapes:
//   live      the ingest flush: every strike of a minute in one call (STRIKES x 2 sides), MINUTES minutes in turn,
//             then the same minutes again as complete bars (updates of existing rows);
//   backfill  writeUnit: one transaction per strike, both sides' candles of a session (BACKFILL_MINUTES minutes).
// Rounds alternate the two writers (the machine is shared, load comes and goes); the ratio is median vs median, and
// the contents written both ways must be identical. PGlite always; PostgreSQL 15 too (DATABASE_URL, or a throwaway
// cluster started with scripts/throwaway-postgres.sh and stopped after). Target: >= 10x on each backend.
//   npm run bench:writer        ROUNDS=5 MINUTES=10 STRIKES=250 (live) BACKFILL_MINUTES=375 BACKFILL_STRIKES=10
//                               BACKENDS=pglite,postgres
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoverageStore } from '../src/main/backfill/coverage-store';
import type { PlannedInstrument } from '../src/main/backfill/types';
import { writeUnit, type FetchedChunk } from '../src/main/backfill/writer';
import { fromIstWallClock, toIstOffsetString } from '../src/main/calendar';
import { upsertStrikeSides, type StrikeSideBar } from '../src/main/market/bars';
import type { MarketDb } from '../src/main/market/db';
import { createTestMarketDb, type TestMarketDb } from '../src/main/market/testing/db';
import type { HistoryCandle } from '../src/main/ticker/types';
import { freePort } from './support/free-port';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MINUTES = Number(process.env.MINUTES ?? 10);
const STRIKES = Number(process.env.STRIKES ?? 250);
const BACKFILL_MINUTES = Number(process.env.BACKFILL_MINUTES ?? 375);
const BACKFILL_STRIKES = Number(process.env.BACKFILL_STRIKES ?? 10);
const BACKENDS = (process.env.BACKENDS ?? 'pglite,postgres').split(',').map((s) => s.trim()) as ('postgres' | 'pglite')[];
const TARGET = 10;
const M = 60_000;
const T0 = fromIstWallClock('2025-11-12T09:15');
const EXPIRY = '2025-11-25';

// ---------- the rows ----------

function liveMinute(minute: number, complete: boolean): StrikeSideBar[] {
  const bars: StrikeSideBar[] = [];
  for (let s = 0; s < STRIKES; s++) {
    for (const side of ['CE', 'PE'] as const) {
      const k = minute * 7 + s;
      bars.push({
        symbol: 'NIFTY',
        expiry: EXPIRY,
        strike: 20_000 + s * 50,
        bucket: T0 + minute * M,
        side,
        token: 1_000_000 + s * 2 + (side === 'PE' ? 1 : 0),
        oi: 50_000 + k,
        volume: complete ? 100 + (k % 50) : null,
        open: 100 + (k % 9),
        high: 110 + (k % 9),
        low: 95 + (k % 9),
        close: 104.5 + (k % 9),
        iv: 0.12 + s / 1e4,
        delta: side === 'CE' ? 0.5 : -0.5,
        gamma: 0.001,
        theta: -3.2,
        vega: 7.1,
        ticks: 20 + (k % 11),
        greekTicks: [20, 20, 19, 20, 18],
        underlyingClose: 25_000 + minute,
        source: 'live',
        complete,
      });
    }
  }
  return bars;
}

function backfillUnits(): FetchedChunk[][] {
  const units: FetchedChunk[][] = [];
  for (let s = 0; s < BACKFILL_STRIKES; s++) {
    const strike = 24_000 + s * 50;
    units.push(
      (['CE', 'PE'] as const).map((side) => {
        const inst: PlannedInstrument = {
          token: 2_000_000 + s * 2 + (side === 'CE' ? 0 : 1),
          kind: 'option',
          symbol: 'NIFTY',
          tradingsymbol: `NIFTY25NOV${strike}${side}`,
          expiry: EXPIRY,
          strike,
          side,
        };
        const candles: HistoryCandle[] = Array.from({ length: BACKFILL_MINUTES }, (_, k) => ({
          date: toIstOffsetString(T0 + k * M),
          open: 100 + k,
          high: 101 + k,
          low: 99 + k,
          close: 100.5 + k,
          volume: 1000 + k,
          oi: 50_000 + k * 3,
          iv: 0.1 + k / 1e5,
          delta: side === 'CE' ? 0.5 : -0.5,
          gamma: 0.001,
          theta: -3,
          vega: 7,
          underlying: 25_000 + k,
        }));
        return {
          instrument: inst,
          gaps: [[T0, T0 + BACKFILL_MINUTES * M]],
          from: T0,
          to: T0 + BACKFILL_MINUTES * M,
          candles,
          hadFailures: false,
        } satisfies FetchedChunk;
      }),
    );
  }
  return units;
}

// ---------- row by row: the same merge rules, one statement per side row ----------

const SIDE_COLS = [
  'token',
  'oi',
  'volume',
  'open',
  'high',
  'low',
  'close',
  'iv',
  'delta',
  'gamma',
  'theta',
  'vega',
  'ticks',
  'source',
  'complete',
  'iv_n',
  'delta_n',
  'gamma_n',
  'theta_n',
  'vega_n',
];
const rowStatement = (p: 'call' | 'put') => `
  INSERT INTO fo_strike_bars AS b (timeframe, symbol, expiry, strike, bucket, underlying_close, ${SIDE_COLS.map((c) => `${p}_${c}`).join(', ')}, updated_at)
  VALUES (1, $1, $2, $3, $4, $5, ${SIDE_COLS.map((_, i) => `$${i + 6}`).join(', ')}, now())
  ON CONFLICT (timeframe, symbol, expiry, strike, bucket) DO UPDATE SET
    ${SIDE_COLS.map((c) => `${p}_${c} = EXCLUDED.${p}_${c}`).join(', ')},
    underlying_close = COALESCE(EXCLUDED.underlying_close, b.underlying_close), updated_at = now()
  WHERE NOT (COALESCE(b.${p}_complete, false) AND (NOT EXCLUDED.${p}_complete OR (b.${p}_source = 'live' AND EXCLUDED.${p}_source = 'backfill')))`;
const ROW = { CE: rowStatement('call'), PE: rowStatement('put') };

async function rowByRow(db: MarketDb, bars: readonly StrikeSideBar[]): Promise<void> {
  const int = (v: number | null) => (v === null ? null : Math.round(v));
  for (const b of bars) {
    await db.query(ROW[b.side], [
      b.symbol,
      b.expiry,
      b.strike,
      new Date(b.bucket).toISOString(),
      b.underlyingClose,
      b.token,
      int(b.oi),
      int(b.volume),
      b.open,
      b.high,
      b.low,
      b.close,
      b.iv,
      b.delta,
      b.gamma,
      b.theta,
      b.vega,
      int(b.ticks),
      b.source,
      b.complete,
      ...[0, 1, 2, 3, 4].map((i) => int(b.greekTicks?.[i] ?? null)),
    ]);
  }
}

/** The backfill writer's rows for a unit, as side bars (the same conversion writeUnit makes). */
async function backfillRowByRow(db: MarketDb, units: FetchedChunk[][]): Promise<void> {
  const { strikeSideBar } = await import('../src/main/backfill/writer');
  for (const unit of units)
    for (const c of unit)
      await rowByRow(
        db,
        c.candles.map((k) => strikeSideBar(c.instrument, Date.parse(k.date), k)),
      );
}

const CONTENT = `SELECT md5(string_agg(t::text, '|' ORDER BY strike, bucket)) AS h, count(*)::int AS n FROM (
  SELECT strike, bucket, underlying_close, ${[...SIDE_COLS.map((c) => `call_${c}`), ...SIDE_COLS.map((c) => `put_${c}`)].join(', ')} FROM fo_strike_bars) t`;

// ---------- rounds ----------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function shape(t: TestMarketDb, name: string, rows: number, batch: () => Promise<void>, single: () => Promise<void>): Promise<string> {
  const clean = () => t.db.exec('TRUNCATE fo_strike_bars, backfill_windows');
  const batchMs: number[] = [];
  const rowMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which writer goes first, so a slow spell of the machine does not always land on the same one.
    const order = round % 2 === 0 ? (['batch', 'row'] as const) : (['row', 'batch'] as const);
    const contents: string[] = [];
    for (const which of order) {
      await clean();
      const t0 = performance.now();
      await (which === 'batch' ? batch() : single());
      (which === 'batch' ? batchMs : rowMs).push(performance.now() - t0);
      const [c] = await t.db.query<{ h: string; n: number }>(CONTENT);
      contents.push(`${c.h}/${c.n}`);
    }
    if (contents[0] !== contents[1]) throw new Error(`${name}: the batched and the row-by-row writer wrote different rows (${contents.join(' vs ')})`);
  }
  const ratio = median(rowMs) / median(batchMs);
  const rate = (ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en');
  console.log(`  ${name}: ${rows.toLocaleString('en')} side rows each way, ${ROUNDS} interleaved rounds, identical contents`);
  console.log(
    `    batched      median ${median(batchMs).toFixed(0).padStart(6)} ms  ${rate(median(batchMs)).padStart(9)} rows/s  (rounds ${batchMs.map((m) => m.toFixed(0)).join(', ')} ms)`,
  );
  console.log(
    `    row by row   median ${median(rowMs).toFixed(0).padStart(6)} ms  ${rate(median(rowMs)).padStart(9)} rows/s  (rounds ${rowMs.map((m) => m.toFixed(0)).join(', ')} ms)`,
  );
  console.log(`    ratio        ${ratio.toFixed(1)}x median vs median (best vs best ${(Math.min(...rowMs) / Math.min(...batchMs)).toFixed(1)}x)`);
  return `target writer_${name}_${t.name}: ${ratio >= TARGET ? 'met' : 'NOT met'} (${ratio.toFixed(1)}x vs >= ${TARGET}x row by row, median of ${ROUNDS} rounds)`;
}

async function run(backend: 'pglite' | 'postgres'): Promise<string[]> {
  let stop = () => undefined as void;
  if (backend === 'postgres' && !process.env.DATABASE_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'sd-bench-pg-'));
    const script = join(import.meta.dirname, '..', 'scripts', 'throwaway-postgres.sh');
    process.env.DATABASE_URL = execFileSync(script, ['start', dir, String(await freePort())], { encoding: 'utf8' }).trim();
    stop = () => {
      execFileSync(script, ['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
      delete process.env.DATABASE_URL;
    };
  }
  const t = await createTestMarketDb(backend);
  const targets: string[] = [];
  try {
    console.log(`\n[${backend}]`);
    const minutes = Array.from({ length: MINUTES }, (_, m) => m);
    const partial = minutes.map((m) => liveMinute(m, false));
    const complete = minutes.map((m) => liveMinute(m, true));
    const live = [...partial, ...complete];
    const units = backfillUnits();
    const coverage = new CoverageStore(t.db);
    // Warm-up: plans and caches of both writers.
    await upsertStrikeSides(t.db, live[0]);
    await rowByRow(t.db, live[0].slice(0, 50));
    targets.push(
      await shape(
        t,
        'live',
        live.reduce((n, b) => n + b.length, 0),
        async () => {
          for (const b of live) await upsertStrikeSides(t.db, b);
        },
        async () => {
          for (const b of live) await rowByRow(t.db, b);
        },
      ),
    );
    targets.push(
      await shape(
        t,
        'backfill',
        units.reduce((n, u) => n + u.reduce((k, c) => k + c.candles.length, 0), 0),
        async () => {
          for (const u of units) await writeUnit(t.db, coverage, u);
        },
        () => backfillRowByRow(t.db, units),
      ),
    );
  } finally {
    await t.close();
    stop();
  }
  return targets;
}

console.log(
  `writer benchmark: live ${STRIKES} strikes x 2 sides x ${MINUTES} minutes (partial, then complete), backfill ${BACKFILL_STRIKES} strikes x 2 sides x ${BACKFILL_MINUTES} minutes (one session per strike)`,
);
const all: string[] = [];
for (const backend of BACKENDS) all.push(...(await run(backend)));
console.log('\nsummary');
for (const t of all) console.log(t);
