// The [ticker] start-up step and its instrument source: the settings choose the source, a source that cannot be read
// stops start-up with one line naming the setting (credentials redacted), the embedded devticker's registry loads by
// default, a real service never falls back to the devticker's /instruments, and no registry log line carries the
// TICKER_URL's credentials.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startDevTicker, type DevTicker } from '../../devticker';
import { ManualClock } from '../../testing/clock';
import { HealthRegistry } from '../metrics/health';
import { fromIstWallClock } from '../calendar';
import type { Config } from '../config/settings';
import { ConfigError } from '../config/load';
import { rootLogger, setRootLogger } from '../log';
import { createTestMarketDb, type TestMarketDb } from '../market/testing/db';
import { noopTelemetry } from '../metrics/telemetry';
import { startTestPostgres, type TestPostgres } from '../registry/testing/postgres';
import { startTicker, type TickerDeps } from './start';

const T0 = fromIstWallClock('2025-11-04T11:00:00');
const clock = new ManualClock(T0);
let dt: DevTicker;
let store: TestMarketDb;
let postgres: TestPostgres;
let notFound: Server;
let notFoundUrl: string;
const stops: (() => Promise<void> | void)[] = [];
const logLines: string[] = [];
const previousRoot = rootLogger();

function context(config: Partial<Config>, opts: { devticker?: DevTicker; tickerUrl?: string; market?: TestMarketDb } = {}) {
  return {
    config: { instrumentsSource: 'auto', ...config } as Config,
    clock,
    health: new HealthRegistry('test'),
    telemetry: noopTelemetry,
    market: (opts.market ?? store).db,
    devticker: opts.devticker,
    tickerUrl: opts.tickerUrl ?? config.tickerUrl ?? opts.devticker?.url ?? 'http://127.0.0.1:8080',
    onStop: (_name: string, stop: () => Promise<void> | void) => void stops.push(stop),
  } satisfies TickerDeps;
}

async function startupError(ctx: TickerDeps): Promise<Error> {
  const err = await startTicker(ctx).then(
    () => null,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error('start-up did not fail');
  return err;
}

beforeAll(async () => {
  dt = await startDevTicker({ port: 0, clock, autoTick: false, instrumentsRoute: true });
  store = await createTestMarketDb('pglite');
  postgres = await startTestPostgres();
  // A stand-in for the real service's routes that matter here: /instruments is 404 there.
  notFound = createServer((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}'));
  await new Promise<void>((resolve) => notFound.listen(0, '127.0.0.1', resolve));
  notFoundUrl = `http://127.0.0.1:${(notFound.address() as AddressInfo).port}`;
  setRootLogger(
    pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    ),
  );
}, 120_000);
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});
afterAll(async () => {
  setRootLogger(previousRoot);
  await new Promise<void>((resolve) => notFound?.close(() => resolve()));
  await dt?.close();
  await store?.close();
  await postgres?.stop();
});

