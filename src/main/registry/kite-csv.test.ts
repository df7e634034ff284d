// The instrument dump is read without holding the event loop: a large generated dump, from every kind of input the
// registry uses (a gzipped file, a gzipped HTTP body, one big in-memory string as the embedded devticker hands it
// over), arrives in many batches, and a setImmediate callback (standing in for timers, HTTP and tick ingest) runs
// between every two batches. No timing: the assertions count turns of the event loop.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KITE_CSV_HEADER } from '../../devticker';
import { CSV_BATCH, openDump, parseKiteCsv, readKiteCsv, type RegistryRow } from './kite-csv';

const ROWS = 25_000;

/** A Kite-shaped dump of `ROWS` option rows (names with a non-ASCII character, so multi-byte text crosses chunk edges). */
function generatedDump(): string {
  const lines = [KITE_CSV_HEADER];
  for (let i = 0; i < ROWS; i++) {
    const strike = 20_000 + (i % 400) * 50;
    const side = i % 2 ? 'PE' : 'CE';
    lines.push(`${100_000 + i},${i},NIFTY25DEC${strike}${side},"NIFTY – ${i}",0,2025-12-30,${strike},0.05,75,${side},NFO-OPT,NFO`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads every batch and, for each, how many event-loop turns (setImmediate callbacks) had run when it arrived. */
async function readCountingTurns(batches: AsyncIterable<RegistryRow[]>): Promise<{ rows: RegistryRow[]; sizes: number[]; turnsAt: number[] }> {
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  const rows: RegistryRow[] = [];
  const sizes: number[] = [];
  const turnsAt: number[] = [];
  try {
    for await (const batch of batches) {
      sizes.push(batch.length);
      turnsAt.push(turns);
      for (const r of batch) rows.push(r);
    }
  } finally {
    running = false;
  }
  return { rows, sizes, turnsAt };
}

const strictlyIncreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

describe('readKiteCsv keeps the event loop moving', () => {
  const text = generatedDump();
  const expected = parseKiteCsv(text).rows;
  const gz = gzipSync(text);
  let dir: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sd-dump-'));
    writeFileSync(join(dir, 'instruments.csv.gz'), gz);
    // The whole body in one write: the client still gets it in socket-sized pieces.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/gzip' });
      res.end(gz);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/instruments`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('the generated dump parses to every row', () => {
    expect(expected).toHaveLength(ROWS);
    expect(expected[1]).toMatchObject({ token: 100_001, name: 'NIFTY – 1', instrumentType: 'PE', strike: 20_050, lotSize: 75 });
  });

  const inputs: [string, () => AsyncIterable<Buffer | string>][] = [
    ['a gzipped file', () => openDump(join(dir, 'instruments.csv.gz'))],
    ['a gzipped HTTP body', () => openDump(url)],
    [
      'one in-memory string (the embedded devticker)',
      () =>
        (async function* () {
          yield text;
        })(),
    ],
    [
      'one in-memory gzipped buffer',
      () =>
        (async function* () {
          yield gz;
        })(),
    ],
  ];

  it.each(inputs)('from %s: many batches, a turn of the event loop between every two', async (_name, input) => {
    const { rows, sizes, turnsAt } = await readCountingTurns(readKiteCsv(input()));
    expect(rows).toEqual(expected);
    expect(sizes.length).toBe(Math.ceil(ROWS / CSV_BATCH));
    expect(sizes.slice(0, -1).every((n) => n === CSV_BATCH)).toBe(true);
    expect(strictlyIncreasing(turnsAt)).toBe(true);
  });

  it('with small batches too, nothing is handed over twice in one turn', async () => {
    const { rows, sizes, turnsAt } = await readCountingTurns(
      readKiteCsv(
        (async function* () {
          yield text;
        })(),
        undefined,
        500,
      ),
    );
    expect(rows).toHaveLength(ROWS);
    expect(sizes.length).toBe(ROWS / 500);
    expect(strictlyIncreasing(turnsAt)).toBe(true);
  });
});
