// The registry over the market store (PGlite always, PostgreSQL when DATABASE_URL is set): loaded from the
// embedded devticker's registry (serialised as a Kite CSV, read through the streaming parser), checked against the
// devticker's own registry; from a gzipped CSV file and a CSV URL over real HTTP; a later dump deactivates what it
// no longer lists and what has expired; a table in the market store is read as it is.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KITE_CSV_HEADER, startDevTicker, type DevTicker } from '../../devticker';
import { ManualClock } from '../../testing/clock';
import { fromIstWallClock } from '../calendar';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing/db';
import { openDump, parseKiteCsv, readKiteCsv, type RegistryRow } from './kite-csv';
import { InstrumentRegistry, strikeStepOf } from './registry';

const FIXTURE_CSV = join(__dirname, '../../../fixtures/ticker-service/instruments.csv');

async function readAll(batches: AsyncIterable<RegistryRow[]>): Promise<RegistryRow[]> {
  const out: RegistryRow[] = [];
  for await (const b of batches) out.push(...b);
  return out;
}

const T0 = fromIstWallClock('2025-11-04T11:00:00');

describe('strikeStepOf', () => {
  it('takes the most common adjacent gap near the given price', () => {
    const strikes = [24000, 24100, 24200, 24300, 24350, 24400, 24450, 24500, 24550, 24600, 24700, 24800];
    expect(strikeStepOf(strikes, 24450)).toBe(50);
    expect(strikeStepOf([100, 200, 300], undefined)).toBe(100);
    expect(strikeStepOf([100], undefined)).toBeNull();
  });
});

describe('parseKiteCsv', () => {
  it('reads the Kite columns, quoted names and empty expiries', () => {
    const text = `${KITE_CSV_HEADER}\n256265,1001,NIFTY 50,"NIFTY 50",0,,0,0.05,1,EQ,INDICES,NSE\n12345,48,NIFTY25NOV24500CE,"NIFTY",0,2025-11-25,24500.0,0.05,75,CE,NFO-OPT,NFO\nbad,1,X,Y,0,,0,0,0,EQ,X,Y\n`;
    const { rows, skipped } = parseKiteCsv(text);
    expect(skipped).toBe(1);
    expect(rows).toEqual([
      {
        token: 256265,
        tradingsymbol: 'NIFTY 50',
        name: 'NIFTY 50',
        segment: 'INDICES',
        instrumentType: 'EQ',
        strike: 0,
        expiry: null,
        tickSize: 0.05,
        lotSize: 1,
        exchange: 'NSE',
      },
      {
        token: 12345,
        tradingsymbol: 'NIFTY25NOV24500CE',
        name: 'NIFTY',
        segment: 'NFO-OPT',
        instrumentType: 'CE',
        strike: 24500,
        expiry: '2025-11-25',
        tickSize: 0.05,
        lotSize: 75,
        exchange: 'NFO',
      },
    ]);
    expect(() => parseKiteCsv('instrument_token,tradingsymbol\n1,X\n')).toThrow(/lacks column/);
  });
});

