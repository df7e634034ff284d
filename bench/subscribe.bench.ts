// bench:subscribe — a cold NIFTY chain of 126 tokens (3 expiries x 21 strikes x CE/PE) and a warm repeat, against
// the devticker with its REAL limits (30 POST/min, 100 GET/min), the seed's algorithm (bench/seed-port.ts) side by
// side with Strikedesk's SubscriptionManager. Each side has its own devticker (its own rate-limit windows) and its
// own market store fed by the real ingest path; "data" means the first bar stored for a token (DataSignals).
// Both sides poll the chain like an open chain screen: one request every 5 s (the seed's request also sleeps its
// 10 s "wait for data"). The devticker runs with dense ticks (every contract trades every second), so "has data"
// measures subscription, not the simulated liquidity of far strikes.
//
//   npm run bench:subscribe                 the real thing: ~4-5 minutes (126 POSTs at 30 a minute)
//   npm run bench:subscribe -- --fast       accepted, but the devticker has no rate-window scale option (its windows
//                                           are fixed 60 s of its clock), so it runs the real thing too, with progress
//   CAP_SECONDS=300                         give up on a side after this long
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevTicker, type DevTicker } from '../src/devticker/index';
import { FlagService } from '../src/main/flags/flags';
import { TickIngestor } from '../src/main/ingest/ingestor';
import { silentLogger } from '../src/main/log';
import { DataSignals } from '../src/main/market/data-signals';
import { createTestMarketDb, type TestMarketDb } from '../src/main/market/testing';
import { noopTelemetry } from '../src/main/metrics/telemetry';
import { InstrumentRegistry } from '../src/main/registry/registry';
import { StateStore } from '../src/main/state/store';
import { resolveChain, type ChainLeg } from '../src/main/subscriptions/chain';
import { SubscriptionManager } from '../src/main/subscriptions/manager';
import { HttpTickerClient } from '../src/main/ticker/client';
import { systemScheduler } from '../src/main/ticker/time';
import { systemClock } from '../src/shared/clock';
import { SeedSmartSubscriptionManager, seedTickerClient } from './seed-port';

const FAST = process.argv.includes('--fast');
const CAP_MS = Number(process.env.CAP_SECONDS ?? 300) * 1000;
const POLL_MS = 5_000;
const PROGRESS_MS = 15_000;
const backend: 'pglite' | 'postgres' = process.env.DATABASE_URL ? 'postgres' : 'pglite';

interface Side {
  name: string;
  dt: DevTicker;
  db: TestMarketDb;
  signals: DataSignals;
  ingestor: TickIngestor;
  firstData: Map<number, number>;
  registry: InstrumentRegistry;
}

interface RunFigures {
  calls: number;
  byRoute: Record<string, Record<string, number>>;
  rateLimited: number;
  withData: number;
  subscribed: number;
  atmDataMs: number | null;
  atmWithData: number;
  allDataMs: number | null;
  requests: number;
}

async function side(name: string): Promise<Side> {
  const dt = await startDevTicker({ port: 0, clockMode: 'always-open', denseTicks: true });
  const db = await createTestMarketDb(backend);
  const signals = new DataSignals();
  const firstData = new Map<number, number>();
  signals.onFirst((token, at) => firstData.set(token, at));
  const ingestor = new TickIngestor({ bus: dt.bus, db: db.db, clock: systemClock, signals, telemetry: noopTelemetry, logger: silentLogger, acceptMockTicks: true });
  ingestor.start();
  const registry = new InstrumentRegistry({ db: db.db, clock: systemClock, source: InstrumentRegistry.sourceFrom('ticker', dt.url) });
  await registry.refresh();
  return { name, dt, db, signals, ingestor, firstData, registry };
}

async function chainOf(s: Side): Promise<{ legs: ChainLeg[]; atm: number[] }> {
  const expiries = (await s.registry.expiries('NIFTY', new Date().toISOString().slice(0, 10))).slice(0, 3);
  const chains = await resolveChain(s.registry, { symbol: 'NIFTY', expiries, strikesEachSide: 10, price: s.dt.sim.underlyingPrice('NIFTY') });
  const legs = chains.flatMap((c) => c.legs);
  if (legs.length !== 126) throw new Error(`expected 126 tokens, resolved ${legs.length}`);
  return { legs, atm: chains.flatMap((c) => c.legs.filter((l) => l.strike === c.centre).map((l) => l.token)) };
}

