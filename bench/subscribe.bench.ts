// bench:subscribe — against the devticker's PRODUCTION profile (the real service's shapes and quirks: account_id null on
// every row made without one, per-path limits, 30 POST/min, 100 GET/min), the seed's algorithm (bench/seed-port.ts)
// side by side with Strikedesk's SubscriptionManager. Each side has its own devticker (its own rate-limit windows)
// and its own market store fed by the real ingest path; "data" means the first bar stored for a token (DataSignals).
// Both sides poll the chain like an open chain screen: one request every 5 s (the seed's request also sleeps its
// 10 s "wait for data"). The devticker runs with dense ticks (every contract trades every second), so "has data"
// measures subscription, not the simulated liquidity of far strikes.
//
// Scenarios:
//   COLD    a 126-token NIFTY chain (3 expiries x 21 strikes x CE/PE) nobody subscribed.
//   WARM    a restarted backend asks for the same chain (already subscribed at the ticker).
//   BROKEN  the service's current revision: the first stream reload stops streaming for good while /health says
//           running (`reload: 'broken'`). The service already streams a few rows when the chain is asked for.
//           Strikedesk must say "streaming stopped" within 30 s and POST no token more than once.
//
//   npm run bench:subscribe                 ~7 minutes (126 POSTs at 30 a minute, then the broken-reload run)
//   CAP_SECONDS=300                         give up on a cold side after this long
//   BROKEN_SECONDS=90                       how long the broken-reload run keeps polling the chain
//   ONLY=cold | ONLY=broken                 one part only (cold+warm, or the broken reload); targets of that part
//
// If the devticker here has no production profile or no broken-reload switch yet (the options `profile:
// 'production'` and `reload: 'broken'`), the bench says so on its first lines and falls back: the default profile,
// and the older fault switch `stallAfterReload` (the next reload ends in a silent stall), which is the same failure.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevTicker, type DevTicker, type DevTickerOptions } from '../src/devticker/index';
import { FeedMonitor } from '../src/main/feed/monitor';
import { FlagService } from '../src/main/flags/flags';
import { TickIngestor } from '../src/main/ingest/ingestor';
import { silentLogger } from '../src/main/log';
import { DataSignals } from '../src/main/market/data-signals';
import { createTestMarketDb, type TestMarketDb } from '../src/main/market/testing/db';
import { noopTelemetry } from '../src/main/metrics/telemetry';
import type { Instrument } from '../src/main/registry/registry';
import { StateStore } from '../src/main/state/store';
import { resolveChain, type ChainLeg, type ChainRegistry } from '../src/main/chain/resolve';
import { SubscriptionManager } from '../src/main/subscriptions/manager';
import { StreamingWatch } from '../src/main/subscriptions/streaming-watch';
import { HttpTickerClient } from '../src/main/ticker/client';
import { systemScheduler } from '../src/shared/clock';
import { systemClock } from '../src/shared/clock';
import { CHANNEL_OPTIONS } from '../src/shared/feed';
import { SeedSmartSubscriptionManager, seedTickerClient, type SeedTickerClient } from './seed-port';
import { Targets } from './targets';

const CAP_MS = Number(process.env.CAP_SECONDS ?? 300) * 1000;
const BROKEN_MS = Number(process.env.BROKEN_SECONDS ?? 90) * 1000;
const POLL_MS = 5_000;
const PROGRESS_MS = 15_000;
const STOP_REPORT_TARGET_MS = 30_000;
const backend: 'pglite' | 'postgres' = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const ONLY = process.env.ONLY ?? '';
if (!['', 'cold', 'broken'].includes(ONLY)) throw new Error(`ONLY must be 'cold' or 'broken', not '${ONLY}'`);

// ---------- the devticker's profile, probed ----------

interface Profile {
  production: boolean;
  /** What the broken-reload scenario passes to the devticker. */
  broken: Partial<DevTickerOptions>;
  notes: string[];
}

