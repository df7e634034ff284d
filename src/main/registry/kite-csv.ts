// The Kite instruments dump (docs/ticker-contract.md, instruments): CSV with columns instrument_token,
// exchange_token, tradingsymbol, name, last_price, expiry, strike, tick_size, lot_size, instrument_type, segment,
// exchange. Read from a file or an http(s) URL, plain or gzipped, always as a stream: the daily dump is ~100k rows
// (several MB gzipped), and a synchronous gunzip plus whole-file parse would stall the main process (and with it
// the console's HTTP server and tick ingest) for the length of it.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse as parseStream } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { request } from 'undici';
import { redactUrl } from '../log';

export interface RegistryRow {
  token: number;
  tradingsymbol: string;
  name: string;
  segment: string;
  instrumentType: string;
  strike: number;
  expiry: string | null;
  tickSize: number;
  lotSize: number;
  exchange: string;
  /** As the source says (a registry table keeps expired rows inactive); a CSV dump lists only live contracts. */
  isActive?: boolean;
}

const REQUIRED = ['instrument_token', 'tradingsymbol', 'name', 'expiry', 'strike', 'tick_size', 'lot_size', 'instrument_type', 'segment', 'exchange'];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Rows handed on per batch: small enough to keep the event loop moving, large enough to amortise the awaits. */
export const CSV_BATCH = 5_000;
/**
 * The most bytes handed to the parser (or gunzip) at once. A parser call is synchronous for its whole chunk, so a dump
 * that arrives as one big string (the embedded devticker's registry) is cut up, or it would be parsed in one go.
 */
export const CSV_CHUNK_BYTES = 64 * 1024;

/** Lets timers, I/O and IPC run: resolves on the event loop's next check phase (setImmediate), not as a microtask. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class KiteCsvError extends Error {}

const header = (columns: string[]): string[] => {
  const names = columns.map((h) => h.trim().toLowerCase());
  const missing = REQUIRED.filter((c) => !names.includes(c));
  if (missing.length) throw new KiteCsvError(`instruments CSV lacks column(s): ${missing.join(', ')}`);
  return names;
};

/** Kite writes expiry as YYYY-MM-DD; some mirrors add a time part; anything else is no expiry. */
export function normaliseExpiry(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).slice(0, 10);
  return ISO_DATE.test(text) ? text : null;
}

/** An instrument as the dump or the ticker's table holds it: CSV gives strings, the table numbers and nulls. */
export type InstrumentRecord = Partial<
  Record<
    'instrument_token' | 'tradingsymbol' | 'name' | 'segment' | 'instrument_type' | 'strike' | 'expiry' | 'tick_size' | 'lot_size' | 'exchange',
    string | number | null
  >
>;

/** One instrument record (a CSV line or a table row) as a registry row, or null when it has no usable token. */
export function toRegistryRow(r: InstrumentRecord): RegistryRow | null {
  const token = Number(r.instrument_token);
  if (!Number.isSafeInteger(token) || token <= 0 || !r.tradingsymbol) return null;
  return {
    token,
    tradingsymbol: String(r.tradingsymbol),
    name: String(r.name ?? ''),
    segment: String(r.segment ?? ''),
    instrumentType: String(r.instrument_type ?? '').toUpperCase(),
    strike: Number(r.strike) || 0,
    expiry: normaliseExpiry(r.expiry),
    tickSize: Number(r.tick_size) || 0,
    lotSize: Math.round(Number(r.lot_size) || 0),
    exchange: String(r.exchange ?? ''),
  };
}

const CSV_OPTIONS = { skip_empty_lines: true, trim: true, relax_column_count: true } as const;

/**
 * Parses a small dump held in memory, synchronously: for tests and fixtures only. Every load of the registry (file,
 * URL, the embedded devticker's text) reads through readKiteCsv.
 */
export function parseKiteCsv(text: string): { rows: RegistryRow[]; skipped: number } {
  const records = parseSync(text, { ...CSV_OPTIONS, columns: header }) as Record<string, string>[];
  const rows: RegistryRow[] = [];
  let skipped = 0;
  for (const r of records) {
    const row = toRegistryRow(r);
    if (row) rows.push(row);
    else skipped++;
  }
  return { rows, skipped };
}

export interface CsvReadStats {
  skipped: number;
}

/** The source's chunks, none larger than CSV_CHUNK_BYTES. */
async function* bounded(bytes: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  for await (const value of bytes) {
    const buffer = typeof value === 'string' ? Buffer.from(value) : value;
    if (buffer.length <= CSV_CHUNK_BYTES) yield buffer;
    else for (let i = 0; i < buffer.length; i += CSV_CHUNK_BYTES) yield buffer.subarray(i, i + CSV_CHUNK_BYTES);
  }
}

/**
 * Gunzips (asynchronously, zlib's stream on the thread pool) when the first bytes are the gzip magic (a .csv.gz file,
 * or a server that sends the dump compressed).
 */
async function* decoded(bytes: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const it = bounded(bytes)[Symbol.asyncIterator]();
  // Two bytes decide: gather them even when the first chunks are tiny.
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length === 0) return;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    const source = Readable.from(all());
    source.on('error', (err) => gunzip.destroy(err));
    yield* source.pipe(gunzip) as AsyncIterable<Buffer>;
  } else {
    yield* all();
  }
}

/**
 * Streams a dump (plain or gzipped bytes) as batches of rows. Rows without a usable token are skipped and counted
 * in `stats`; a missing column is a KiteCsvError at the header. After each batch the reader waits for the event
 * loop's next turn: records already parsed would otherwise be handed over as microtasks, batch after batch, with
 * nothing else (timers, HTTP, ticks) running in between.
 */
export async function* readKiteCsv(
  bytes: AsyncIterable<Buffer | string>,
  stats: CsvReadStats = { skipped: 0 },
  batchSize = CSV_BATCH,
): AsyncGenerator<RegistryRow[]> {
  const parser = parseStream({ ...CSV_OPTIONS, columns: header });
  const input = Readable.from(decoded(bytes));
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  let batch: RegistryRow[] = [];
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      const row = toRegistryRow(record);
      if (!row) {
        stats.skipped++;
        continue;
      }
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
        await nextTurn();
      }
    }
    if (batch.length) yield batch;
  } finally {
    // A reader that stops early (the start-up probe reads one batch) releases the file or the connection.
    input.destroy();
    parser.destroy();
  }
}

/** The bytes of a dump at a file path or an http(s) URL, as a stream. Errors name the location with credentials redacted. */
export async function* openDump(location: string, timeoutMs = 60_000): AsyncGenerator<Buffer> {
  if (/^https?:\/\//i.test(location)) {
    const res = await request(location, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      headers: { accept: 'text/csv, application/gzip, */*' },
    }).catch((err: unknown) => {
      const e = err as { code?: string; message?: string };
      throw new KiteCsvError(`GET ${redactUrl(location)} failed: ${e.code ?? e.message ?? 'network error'}`);
    });
    if (res.statusCode !== 200) {
      const text = (await res.body.text().catch(() => '')).slice(0, 200);
      throw new KiteCsvError(`GET ${redactUrl(location)} answered ${res.statusCode}${text ? `: ${text}` : ''}`);
    }
    try {
      yield* res.body as AsyncIterable<Buffer>;
    } finally {
      res.body.destroy();
    }
    return;
  }
  const stream = createReadStream(location);
  try {
    yield* stream as AsyncIterable<Buffer>;
  } finally {
    stream.destroy();
  }
}
