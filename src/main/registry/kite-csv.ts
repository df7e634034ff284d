// The Kite instruments dump (shared/spec/ticker-service.md section 2): CSV with columns instrument_token,
// exchange_token, tradingsymbol, name, last_price, expiry, strike, tick_size, lot_size, instrument_type, segment,
// exchange. Read from a file (plain or .gz) or an http(s) URL (the devticker's GET /instruments), parsed at the edge.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { request } from 'undici';

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
}

const REQUIRED = ['instrument_token', 'tradingsymbol', 'name', 'expiry', 'strike', 'tick_size', 'lot_size', 'instrument_type', 'segment', 'exchange'];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export class KiteCsvError extends Error {}

/** Parses the dump. Rows without a usable token are skipped and counted; a missing column is an error. */
export function parseKiteCsv(text: string): { rows: RegistryRow[]; skipped: number } {
  const records = parse(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true, relax_column_count: true }) as Record<string, string>[];
  if (records.length > 0) {
    const missing = REQUIRED.filter((c) => !(c in records[0]));
    if (missing.length) throw new KiteCsvError(`instruments CSV lacks column(s): ${missing.join(', ')}`);
  }
  const rows: RegistryRow[] = [];
  let skipped = 0;
  for (const r of records) {
    const token = Number(r.instrument_token);
    if (!Number.isSafeInteger(token) || token <= 0 || !r.tradingsymbol) {
      skipped++;
      continue;
    }
    // Kite writes expiry as YYYY-MM-DD; some mirrors add a time part.
    const expiry = r.expiry ? r.expiry.slice(0, 10) : '';
    rows.push({
      token,
      tradingsymbol: r.tradingsymbol,
      name: r.name ?? '',
      segment: r.segment ?? '',
      instrumentType: (r.instrument_type ?? '').toUpperCase(),
      strike: Number(r.strike) || 0,
      expiry: ISO_DATE.test(expiry) ? expiry : null,
      tickSize: Number(r.tick_size) || 0,
      lotSize: Math.round(Number(r.lot_size) || 0),
      exchange: r.exchange ?? '',
    });
  }
  return { rows, skipped };
}

const gunzipIfNeeded = (bytes: Buffer): string => (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');

/** Reads a dump from a file path or an http(s) URL. */
export async function readInstrumentsSource(source: string, timeoutMs = 60_000): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    const res = await request(source, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: { accept: 'text/csv, */*' } });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new KiteCsvError(`GET ${source} answered ${res.statusCode}: ${bytes.toString('utf8').slice(0, 200)}`);
    return gunzipIfNeeded(bytes);
  }
  return gunzipIfNeeded(await readFile(source));
}
