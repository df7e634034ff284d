// Where the instrument registry comes from, and which setting says so (docs/ticker-contract.md, instruments).
//
// The real ticker service has no /instruments route (404): its registry is the daily Kite dump mirrored into its own
// Postgres table `instrument_registry`. So with TICKER_URL set the registry is read from that table (through its own
// connection setting, since the ticker's database need not be the one that holds the bars) or from a Kite CSV file
// or URL. The devticker's /instruments extension is read only when explicitly chosen: pointed at a real service it
// would 404 and the registry would never load. With TICKER_URL unset, the embedded devticker's registry is read
// through the same CSV parser (it is serialised in process, the same bytes its /instruments would send).
import pg from 'pg';
import { redactUrl } from '../log';
import { toRegistryRow, type RegistryRow } from './kite-csv';

/**
 * - dump: a Kite CSV (plain or gzipped) at a file path or http(s) URL;
 * - text: a Kite CSV produced in process (the embedded devticker's registry);
 * - table: the ticker's instrument_registry table. With a databaseUrl it is read through its own connection and
 *   copied into the market store; without one it is the market store's own table (the ticker shares the database),
 *   read in place and never written.
 */
export type RegistrySource =
  { kind: 'dump'; location: string } | { kind: 'text'; label: string; csv: () => string | Promise<string> } | { kind: 'table'; databaseUrl?: string };

/** The resolved source and the setting a user changes to fix it (named in the start-up error). */
export interface ResolvedSource {
  source: RegistrySource;
  setting: string;
}

export interface SourceSettings {
  /** STRIKEDESK_INSTRUMENTS: 'auto' | 'table' | 'ticker' | a path | a URL. */
  instrumentsSource: string;
  /** STRIKEDESK_INSTRUMENT_DATABASE_URL */
  instrumentDatabaseUrl?: string;
  /** DATABASE_URL (the market store) */
  databaseUrl?: string;
  /** TICKER_URL as configured (unset: the embedded devticker runs). */
  tickerUrl?: string;
}

export class SourceConfigError extends Error {}

/** The human name of a source for logs and health: no credentials. */
export function describeSource(source: RegistrySource): string {
  switch (source.kind) {
    case 'dump':
      return /^https?:\/\//i.test(source.location) ? (redactUrl(source.location) ?? source.location) : source.location;
    case 'text':
      return source.label;
    case 'table':
      return source.databaseUrl ? `table instrument_registry at ${redactUrl(source.databaseUrl)}` : 'table instrument_registry in the market store';
  }
}

/**
 * Maps the settings to a source. `embedded` is the in-process devticker's registry as a Kite CSV (when TICKER_URL
 * is unset); `embeddedUrl` its base URL (for an explicit 'ticker'). Throws SourceConfigError naming the setting.
 */
export function resolveRegistrySource(
  settings: SourceSettings,
  embedded?: { label: string; csv: () => string | Promise<string>; url?: string },
): ResolvedSource {
  const choice = settings.instrumentsSource.trim();
  const tableSource = (): ResolvedSource => {
    const own = settings.instrumentDatabaseUrl;
    const url = own ?? settings.databaseUrl;
    const setting = own ? 'STRIKEDESK_INSTRUMENT_DATABASE_URL' : 'DATABASE_URL';
    if (!url) {
      throw new SourceConfigError(
        "STRIKEDESK_INSTRUMENT_DATABASE_URL is not set (nor DATABASE_URL): the ticker's instrument_registry table cannot be read; " +
          'set it to the ticker database (postgres://...), or set STRIKEDESK_INSTRUMENTS to a Kite CSV file or URL',
      );
    }
    // The same database as the market store: the table is already there, shared; read it in place.
    const sameAsMarket = !own || own === settings.databaseUrl;
    return { source: sameAsMarket ? { kind: 'table' } : { kind: 'table', databaseUrl: url }, setting };
  };
  if (choice === 'auto') {
    if (settings.tickerUrl) return tableSource();
    if (!embedded) throw new SourceConfigError('STRIKEDESK_INSTRUMENTS=auto: TICKER_URL is unset but there is no embedded devticker to read instruments from');
    return { source: { kind: 'text', label: embedded.label, csv: embedded.csv }, setting: 'STRIKEDESK_INSTRUMENTS' };
  }
  if (choice === 'table') return tableSource();
  if (choice === 'ticker' || choice === 'devticker') {
    const base = settings.tickerUrl ?? embedded?.url;
    if (!base) throw new SourceConfigError(`STRIKEDESK_INSTRUMENTS=${choice} needs TICKER_URL (the devticker's /instruments extension)`);
    return { source: { kind: 'dump', location: `${base.replace(/\/+$/, '')}/instruments` }, setting: 'STRIKEDESK_INSTRUMENTS' };
  }
  return { source: { kind: 'dump', location: choice }, setting: 'STRIKEDESK_INSTRUMENTS' };
}

/** Rows per keyset page read from the ticker's table. */
const TABLE_PAGE = 10_000;

interface TableRow {
  instrument_token: string | number;
  tradingsymbol: string | null;
  name: string | null;
  segment: string | null;
  instrument_type: string | null;
  strike: string | number | null;
  expiry: string | null;
  tick_size: string | number | null;
  lot_size: string | number | null;
  exchange: string | null;
  is_active: boolean | null;
}

/**
 * Reads the ticker's instrument_registry through its own connection, read-only, in keyset pages. `expiry` is TEXT in
 * the service's schema and DATE in some deployments: `::text` under DateStyle ISO reads both as YYYY-MM-DD.
 */
export async function* readRegistryTable(databaseUrl: string, pageSize = TABLE_PAGE): AsyncGenerator<RegistryRow[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, statement_timeout: 60_000 });
  client.on('error', () => undefined); // a dropped connection surfaces as the failing query
  try {
    await client.connect();
    await client.query("SET datestyle TO 'ISO'; SET default_transaction_read_only TO on");
    let after = 0;
    for (;;) {
      const { rows } = await client.query<TableRow>(
        `SELECT instrument_token, tradingsymbol, name, segment, instrument_type, strike, expiry::text AS expiry,
                tick_size, lot_size, exchange, is_active
         FROM instrument_registry WHERE instrument_token > $1 ORDER BY instrument_token LIMIT $2`,
        [after, pageSize],
      );
      if (rows.length === 0) return;
      const batch: RegistryRow[] = [];
      for (const r of rows) {
        const row = toRegistryRow(r);
        if (row) batch.push({ ...row, isActive: r.is_active !== false });
      }
      after = Number(rows[rows.length - 1].instrument_token);
      if (batch.length) yield batch;
      if (rows.length < pageSize) return;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