describe('readKiteCsv (streamed)', () => {
  it('reads the fixture dump of the real service from a file', async () => {
    const rows = await readAll(readKiteCsv(openDump(FIXTURE_CSV)));
    expect(rows.map((r) => [r.token, r.tradingsymbol, r.instrumentType, r.expiry, r.strike, r.lotSize])).toEqual([
      [256265, 'NIFTY 50', 'EQ', null, 0, 0],
      [13238786, 'NIFTY25NOVFUT', 'FUT', '2025-11-25', 0, 75],
      [13660418, 'NIFTY25NOV24500CE', 'CE', '2025-11-25', 24500, 75],
      [13660674, 'NIFTY25NOV24500PE', 'PE', '2025-11-25', 24500, 75],
      ...parseKiteCsv(readFileSync(FIXTURE_CSV, 'utf8'))
        .rows.slice(4)
        .map((r) => [r.token, r.tradingsymbol, r.instrumentType, r.expiry, r.strike, r.lotSize]),
    ]);
  });

  it('gives the same rows from gzipped and plain bytes, in batches, however the bytes are split', async () => {
    const dt = await startDevTicker({ port: 0, clock: new ManualClock(T0), autoTick: false });
    try {
      const text = dt.registry.toCsv();
      const expected = parseKiteCsv(text).rows;
      const gz = gzipSync(text);
      // Odd chunk sizes: the gzip magic and CSV lines straddle chunk boundaries.
      const chunks = (bytes: Buffer, size: number) =>
        (async function* () {
          for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
        })();
      const batches: number[] = [];
      const plain: RegistryRow[] = [];
      for await (const b of readKiteCsv(chunks(Buffer.from(text), 1_000), undefined, 700)) {
        batches.push(b.length);
        plain.push(...b);
      }
      expect(plain).toEqual(expected);
      expect(batches.slice(0, -1).every((n) => n === 700)).toBe(true);
      expect(await readAll(readKiteCsv(chunks(gz, 1)))).toEqual(expected);
    } finally {
      await dt.close();
    }
  });

  it('fails at the header when a column is missing, and counts rows without a token', async () => {
    const bad = (async function* () {
      yield 'instrument_token,tradingsymbol\n1,X\n';
    })();
    await expect(readAll(readKiteCsv(bad))).rejects.toThrow(/lacks column\(s\): name, expiry/);
    const stats = { skipped: 0 };
    const some = (async function* () {
      yield `${KITE_CSV_HEADER}\nx,1,A,B,0,,0,0,0,EQ,X,Y\n5,1,A,B,0,,0,0,0,EQ,X,Y\n`;
    })();
    expect((await readAll(readKiteCsv(some, stats))).map((r) => r.token)).toEqual([5]);
    expect(stats.skipped).toBe(1);
  });
});