describe('startTicker: the instrument source', () => {
  it("loads the embedded devticker's registry by default (TICKER_URL unset)", async () => {
    const { registry } = await startTicker(context({}, { devticker: dt }));
    await registry.loaded();
    expect(registry.status()).toMatchObject({ source: 'embedded devticker registry', lastError: null, rows: dt.registry.live.length });
  });

  it('with TICKER_URL set and no database to read the table from, fails naming the setting', async () => {
    const err = await startupError(context({ tickerUrl: notFoundUrl }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^STRIKEDESK_INSTRUMENT_DATABASE_URL is not set/);
    expect(err.message).not.toContain('\n');
  });

  it('never falls back to /instruments at a real service: the ticker table is what auto means', async () => {
    const err = await startupError(context({ tickerUrl: notFoundUrl, instrumentDatabaseUrl: postgres.url.replace('postgres@', 'postgres:sekret@') }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^STRIKEDESK_INSTRUMENT_DATABASE_URL: cannot read instruments from table instrument_registry at postgres:\/\/postgres:\*\*\*@/);
    expect(err.message).toContain('instrument_registry'); // the relation does not exist there
    expect(err.message).not.toContain('sekret');
  });

  it('a table named by DATABASE_URL alone is read in place, and an empty one fails naming DATABASE_URL', async () => {
    const empty = await createTestMarketDb('pglite');
    const err = await startupError(context({ tickerUrl: notFoundUrl, databaseUrl: 'postgres://x:y@127.0.0.1:1/db' }, { market: empty })).finally(() =>
      empty.close(),
    );
    expect(err.message).toMatch(
      /^DATABASE_URL: cannot read instruments from table instrument_registry in the market store: instrument_registry has no active instruments$/,
    );
  });

  it('a CSV file that is not there fails naming STRIKEDESK_INSTRUMENTS', async () => {
    const err = await startupError(context({ tickerUrl: notFoundUrl, instrumentsSource: '/nonexistent/instruments.csv' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^STRIKEDESK_INSTRUMENTS: cannot read instruments from \/nonexistent\/instruments.csv: .*ENOENT/);
  });

  it("the devticker's /instruments only when chosen, and a 404 there fails with the URL redacted", async () => {
    const withCredentials = notFoundUrl.replace('http://', 'http://ops:hunter2@');
    const err = await startupError(context({ tickerUrl: withCredentials, instrumentsSource: 'ticker' }));
    expect(err.message).toMatch(/^STRIKEDESK_INSTRUMENTS: cannot read instruments from http:\/\/ops:\*\*\*@127\.0\.0\.1:\d+\/instruments: GET .* answered 404/);
    expect(err.message).not.toContain('hunter2');
    // Chosen explicitly against a devticker, it loads.
    const { registry } = await startTicker(context({ tickerUrl: dt.url, instrumentsSource: 'ticker' }));
    await registry.loaded();
    expect(registry.status().rows).toBe(dt.registry.live.length);
  });

  it('writes no credentials of TICKER_URL in any registry or client log line', async () => {
    logLines.length = 0;
    const secretUrl = dt.url.replace('http://', 'http://ops:hunter2@');
    const { registry, ticker } = await startTicker(context({ tickerUrl: secretUrl, instrumentsSource: `${secretUrl}/instruments` }));
    await registry.loaded();
    expect(registry.status().rows).toBe(dt.registry.live.length);
    // and a failing refresh logs its error too
    await dt.close().catch(() => undefined);
    clock.advance(24 * 3_600_000);
    await registry.refreshIfDue();
    expect(registry.status().lastError).not.toBeNull();
    expect(ticker.baseUrl).toContain('hunter2'); // the client still uses the credentials it was given
    const registryLines = logLines.filter((l) => l.includes('"scope":"registry"'));
    expect(registryLines.length).toBeGreaterThanOrEqual(2);
    expect(logLines.join('')).not.toContain('hunter2');
    dt = await startDevTicker({ port: 0, clock, autoTick: false, instrumentsRoute: true });
  });
});

describe('startTicker: where the rate budgets live', () => {
  it('keeps them in memory on the embedded store, shares them on PostgreSQL, and says in health when sharing failed', async () => {
    const embedded = context({}, { devticker: dt });
    const alone = await startTicker(embedded);
    expect(alone.ticker.stats().budget).toEqual({ mode: 'memory', failures: 0 });
    expect(embedded.health.report().components.ticker_client.detail).toContain('budgets: this console');

    const { openMarketDb } = await import('../market/db');
    const { migrateMarket } = await import('../market/migrate');
    const market = await openMarketDb({ databaseUrl: await postgres.database(), poolSize: 2 });
    stops.push(() => market.close());
    await migrateMarket(market);
    const shared = context({ tickerUrl: dt.url, instrumentsSource: 'ticker' }, { market: { name: 'postgres', db: market, close: async () => undefined } });
    const { ticker } = await startTicker(shared);
    await ticker.health();
    expect(ticker.stats().budget).toMatchObject({ mode: 'shared', backend: 'postgres', failures: 0 });
    expect(await market.query("SELECT bucket FROM ticker_rate_budget WHERE bucket = 'ticker|health'")).toHaveLength(1);
    expect(shared.health.report().components.ticker_client).toMatchObject({ status: 'ok', detail: expect.stringContaining('budgets: shared (postgres)') });

    // The store fails (its table is gone): the call still goes out on the local budget, and health says so.
    await market.exec('DROP TABLE ticker_rate_budget');
    await ticker.health();
    expect(ticker.stats().budget).toMatchObject({ mode: 'fallback', backend: 'postgres', failures: 1 });
    expect(shared.health.report().components.ticker_client).toMatchObject({
      status: 'degraded',
      detail: expect.stringMatching(/budgets: this console only, shared store failed \(.*ticker_rate_budget.*\)/),
    });
    expect(logLines.some((l) => l.includes('shared rate budget failed'))).toBe(true);
  });
});
