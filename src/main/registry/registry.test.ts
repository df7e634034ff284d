// The registry over the market store (PGlite always, PostgreSQL when DATABASE_URL is set): loaded from the
// devticker's /instruments over real HTTP, checked against the devticker's own registry; a later dump deactivates
// what it no longer lists and what has expired; 'table' mode reads the rows as they are.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KITE_CSV_HEADER, startDevTicker, type DevTicker } from '../../devticker';
import { ManualClock } from '../../shared/clock';
import { fromIstWallClock } from '../calendar';
import { createTestMarketDb, testBackends, type TestMarketDb } from '../market/testing';
import { parseKiteCsv } from './kite-csv';
import { InstrumentRegistry, strikeStepOf } from './registry';

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
      { token: 256265, tradingsymbol: 'NIFTY 50', name: 'NIFTY 50', segment: 'INDICES', instrumentType: 'EQ', strike: 0, expiry: null, tickSize: 0.05, lotSize: 1, exchange: 'NSE' },
      { token: 12345, tradingsymbol: 'NIFTY25NOV24500CE', name: 'NIFTY', segment: 'NFO-OPT', instrumentType: 'CE', strike: 24500, expiry: '2025-11-25', tickSize: 0.05, lotSize: 75, exchange: 'NFO' },
    ]);
    expect(() => parseKiteCsv('instrument_token,tradingsymbol\n1,X\n')).toThrow(/lacks column/);
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

  it('loads the ticker dump and answers chain questions like the devticker', async () => {
    const registry = new InstrumentRegistry({ db: store.db, clock, source: InstrumentRegistry.sourceFrom('ticker', dt.url) });
    const status = await registry.refresh();
    expect(status.rows).toBe(dt.registry.live.length);
    expect(status.deactivated).toBe(0);

    const expiries = dt.registry.expiries('NIFTY');
    expect(await registry.expiries('NIFTY', '2025-11-04')).toEqual(expiries);
    expect(await registry.expiries('NIFTY', expiries[1])).toEqual(expiries.slice(1));
    const chain = await registry.chain('NIFTY', expiries[0]);
    expect(chain.map((i) => i.token).sort()).toEqual(dt.registry.chain('NIFTY', expiries[0]).map((i) => i.token).sort());
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
});