describe.each(testBackends())('InstrumentRegistry on %s', (backend) => {
  let store: TestMarketDb;
  let dt: DevTicker;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    store = await createTestMarketDb(backend);
    dt = await startDevTicker({ port: 0, clock, autoTick: false });
  });
  afterAll(async () => {
    await dt?.close();
    await store?.close();
  });

  it("loads the embedded devticker's registry and answers chain questions like the devticker", async () => {
    const registry = new InstrumentRegistry({
      db: store.db,
      clock,
      source: { kind: 'text', label: 'embedded devticker registry', csv: () => dt.registry.toCsv() },
    });
    await registry.probe();
    const status = await registry.refresh();
    expect(status.rows).toBe(dt.registry.live.length);
    expect(status.deactivated).toBe(0);

    const expiries = dt.registry.expiries('NIFTY');
    expect(await registry.expiries('NIFTY', '2025-11-04')).toEqual(expiries);
    expect(await registry.expiries('NIFTY', expiries[1])).toEqual(expiries.slice(1));
    const chain = await registry.chain('NIFTY', expiries[0]);
    expect(chain.map((i) => i.token).sort()).toEqual(
      dt.registry
        .chain('NIFTY', expiries[0])
        .map((i) => i.token)
        .sort(),
    );
    expect(chain.every((i) => i.isActive && i.name === 'NIFTY' && (i.instrumentType === 'CE' || i.instrumentType === 'PE'))).toBe(true);
    expect(await registry.strikeStep('NIFTY')).toBe(50);
    expect(await registry.strikeStep('MIDCPNIFTY')).toBe(25);
    expect(await registry.strikeStep('BANKNIFTY', (await registry.expiries('BANKNIFTY', '2025-11-04'))[0])).toBe(100);
    expect(await registry.strikeStep('SENSEX')).toBe(100); // not listed: the fallback table
    expect(registry.underlyingToken('NIFTY')).toBe(256265);
    expect(registry.underlyingToken('nifty')).toBe(256265);
    expect(await registry.underlyings()).toEqual(['BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY', 'NIFTY']);
    const futures = await registry.futures('NIFTY');
    expect(futures.map((f) => f.tradingsymbol)).toEqual(dt.registry.live.filter((i) => i.name === 'NIFTY' && i.kind === 'future').map((i) => i.tradingsymbol));
    const some = chain.slice(0, 3).map((i) => i.token);
    const found = await registry.byTokens([...some, 42]);
    expect([...found.keys()].sort()).toEqual([...some].sort());
    expect(await registry.byToken(42)).toBeNull();

    // Search: case-insensitive containment over live rows, exact match first, tokens too; LIKE wildcards are text.
    const leg = chain[0];
    const hits = await registry.search(leg.tradingsymbol.toLowerCase(), 5);
    expect(hits[0]?.token).toBe(leg.token);
    expect((await registry.search(String(leg.token), 5))[0]?.token).toBe(leg.token);
    const partial = await registry.search('NIFTY', 50);
    expect(partial).toHaveLength(50);
    expect(partial.every((i) => i.tradingsymbol.toUpperCase().includes('NIFTY') && i.isActive)).toBe(true);
    expect(await registry.search('%', 5)).toEqual([]);
    expect(await registry.search('NIFTY_', 5)).toEqual([]);
  });

  it('marks contracts missing from a later dump or expired as inactive, and reads a table as is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-registry-'));
    const lines = dt.registry.toCsv().trim().split('\n');
    const header = lines[0];
    const body = lines.slice(1);
    const dropped = body.filter((l) => l.includes(',NFO-OPT,')).slice(0, 10);
    const kept = body.filter((l) => !dropped.includes(l));
    // One extra contract that expired yesterday: listed, but not active.
    kept.push('99999,1,NIFTY25N0350000CE,"NIFTY",0,2025-11-03,50000,0.05,75,CE,NFO-OPT,NFO');
    const file = join(dir, 'instruments.csv.gz');
    writeFileSync(file, gzipSync(`${[header, ...kept].join('\n')}\n`));

    clock.set(T0 + 3_600_000);
    const registry = new InstrumentRegistry({ db: store.db, clock, source: InstrumentRegistry.sourceFrom(file) });
    const status = await registry.refresh();
    expect(status.deactivated).toBe(10); // the expired row arrives inactive
    const droppedTokens = dropped.map((l) => Number(l.split(',')[0]));
    const rows = await registry.byTokens([...droppedTokens, 99999]);
    expect([...rows.values()].every((i) => !i.isActive)).toBe(true);
    const chain = (await registry.chain('NIFTY', dt.registry.expiries('NIFTY')[0])).map((i) => i.token);
    expect(chain.some((t) => droppedTokens.includes(t))).toBe(false);

    const table = new InstrumentRegistry({ db: store.db, clock, source: { kind: 'table' } });
    const tableStatus = await table.refresh();
    expect(tableStatus.rows).toBe(kept.length - 1);
    expect((await table.chain('NIFTY', dt.registry.expiries('NIFTY')[0])).map((i) => i.token)).toEqual(chain);
  });

  it('loads a gzipped Kite CSV from an http(s) URL, streamed', async () => {
    const gz = gzipSync(dt.registry.toCsv());
    const server: Server = createServer((req, res) => {
      if (req.url !== '/dump/instruments.csv.gz') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/gzip' });
      // Written in pieces: the client must not need the whole body before it starts parsing.
      for (let i = 0; i < gz.length; i += 4096) res.write(gz.subarray(i, i + 4096));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const registry = new InstrumentRegistry({ db: store.db, clock, source: InstrumentRegistry.sourceFrom(`${base}/dump/instruments.csv.gz`) });
      const status = await registry.refresh();
      expect(status.rows).toBe(dt.registry.live.length);
      const expiry = dt.registry.expiries('BANKNIFTY')[0];
      expect((await registry.chain('BANKNIFTY', expiry)).map((i) => i.token).sort()).toEqual(
        dt.registry
          .chain('BANKNIFTY', expiry)
          .map((i) => i.token)
          .sort(),
      );
      const missing = new InstrumentRegistry({
        db: store.db,
        clock,
        source: InstrumentRegistry.sourceFrom(`${base.replace('http://', 'http://ops:hunter2@')}/instruments`),
      });
      const err = await missing.probe().then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/answered 404/);
      expect(err?.message).not.toContain('hunter2');
      expect(missing.status().source).not.toContain('hunter2');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