function counts(dt: DevTicker): { calls: number; rateLimited: number; byRoute: Record<string, Record<string, number>> } {
  const byRoute = dt.sim.counters().requests;
  let calls = 0;
  let rateLimited = 0;
  for (const [route, statuses] of Object.entries(byRoute)) {
    if (route.startsWith('GET /instruments')) continue;
    for (const [status, n] of Object.entries(statuses)) {
      calls += n;
      if (status === '429') rateLimited += n;
    }
  }
  return { calls, rateLimited, byRoute: structuredClone(byRoute) };
}

/** Polls the chain through `request` until every token has data or the cap; prints progress. */
async function run(s: Side, label: string, tokens: number[], atm: number[], request: () => Promise<void>, cap = CAP_MS): Promise<RunFigures> {
  const started = Date.now();
  const have = () => tokens.filter((t) => s.firstData.has(t)).length;
  let requests = 0;
  let lastProgress = started;
  const atmAt = () => (atm.every((t) => s.firstData.has(t)) ? Math.max(0, ...atm.map((t) => (s.firstData.get(t) as number) - started)) : null);
  // At least one request (a warm repeat finds everything with data already).
  while (requests === 0 || (have() < tokens.length && Date.now() - started < cap)) {
    const t0 = Date.now();
    await request();
    requests++;
    if (Date.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = Date.now();
      const c = counts(s.dt);
      console.log(`  [${label}] ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s: ${have()}/${tokens.length} with data, ${c.calls} ticker calls, ${c.rateLimited} x 429`);
    }
    const rest = POLL_MS - (Date.now() - t0);
    if (rest > 0 && have() < tokens.length) await new Promise((r) => setTimeout(r, rest));
  }
  // Let data of the last subscriptions arrive before counting (a reload takes a few seconds).
  const settleUntil = Date.now() + 8_000;
  while (have() < tokens.length && Date.now() < settleUntil && Date.now() - started < cap + 8_000) await new Promise((r) => setTimeout(r, 250));
  const c = counts(s.dt);
  const active = new Set(s.dt.sim.streamingTokens());
  return {
    ...c,
    withData: have(),
    subscribed: tokens.filter((t) => active.has(t)).length,
    atmDataMs: atmAt(),
    atmWithData: atm.filter((t) => s.firstData.has(t)).length,
    allDataMs: have() === tokens.length ? Math.max(0, ...tokens.map((t) => (s.firstData.get(t) as number) - started)) : null,
    requests,
  };
}

function strikedeskManager(s: Side): { manager: SubscriptionManager; client: HttpTickerClient; state: StateStore } {
  const state = new StateStore(join(mkdtempSync(join(tmpdir(), 'sd-bench-')), 'state.db'));
  state.migrate();
  const client = new HttpTickerClient({ baseUrl: s.dt.url });
  const manager = new SubscriptionManager({
    ticker: client, state, flags: new FlagService(state, {}), signals: s.signals, scheduler: systemScheduler, idleMs: () => 30 * 60_000,
  });
  manager.start();
  return { manager, client, state };
}

