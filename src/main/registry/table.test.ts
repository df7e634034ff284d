// The registry from the ticker service's own instrument_registry table, in a real PostgreSQL 15 (DATABASE_URL, or a
// throwaway cluster from scripts/throwaway-postgres.sh): expiry as TEXT (the service's schema) and as DATE (some
// deployments), read through the registry's own connection and copied into the market store (PGlite here), and read
// in place when the market store is that same database. Rows come from the devticker's registry, plus the rows a
// real table keeps: an expired contract marked inactive, and one still flagged active whose expiry has passed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startDevTicker, type DevTicker } from '../../devticker';
import { ManualClock } from '../../testing/clock';
import { fromIstWallClock } from '../calendar';
import { openMarketDb } from '../market/db';
import { migrateMarket } from '../market/migrate';
import { createTestMarketDb, type TestMarketDb } from '../market/testing/db';
import { InstrumentRegistry } from './registry';
import { readRegistryTable } from './source';
import { startTestPostgres, type TestPostgres } from './testing/postgres';

const T0 = fromIstWallClock('2025-11-04T11:00:00');
const EXPIRED_INACTIVE = 99_000_001;
const EXPIRED_STILL_FLAGGED = 99_000_002;

let postgres: TestPostgres;
let dt: DevTicker;
const clock = new ManualClock(T0);

/** A ticker-style instrument_registry (tick_size NUMERIC, as a Python mirror may declare it) filled from the devticker. */
async function tickerTable(url: string, expiryType: 'TEXT' | 'DATE'): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE instrument_registry (
      instrument_token BIGINT PRIMARY KEY, tradingsymbol TEXT NOT NULL, name TEXT, segment TEXT, instrument_type TEXT,
      strike DOUBLE PRECISION, expiry ${expiryType}, tick_size NUMERIC, lot_size INTEGER, exchange TEXT,
      is_active BOOLEAN NOT NULL DEFAULT true, last_refreshed_at TIMESTAMPTZ DEFAULT now())`);
    const rows = dt.registry.live.map(
      (i) => [i.token, i.tradingsymbol, i.name, i.segment, i.instrumentType, i.strike, i.expiry, i.tickSize, i.lotSize, i.exchange, true] as const,
    );
    const all = [
      ...rows,
      [EXPIRED_INACTIVE, 'NIFTY25O2824000CE', 'NIFTY', 'NFO-OPT', 'CE', 24000, '2025-10-28', 0.05, 75, 'NFO', false] as const,
      [EXPIRED_STILL_FLAGGED, 'NIFTY25N0324000CE', 'NIFTY', 'NFO-OPT', 'CE', 24000, '2025-11-03', 0.05, 75, 'NFO', true] as const,
    ];
    const col = (k: number) => all.map((r) => r[k]);
    await client.query(
      `INSERT INTO instrument_registry (instrument_token, tradingsymbol, name, segment, instrument_type, strike, expiry, tick_size, lot_size, exchange, is_active)
       SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::${expiryType.toLowerCase()}[], $8::numeric[], $9::int4[], $10::text[], $11::bool[])`,
      [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7), col(8), col(9), col(10)],
    );
  } finally {
    await client.end();
  }
}

async function expectLikeDevticker(registry: InstrumentRegistry): Promise<void> {
  for (const symbol of ['NIFTY', 'BANKNIFTY']) {
    const expiries = dt.registry.expiries(symbol);
    expect(await registry.expiries(symbol, '2025-11-04')).toEqual(expiries);
    const chain = await registry.chain(symbol, expiries[0]);
    expect(chain.map((i) => i.token).sort()).toEqual(
      dt.registry
        .chain(symbol, expiries[0])
        .map((i) => i.token)
        .sort(),
    );
    expect(chain.every((i) => i.expiry === expiries[0] && i.isActive)).toBe(true);
  }
  const some = dt.registry.chain('NIFTY', dt.registry.expiries('NIFTY')[0])[10];
  expect(await registry.byToken(some.token)).toMatchObject({
    tradingsymbol: some.tradingsymbol,
    strike: some.strike,
    tickSize: some.tickSize,
    lotSize: some.lotSize,
    expiry: some.expiry,
    isActive: true,
  });
  expect(await registry.strikeStep('NIFTY')).toBe(50);
  expect(registry.underlyingToken('NIFTY')).toBe(256265);
  // Expired rows are known (history of an expired contract) but never active, whatever the table's flag says.
  const expired = await registry.byTokens([EXPIRED_INACTIVE, EXPIRED_STILL_FLAGGED]);
  expect([...expired.values()].map((i) => [i.token, i.isActive, i.expiry]).sort()).toEqual([
    [EXPIRED_INACTIVE, false, '2025-10-28'],
    [EXPIRED_STILL_FLAGGED, false, '2025-11-03'],
  ]);
  expect(await registry.expiries('NIFTY', '2025-10-01')).not.toContain('2025-11-03');
}

beforeAll(async () => {
  postgres = await startTestPostgres();
  dt = await startDevTicker({ port: 0, clock, autoTick: false });
}, 120_000);
afterAll(async () => {
  await dt?.close();
  await postgres?.stop();
});

describe.each(['TEXT', 'DATE'] as const)('the ticker table with expiry %s', (expiryType) => {
  let tickerUrl: string;
  let store: TestMarketDb;
  beforeAll(async () => {
    tickerUrl = await postgres.database();
    await tickerTable(tickerUrl, expiryType);
    store = await createTestMarketDb('pglite');
  });
  afterAll(async () => {
    await store?.close();
  });

  it('reads every row in keyset pages, expiry as YYYY-MM-DD', async () => {
    const pages: number[] = [];
    const tokens: number[] = [];
    for await (const page of readRegistryTable(tickerUrl, 1_000)) {
      pages.push(page.length);
      tokens.push(...page.map((r) => r.token));
      expect(page.every((r) => r.expiry === null || /^\d{4}-\d{2}-\d{2}$/.test(r.expiry))).toBe(true);
    }
    expect(tokens).toHaveLength(dt.registry.live.length + 2);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(pages.slice(0, -1).every((n) => n === 1_000)).toBe(true);
  });

  it('copies it into the market store through its own connection and answers like the devticker', async () => {
    const registry = new InstrumentRegistry({ db: store.db, clock, source: { kind: 'table', databaseUrl: tickerUrl } });
    await registry.probe();
    const status = await registry.refresh();
    expect(status.rows).toBe(dt.registry.live.length + 2);
    expect(status.source).toContain('table instrument_registry at postgres://');
    await expectLikeDevticker(registry);
    // The ticker's table is read, never written.
    const client = new pg.Client({ connectionString: tickerUrl });
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM instrument_registry WHERE is_active');
    await client.end();
    expect(rows[0].n).toBe(dt.registry.live.length + 1);
  });

  it('reads it in place when the market store is the same database', async () => {
    const market = await openMarketDb({ databaseUrl: tickerUrl, poolSize: 2 });
    try {
      await migrateMarket(market); // the table exists already: the migration leaves it (and its expiry type) alone
      const [{ data_type }] = await market.query<{ data_type: string }>(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'instrument_registry' AND column_name = 'expiry'",
      );
      expect(data_type).toBe(expiryType === 'DATE' ? 'date' : 'text');
      const registry = new InstrumentRegistry({ db: market, clock, source: { kind: 'table' } });
      await registry.probe();
      const status = await registry.refresh();
      expect(status.rows).toBe(dt.registry.live.length); // live: active and not expired
      await expectLikeDevticker(registry);
    } finally {
      await market.close();
    }
  });
});