const PRODUCTION_OPTIONS = { profile: 'production' } as unknown as Partial<DevTickerOptions>;

async function probeProfile(): Promise<Profile> {
  const dt = await startDevTicker({ port: 0, clockMode: 'always-open', autoTick: false, ...PRODUCTION_OPTIONS });
  try {
    const expiry = dt.registry.expiries('NIFTY')[0];
    const token = dt.registry.chain('NIFTY', expiry)[0].token;
    const res = await fetch(`${dt.url}/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instrument_token: token }),
    });
    const body = (await res.json()) as { account_id?: unknown };
    const production = res.status === 201 && body.account_id === null;
    const notes: string[] = [];
    if (!production) {
      notes.push(
        `FALLBACK: this devticker has no production profile (a POST without account_id answered ${JSON.stringify(body.account_id)}, the real service answers null): running on its default profile`,
      );
      notes.push("FALLBACK: broken reload via the fault switch stallAfterReload (the first reload ends in a silent stall), not `reload: 'broken'`");
      return { production, broken: { faults: { stallAfterReload: true } }, notes };
    }
    return { production, broken: { ...PRODUCTION_OPTIONS, reload: 'broken' } as unknown as Partial<DevTickerOptions>, notes };
  } finally {
    await dt.close();
  }
}

// ---------- one side: a devticker, a market store, the ingest path ----------

interface Side {
  name: string;
  dt: DevTicker;
  db: TestMarketDb;
  signals: DataSignals;
  ingestor: TickIngestor;
  monitor: FeedMonitor;
  firstData: Map<number, number>;
}

async function side(name: string, options: Partial<DevTickerOptions>): Promise<Side> {
  const dt = await startDevTicker({ port: 0, clockMode: 'always-open', denseTicks: true, ...options });
  const db = await createTestMarketDb(backend);
  const signals = new DataSignals();
  const firstData = new Map<number, number>();
  signals.onFirst((token, at) => firstData.set(token, at));
  const monitor = new FeedMonitor({ clock: systemClock, expectStreaming: () => true });
  const ingestor = new TickIngestor({
    bus: dt.bus,
    db: db.db,
    clock: systemClock,
    signals,
    telemetry: noopTelemetry,
    logger: silentLogger,
    monitor,
    acceptMockTicks: true,
  });
  ingestor.start();
  return { name, dt, db, signals, ingestor, monitor, firstData };
}

async function closeSide(s: Side): Promise<void> {
  await s.ingestor.stop();
  await s.dt.close();
  await s.db.close();
}

/** The chain resolver over the devticker's own registry (the production profile has no GET /instruments). */
function registryOf(dt: DevTicker): ChainRegistry {
  const strikesOf = (symbol: string, expiry: string) => [...new Set(dt.registry.chain(symbol, expiry).map((i) => i.strike))].sort((a, b) => a - b);
  return {
    expiries: async (symbol: string, onOrAfter: string) => dt.registry.expiries(symbol).filter((e) => e >= onOrAfter),
    chain: async (symbol: string, expiry: string) => dt.registry.chain(symbol, expiry) as unknown as Instrument[],
    strikeStep: async (symbol: string, expiry?: string) => {
      const strikes = strikesOf(symbol, expiry ?? dt.registry.expiries(symbol)[0]);
      return Math.min(...strikes.slice(1).map((k, i) => k - strikes[i]));
    },
  } as ChainRegistry;
}

async function chainOf(s: Side): Promise<{ legs: ChainLeg[]; atm: number[] }> {
  const registry = registryOf(s.dt);
  const expiries = (await registry.expiries('NIFTY', new Date().toISOString().slice(0, 10))).slice(0, 3);
  const chains = await resolveChain(registry, { symbol: 'NIFTY', expiries, strikesEachSide: 10, price: s.dt.sim.underlyingPrice('NIFTY') });
  const legs = chains.flatMap((c) => c.legs);
  if (legs.length !== 126) throw new Error(`expected 126 tokens, resolved ${legs.length}`);
  return { legs, atm: chains.flatMap((c) => c.legs.filter((l) => l.strike === c.centre).map((l) => l.token)) };
}

// ---------- POST accounting, per token, on each side's own client ----------

interface PostLog {
  /** token -> POSTs sent */
  sent: Map<number, number>;
  /** POSTs of a token that had already been answered 201 (active at the ticker). */
  rePostsOfActive: number;
  /** Order of first POSTs. */
  order: number[];
  answered: Set<number>;
}

const postLog = (): PostLog => ({ sent: new Map(), rePostsOfActive: 0, order: [], answered: new Set() });

async function logged<T>(log: PostLog, token: number, post: () => Promise<T>): Promise<T> {
  if (log.answered.has(token)) log.rePostsOfActive++;
  if (!log.sent.has(token)) log.order.push(token);
  log.sent.set(token, (log.sent.get(token) ?? 0) + 1);
  const out = await post();
  log.answered.add(token);
  return out;
}

function loggedSeedClient(url: string, log: PostLog): SeedTickerClient {
  const plain = seedTickerClient(url);
  return { listSubscriptions: (status) => plain.listSubscriptions(status), subscribe: (token, mode) => logged(log, token, () => plain.subscribe(token, mode)) };
}

function strikedeskManager(s: Side, log: PostLog): { manager: SubscriptionManager; client: HttpTickerClient; state: StateStore } {
  const state = new StateStore(join(mkdtempSync(join(tmpdir(), 'sd-bench-')), 'state.db'));
  state.migrate();
  const client = new HttpTickerClient({ baseUrl: s.dt.url });
  const subscribe = client.subscribe.bind(client);
  client.subscribe = (token, opts) => logged(log, token, () => subscribe(token, opts));
  const watch = new StreamingWatch({ lastStreamTickAt: () => s.monitor.lastChannelTickAt(CHANNEL_OPTIONS), sessionOpen: () => true });
  const manager = new SubscriptionManager({
    ticker: client,
    state,
    flags: new FlagService(state, {}),
    signals: s.signals,
    scheduler: systemScheduler,
    idleMs: () => 30 * 60_000,
    streaming: watch,
    maintainEveryMs: 1_000,
  });
  manager.start();
  return { manager, client, state };
}

async function stopManager(m: { manager: SubscriptionManager; client: HttpTickerClient; state: StateStore }): Promise<void> {
  await m.manager.stop();
  await m.client.close();
  m.state.close();
}

// ---------- figures ----------

function counts(dt: DevTicker): { calls: number; rateLimited: number; posts: number; byRoute: Record<string, Record<string, number>> } {
  const byRoute = dt.sim.counters().requests;
  let calls = 0;
  let rateLimited = 0;
  let posts = 0;
  for (const [route, statuses] of Object.entries(byRoute)) {
    if (route.startsWith('GET /instruments') || route.startsWith('GET /_sim') || route.startsWith('POST /_sim')) continue;
    for (const [status, n] of Object.entries(statuses)) {
      calls += n;
      if (status === '429') rateLimited += n;
      if (route === 'POST /subscriptions') posts += n;
    }
  }
  return { calls, rateLimited, posts, byRoute: structuredClone(byRoute) };
}

/**
 * Active rows at the ticker, as its own listing says (every page). Taken after a side's figures are counted; a side
 * that spent its GET budget (the seed) makes this wait for the service's window to reset.
 */
async function activeAtTicker(dt: DevTicker): Promise<Set<number>> {
  const out = new Set<number>();
  const deadline = Date.now() + 75_000;
  for (let offset = 0; ;) {
    const res = await fetch(`${dt.url}/subscriptions?status=active&limit=1000&offset=${offset}`);
    if (res.status === 429 && Date.now() < deadline) {
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 2_000));
      continue;
    }
    if (res.status !== 200) throw new Error(`GET /subscriptions answered ${res.status}`);
    const page = (await res.json()) as { instrument_token: number }[];
    for (const r of page) out.add(r.instrument_token);
    if (page.length < 1000) return out;
    offset += 1000;
  }
}

interface RunFigures {
  calls: number;
  byRoute: Record<string, Record<string, number>>;
  rateLimited: number;
  posts: number;
  withData: number;
  activeAtTicker: number;
  streaming: number;
  reportedActive: number;
  rePostsOfActive: number;
  maxPostsPerToken: number;
  atmDataMs: number | null;
  atmWithData: number;
  /** ATM legs were among the first POSTs and had data no later than any leg POSTed after the first burst. */
  atmFirst: boolean;
  allDataMs: number | null;
  requests: number;
}

/** Polls the chain through `request` until every token has data or the cap; prints progress. */
async function run(
  s: Side,
  label: string,
  tokens: number[],
  atm: number[],
  request: () => Promise<void>,
  reported: () => Set<number>,
  log: PostLog,
  cap = CAP_MS,
): Promise<RunFigures> {
  const started = Date.now();
  const have = () => tokens.filter((t) => s.firstData.has(t)).length;
  let requests = 0;
  let lastProgress = started;
  // At least one request (a warm repeat finds everything with data already).
  while (requests === 0 || (have() < tokens.length && Date.now() - started < cap)) {
    const t0 = Date.now();
    await request();
    requests++;
    if (Date.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = Date.now();
      const c = counts(s.dt);
      console.log(
        `  [${label}] ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s: ${have()}/${tokens.length} with data, ${c.calls} ticker calls, ${c.rateLimited} x 429`,
      );
    }
    const rest = POLL_MS - (Date.now() - t0);
    if (rest > 0 && have() < tokens.length) await new Promise((r) => setTimeout(r, rest));
  }
  // Let the last subscriptions' data arrive and one more request report it (a reload takes a few seconds).
  const settleUntil = Date.now() + 8_000;
  while (have() < tokens.length && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 250));
  await request();
  const c = counts(s.dt);
  const atTicker = await activeAtTicker(s.dt);
  const streaming = new Set(s.dt.sim.streamingTokens());
  const shown = reported();
  const atmData = atm.map((t) => s.firstData.get(t));
  const atmDataAt = atmData.every((t) => t !== undefined) ? Math.max(...(atmData as number[])) : null;
  const firstBurst = new Set(log.order.slice(0, 30));
  const later = tokens.filter((t) => !firstBurst.has(t) && s.firstData.has(t)).map((t) => s.firstData.get(t) as number);
  const atmPostedFirst = atm.every((t) => log.order.indexOf(t) >= 0 && log.order.indexOf(t) < atm.length * 2);
  return {
    ...c,
    withData: have(),
    activeAtTicker: tokens.filter((t) => atTicker.has(t)).length,
    streaming: tokens.filter((t) => streaming.has(t)).length,
    reportedActive: tokens.filter((t) => shown.has(t)).length,
    rePostsOfActive: log.rePostsOfActive,
    maxPostsPerToken: Math.max(0, ...log.sent.values()),
    atmDataMs: atmDataAt === null ? null : Math.max(0, atmDataAt - started),
    atmWithData: atmData.filter((t) => t !== undefined).length,
    atmFirst: atmDataAt !== null && (log.order.length === 0 || atmPostedFirst) && later.every((t) => atmDataAt <= t),
    allDataMs: have() === tokens.length ? Math.max(0, ...tokens.map((t) => (s.firstData.get(t) as number) - started)) : null,
    requests,
  };
}

const secs = (ms: number | null): string => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)}`);
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(0)}%`;
const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? '1.0x' : 'inf') : `${(a / b).toFixed(2)}x`);

function table(title: string, seed: RunFigures, sd: RunFigures, n: number): void {
  const rows: [string, string, string, string][] = [
    ['ticker calls', String(seed.calls), String(sd.calls), `strikedesk/seed ${ratio(sd.calls, seed.calls)}`],
    ['  POSTs', String(seed.posts), String(sd.posts), `strikedesk/seed ${ratio(sd.posts, seed.posts)}`],
    ['  429 answers', String(seed.rateLimited), String(sd.rateLimited), ''],
    ['re-POSTs of an active token', String(seed.rePostsOfActive), String(sd.rePostsOfActive), ''],
    ['chain requests', String(seed.requests), String(sd.requests), ''],
    [
      'legs active at the ticker',
      `${seed.activeAtTicker}/${n} ${pct(seed.activeAtTicker, n)}`,
      `${sd.activeAtTicker}/${n} ${pct(sd.activeAtTicker, n)}`,
      `strikedesk/seed ${ratio(sd.activeAtTicker, seed.activeAtTicker)}`,
    ],
    ['legs streaming', `${seed.streaming}/${n}`, `${sd.streaming}/${n}`, ''],
    ['legs reported active', `${seed.reportedActive}/${n} ${pct(seed.reportedActive, n)}`, `${sd.reportedActive}/${n} ${pct(sd.reportedActive, n)}`, ''],
    [
      'legs with data',
      `${seed.withData}/${n} ${pct(seed.withData, n)}`,
      `${sd.withData}/${n} ${pct(sd.withData, n)}`,
      `strikedesk/seed ${ratio(sd.withData, seed.withData)}`,
    ],
    ['ATM legs with data', `${seed.atmWithData}/6`, `${sd.atmWithData}/6`, ''],
    [
      'time to ATM data (s)',
      secs(seed.atmDataMs),
      secs(sd.atmDataMs),
      seed.atmDataMs && sd.atmDataMs ? `strikedesk/seed ${ratio(sd.atmDataMs, seed.atmDataMs)}` : '',
    ],
    ['ATM data first', String(seed.atmFirst), String(sd.atmFirst), ''],
    [
      'time to all data (s)',
      secs(seed.allDataMs),
      secs(sd.allDataMs),
      seed.allDataMs && sd.allDataMs ? `strikedesk/seed ${ratio(sd.allDataMs, seed.allDataMs)}` : '',
    ],
  ];
  console.log(`\n${title}`);
  console.log(`  ${'metric'.padEnd(30)}${'seed port'.padEnd(18)}${'strikedesk'.padEnd(18)}ratio`);
  for (const [m, a, b, r] of rows) console.log(`  ${m.padEnd(30)}${a.padEnd(18)}${b.padEnd(18)}${r}`);
}

const targets = new Targets();
function target(name: string, met: boolean, value: string, goal: string): void {
  targets.check(name, met, value, goal);
}

// ---------- broken reload ----------

interface BrokenFigures {
  posts: number;
  maxPostsPerToken: number;
  tokensPosted: number;
  rateLimited: number;
  /** From the last stream tick (or the first 201 when nothing ever streamed) to the verdict. */
  reportMs: number | null;
  message: string | null;
  streamStoppedAtTicker: boolean;
  heldPending: number;
}

async function brokenRun(profile: Profile): Promise<{ seed: BrokenFigures; sd: BrokenFigures }> {
  const sdSide = await side('strikedesk broken', profile.broken);
  const seedSide = await side('seed broken', profile.broken);
  // The service already streams a few rows (the strike rebalancer's, say) when the chain is asked for.
  for (const s of [sdSide, seedSide]) {
    const expiry = s.dt.registry.expiries('BANKNIFTY')[0];
    s.dt.sim.subscribe(
      s.dt.registry
        .chain('BANKNIFTY', expiry)
        .slice(0, 4)
        .map((i) => i.token),
      { accountId: 'primary' },
    );
  }
  await new Promise((r) => setTimeout(r, 2_000));
  const sdLog = postLog();
  const seedLog = postLog();
  const sd = strikedeskManager(sdSide, sdLog);
  const seed = new SeedSmartSubscriptionManager(loggedSeedClient(seedSide.dt.url, seedLog));
  const sdChain = await chainOf(sdSide);
  const seedChain = await chainOf(seedSide);
  const rankOf = new Map(sdChain.legs.map((l) => [l.token, l.rank]));
  const expiryOf = new Map(sdChain.legs.map((l) => [l.token, l.expiry]));
  const started = Date.now();
  let stoppedAt: number | null = null;
  let message: string | null = null;
  const watchTimer = setInterval(() => {
    const view = sd.manager.streamingView();
    if (stoppedAt === null && view?.state === 'stopped') {
      stoppedAt = Date.now();
      message = view.message;
    }
  }, 100);
  const ticksAt = (s: Side) => s.dt.sim.counters().ticksPublished;
  console.log(
    `\nbroken reload: ${sdChain.legs.length}-token chain asked every 5 s for ${BROKEN_MS / 1000} s on a service whose first reload stops streaming for good`,
  );
  const poll = async (label: string, request: () => Promise<void>) => {
    let lastProgress = Date.now();
    while (Date.now() - started < BROKEN_MS) {
      const t0 = Date.now();
      await request();
      if (Date.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = Date.now();
        console.log(
          `  [${label}] ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s: ${label.startsWith('seed') ? seedLog.sent.size : sdLog.sent.size} tokens POSTed`,
        );
      }
      const rest = POLL_MS - (Date.now() - t0);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
  };
  await Promise.all([
    poll('strikedesk', async () => {
      await sd.manager.ensureSubscribed(
        sdChain.legs.map((l) => l.token),
        { owner: (t) => `auto:NIFTY ${expiryOf.get(t)}`, rank: (t) => rankOf.get(t) ?? 0, waitFor: sdChain.atm, waitMs: 5_000, symbol: 'NIFTY' },
      );
    }),
    poll('seed', async () => {
      await seed.ensureSubscribed(
        seedChain.legs.map((l) => l.token),
        true,
        10,
      );
    }),
  ]);
  clearInterval(watchTimer);
  const lastTick = sdSide.monitor.lastChannelTickAt(CHANNEL_OPTIONS);
  const firstAnswer = started; // nothing streamed: silence counts from the request
  const reference = lastTick !== null && lastTick >= started - 5_000 ? lastTick : firstAnswer;
  const ticksBefore = [ticksAt(sdSide), ticksAt(seedSide)];
  await new Promise((r) => setTimeout(r, 2_000));
  const stopped = [ticksAt(sdSide) === ticksBefore[0], ticksAt(seedSide) === ticksBefore[1]];
  const figures = (s: Side, log: PostLog, reportMs: number | null, msg: string | null, streamStopped: boolean, held: number): BrokenFigures => ({
    posts: counts(s.dt).posts,
    maxPostsPerToken: Math.max(0, ...log.sent.values()),
    tokensPosted: log.sent.size,
    rateLimited: counts(s.dt).rateLimited,
    reportMs,
    message: msg,
    streamStoppedAtTicker: streamStopped,
    heldPending: held,
  });
  const result = {
    sd: figures(sdSide, sdLog, stoppedAt === null ? null : Math.max(0, (stoppedAt as number) - reference), message, stopped[0], sd.manager.queuedCount()),
    seed: figures(seedSide, seedLog, null, null, stopped[1], 0),
  };
  await stopManager(sd);
  await closeSide(sdSide);
  await closeSide(seedSide);
  return result;
}

// ---------- main ----------

async function main(): Promise<void> {
  const profile = await probeProfile();
  console.log(`bench:subscribe — devticker ${profile.production ? 'production profile' : 'DEFAULT profile (fallback)'}, real limits, market store ${backend}`);
  for (const note of profile.notes) console.log(`  ${note}`);
  const base = profile.production ? PRODUCTION_OPTIONS : {};
  if (ONLY !== 'broken') await coldAndWarm(base);
  if (ONLY !== 'cold') await broken(profile);
  console.log('');
  targets.print();
}

async function coldAndWarm(base: Partial<DevTickerOptions>): Promise<void> {
  const seedSide = await side('seed', base);
  const sdSide = await side('strikedesk', base);
  const seedChain = await chainOf(seedSide);
  const sdChain = await chainOf(sdSide);
  // The seed walks the chain in registry order (expiry, strike, CE/PE); Strikedesk ranks it nearest-ATM first.
  const seedTokens = [...seedChain.legs]
    .sort((a, b) => (a.expiry < b.expiry ? -1 : a.expiry > b.expiry ? 1 : a.strike - b.strike || (a.side < b.side ? -1 : 1)))
    .map((l) => l.token);
  const sdTokens = sdChain.legs.map((l) => l.token);
  const rankOf = new Map(sdChain.legs.map((l) => [l.token, l.rank]));
  const expiryOf = new Map(sdChain.legs.map((l) => [l.token, l.expiry]));

  const seedLog = postLog();
  const sdLog = postLog();
  const seed = new SeedSmartSubscriptionManager(loggedSeedClient(seedSide.dt.url, seedLog));
  let seedShown = new Set<number>();
  const sd = strikedeskManager(sdSide, sdLog);
  const sdRequest = async () => {
    await sd.manager.ensureSubscribed(sdTokens, {
      owner: (t) => `auto:NIFTY ${expiryOf.get(t)}`,
      rank: (t) => rankOf.get(t) ?? 0,
      waitFor: sdChain.atm,
      symbol: 'NIFTY',
    });
  };
  const sdShown = (m: SubscriptionManager) => () => new Set(sdTokens.filter((t) => m.statusOf(t) === 'active'));
  const seedRequest = (m: SeedSmartSubscriptionManager) => async () => {
    const r = await m.ensureSubscribed(seedTokens, true, 10);
    seedShown = new Set([...r.already_subscribed, ...r.newly_subscribed]);
  };
  console.log(`\ncold chain: ${sdTokens.length} tokens, ATM ${sdChain.atm.length} legs; both sides run concurrently (cap ${CAP_MS / 1000} s)`);
  const [coldSeed, coldSd] = await Promise.all([
    run(seedSide, 'seed', seedTokens, seedChain.atm, seedRequest(seed), () => seedShown, seedLog),
    run(sdSide, 'strikedesk', sdTokens, sdChain.atm, sdRequest, sdShown(sd.manager), sdLog),
  ]);
  table('COLD chain (nothing subscribed)', coldSeed, coldSd, 126);

  // Warm repeat: a restarted backend (fresh caches) asks for the same chain; the ticker keeps what the cold run
  // subscribed, and the rate-limit windows have reset (sim reset = a minute later).
  await stopManager(sd);
  for (const s of [seedSide, sdSide]) s.dt.sim.resetCounters();
  for (const s of [seedSide, sdSide]) s.dt.sim.reset();
  const warmSeedLog = postLog();
  const warmSdLog = postLog();
  const seedWarm = new SeedSmartSubscriptionManager(loggedSeedClient(seedSide.dt.url, warmSeedLog));
  const sdWarm = strikedeskManager(sdSide, warmSdLog);
  const warmCap = 30_000;
  const [warmSeed, warmSd] = await Promise.all([
    run(seedSide, 'seed warm', seedTokens, seedChain.atm, seedRequest(seedWarm), () => seedShown, warmSeedLog, warmCap),
    run(
      sdSide,
      'strikedesk warm',
      sdTokens,
      sdChain.atm,
      async () => {
        await sdWarm.manager.ensureSubscribed(sdTokens, {
          owner: (t) => `auto:NIFTY ${expiryOf.get(t)}`,
          rank: (t) => rankOf.get(t) ?? 0,
          waitFor: sdChain.atm,
          symbol: 'NIFTY',
        });
      },
      sdShown(sdWarm.manager),
      warmSdLog,
      warmCap,
    ),
  ]);
  table('WARM repeat (restarted backend, chain already subscribed; times from the repeat; cap 30 s)', warmSeed, warmSd, 126);
  console.log(`\nper route (cold): seed ${JSON.stringify(coldSeed.byRoute)}\n                  strikedesk ${JSON.stringify(coldSd.byRoute)}`);
  console.log(`per route (warm): seed ${JSON.stringify(warmSeed.byRoute)}\n                  strikedesk ${JSON.stringify(warmSd.byRoute)}`);
  await stopManager(sdWarm);
  await closeSide(seedSide);
  await closeSide(sdSide);

  const n = 126;
  target('cold legs active at the ticker', coldSd.activeAtTicker === n, `${coldSd.activeAtTicker}/${n}`, `${n}/${n}`);
  target('cold legs reported active by the console', coldSd.reportedActive === n, `${coldSd.reportedActive}/${n}`, `${n}/${n}`);
  target('cold avoidable 429s', coldSd.rateLimited === 0, String(coldSd.rateLimited), '0');
  target('cold re-POSTs of an active token', coldSd.rePostsOfActive === 0, String(coldSd.rePostsOfActive), '0');
  target(
    'cold ATM data first',
    coldSd.atmFirst,
    `ATM data at ${secs(coldSd.atmDataMs)} s, all data at ${secs(coldSd.allDataMs)} s`,
    'ATM legs first POSTed and no later than any later leg',
  );
  target('warm POSTs', warmSd.posts === 0, String(warmSd.posts), '0');
}

async function broken(profile: Profile): Promise<void> {
  const broken = await brokenRun(profile);
  console.log('\nBROKEN reload (the first reload stops streaming for good; /health keeps saying running)');
  console.log(`  ${'metric'.padEnd(42)}${'seed port'.padEnd(18)}${'strikedesk'.padEnd(18)}`);
  const brokenRows: [string, string, string][] = [
    ['service stopped streaming', String(broken.seed.streamStoppedAtTicker), String(broken.sd.streamStoppedAtTicker)],
    ['POSTs in total', String(broken.seed.posts), String(broken.sd.posts)],
    ['tokens POSTed', String(broken.seed.tokensPosted), String(broken.sd.tokensPosted)],
    ['most POSTs of one token', String(broken.seed.maxPostsPerToken), String(broken.sd.maxPostsPerToken)],
    ['429 answers', String(broken.seed.rateLimited), String(broken.sd.rateLimited)],
    ['"streaming stopped" reported after (s)', 'never', secs(broken.sd.reportMs)],
    ['legs held (not sent) at the end', '-', String(broken.sd.heldPending)],
  ];
  for (const [m, a, b] of brokenRows) console.log(`  ${m.padEnd(42)}${a.padEnd(18)}${b.padEnd(18)}`);
  console.log(`  strikedesk said: ${broken.sd.message ?? '(nothing)'}`);
  target(
    'broken "streaming stopped" reported',
    broken.sd.reportMs !== null && broken.sd.reportMs <= STOP_REPORT_TARGET_MS,
    `${secs(broken.sd.reportMs)} s`,
    `<= ${STOP_REPORT_TARGET_MS / 1000} s`,
  );
  target('broken POSTs per token', broken.sd.maxPostsPerToken <= 1, String(broken.sd.maxPostsPerToken), '<= 1');
  if (!broken.sd.streamStoppedAtTicker) console.log('\n  NOTE: the devticker kept streaming in the broken-reload run: the scenario did not take effect');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