const secs = (ms: number | null, suffix = ''): string => (ms === null ? `never${suffix}` : `${(ms / 1000).toFixed(1)}`);
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(0)}%`;
const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? '1.0x' : 'inf') : `${(a / b).toFixed(1)}x`);

function table(title: string, seed: RunFigures, sd: RunFigures, n: number): void {
  const rows: [string, string, string, string][] = [
    ['ticker calls', String(seed.calls), String(sd.calls), `seed/strikedesk ${ratio(seed.calls, sd.calls)}`],
    ['  of which 429', String(seed.rateLimited), String(sd.rateLimited), ''],
    ['chain requests', String(seed.requests), String(sd.requests), ''],
    ['success (data / tokens)', `${seed.withData}/${n} ${pct(seed.withData, n)}`, `${sd.withData}/${n} ${pct(sd.withData, n)}`, `strikedesk/seed ${ratio(sd.withData, seed.withData)}`],
    ['ATM legs with data', `${seed.atmWithData}/6`, `${sd.atmWithData}/6`, ''],
    ['time to ATM data (s)', secs(seed.atmDataMs), secs(sd.atmDataMs), seed.atmDataMs && sd.atmDataMs ? `seed/strikedesk ${ratio(seed.atmDataMs, sd.atmDataMs)}` : ''],
    ['time to all data (s)', secs(seed.allDataMs), secs(sd.allDataMs), ''],
  ];
  console.log(`\n${title}`);
  console.log(`  ${'metric'.padEnd(26)}${'seed port'.padEnd(18)}${'strikedesk'.padEnd(18)}ratio`);
  for (const [m, a, b, r] of rows) console.log(`  ${m.padEnd(26)}${a.padEnd(18)}${b.padEnd(18)}${r}`);
}

async function main(): Promise<void> {
  console.log(`bench:subscribe — cold 126-token NIFTY chain + warm repeat, devticker real limits, market store ${backend}`);
  if (FAST) console.log('  --fast: the devticker has no rate-limit window scale option (fixed 60 s windows): running the real thing, with progress.');
  const seedSide = await side('seed');
  const sdSide = await side('strikedesk');
  const seedChain = await chainOf(seedSide);
  const sdChain = await chainOf(sdSide);
  // The seed walks the chain in registry order (expiry, strike, CE/PE); Strikedesk ranks it nearest-ATM first.
  const seedTokens = [...seedChain.legs].sort((a, b) => (a.expiry < b.expiry ? -1 : a.expiry > b.expiry ? 1 : a.strike - b.strike || (a.side < b.side ? -1 : 1))).map((l) => l.token);
  const sdTokens = sdChain.legs.map((l) => l.token);
  const rankOf = new Map(sdChain.legs.map((l) => [l.token, l.rank]));
  const expiryOf = new Map(sdChain.legs.map((l) => [l.token, l.expiry]));

  const seed = new SeedSmartSubscriptionManager(seedTickerClient(seedSide.dt.url));
  const sd = strikedeskManager(sdSide);
  const sdRequest = async () => {
    await sd.manager.ensureSubscribed(sdTokens, { owner: (t) => `auto:NIFTY ${expiryOf.get(t)}`, rank: (t) => rankOf.get(t) ?? 0, waitFor: sdChain.atm, symbol: 'NIFTY' });
  };
  console.log(`\ncold chain: ${sdTokens.length} tokens, ATM ${sdChain.atm.length} legs; both sides run concurrently (cap ${CAP_MS / 1000} s)`);
  const [coldSeed, coldSd] = await Promise.all([
    run(seedSide, 'seed', seedTokens, seedChain.atm, async () => {
      await seed.ensureSubscribed(seedTokens, true, 10);
    }),
    run(sdSide, 'strikedesk', sdTokens, sdChain.atm, sdRequest),
  ]);
  table('COLD chain (nothing subscribed)', coldSeed, coldSd, 126);

  // Warm repeat: a restarted backend (fresh caches) asks for the same chain; the ticker keeps what the cold run
  // subscribed, and the rate-limit windows have reset (sim reset = a minute later).
  await sd.manager.stop();
  await sd.client.close();
  sd.state.close();
  for (const s of [seedSide, sdSide]) s.dt.sim.resetCounters();
  for (const s of [seedSide, sdSide]) s.dt.sim.reset();
  const seedWarm = new SeedSmartSubscriptionManager(seedTickerClient(seedSide.dt.url));
  const sdWarm = strikedeskManager(sdSide);
  const warmCap = 30_000;
  const [warmSeed, warmSd] = await Promise.all([
    run(seedSide, 'seed warm', seedTokens, seedChain.atm, async () => {
      await seedWarm.ensureSubscribed(seedTokens, true, 10);
    }, warmCap),
    run(sdSide, 'strikedesk warm', sdTokens, sdChain.atm, async () => {
      await sdWarm.manager.ensureSubscribed(sdTokens, { owner: (t) => `auto:NIFTY ${expiryOf.get(t)}`, rank: (t) => rankOf.get(t) ?? 0, waitFor: sdChain.atm, symbol: 'NIFTY' });
    }, warmCap),
  ]);
  table('WARM repeat (restarted backend, chain already subscribed; times from the repeat; cap 30 s)', warmSeed, warmSd, 126);
  console.log(`\nper route (cold): seed ${JSON.stringify(coldSeed.byRoute)}\n                  strikedesk ${JSON.stringify(coldSd.byRoute)}`);
  console.log(`per route (warm): seed ${JSON.stringify(warmSeed.byRoute)}\n                  strikedesk ${JSON.stringify(warmSd.byRoute)}`);

  await sdWarm.manager.stop();
  await sdWarm.client.close();
  sdWarm.state.close();
  for (const s of [seedSide, sdSide]) {
    await s.ingestor.stop();
    await s.dt.close();
    await s.db.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
