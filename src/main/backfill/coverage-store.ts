// Coverage in the market store, per instrument (token): the minutes that already have a complete 1-minute bar
// (fo_strike_bars by call_token/put_token, instrument_bars by token) and the recorded no-trade / failed windows.
// Never one watermark per symbol: one live strike must not hide the gaps of the others.
import type { MarketDb, Queryable } from '../market/db';
import type { GapRun, PlannedInstrument } from './types';
import { TokenCoverage } from './window';

const toIso = (ms: number) => new Date(ms).toISOString();
const ms = (v: Date | string | number) => (v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v));

// float8 arrays parse to numbers on both backends (int8 arrays would come back as strings from pg).
const FILLED_OPTIONS = `
  SELECT call_token AS token, array_agg(extract(epoch FROM bucket)::float8 * 1000) AS minutes
    FROM fo_strike_bars
   WHERE timeframe = 1 AND call_token = ANY($1::int8[]) AND call_complete AND bucket >= $2 AND bucket < $3
   GROUP BY call_token
  UNION ALL
  SELECT put_token AS token, array_agg(extract(epoch FROM bucket)::float8 * 1000) AS minutes
    FROM fo_strike_bars
   WHERE timeframe = 1 AND put_token = ANY($1::int8[]) AND put_complete AND bucket >= $2 AND bucket < $3
   GROUP BY put_token`;

const FILLED_INSTRUMENTS = `
  SELECT token, array_agg(extract(epoch FROM bucket)::float8 * 1000) AS minutes
    FROM instrument_bars
   WHERE timeframe = 1 AND token = ANY($1::int8[]) AND complete AND bucket >= $2 AND bucket < $3
   GROUP BY token`;

export interface RecordedWindow {
  token: number;
  state: 'no_trades' | 'failed';
  from: number;
  to: number;
  reason: string | null;
}

export class CoverageStore {
  constructor(private readonly db: MarketDb) {}

  /** Minutes with a complete bar, per token, in [from, to). */
  async filledMinutes(
    instruments: readonly Pick<PlannedInstrument, 'token' | 'kind'>[],
    from: number,
    to: number,
    db: Queryable = this.db,
  ): Promise<Map<number, Set<number>>> {
    const out = new Map<number, Set<number>>();
    const options = instruments.filter((i) => i.kind === 'option').map((i) => i.token);
    const others = instruments.filter((i) => i.kind !== 'option').map((i) => i.token);
    const add = (rows: { token: number; minutes: number[] }[]) => {
      for (const r of rows) {
        const set = out.get(Number(r.token)) ?? new Set<number>();
        for (const m of r.minutes) set.add(Math.round(m));
        out.set(Number(r.token), set);
      }
    };
    if (options.length) add(await db.query(FILLED_OPTIONS, [options, toIso(from), toIso(to)]));
    if (others.length) add(await db.query(FILLED_INSTRUMENTS, [others, toIso(from), toIso(to)]));
    return out;
  }

  /** No-trade and failed windows overlapping [from, to). */
  async windows(tokens: readonly number[], from: number, to: number, db: Queryable = this.db): Promise<RecordedWindow[]> {
    if (tokens.length === 0) return [];
    const rows = await db.query<{ token: number; state: 'no_trades' | 'failed'; from_bucket: Date; to_bucket: Date; reason: string | null }>(
      `SELECT token, state, from_bucket, to_bucket, reason FROM backfill_windows
        WHERE token = ANY($1::int8[]) AND to_bucket > $2 AND from_bucket < $3`,
      [tokens, toIso(from), toIso(to)],
    );
    return rows.map((r) => ({ token: Number(r.token), state: r.state, from: ms(r.from_bucket), to: ms(r.to_bucket), reason: r.reason }));
  }

  /** Per token: what counts as covered (complete bars and no-trade windows). */
  async coverage(
    instruments: readonly Pick<PlannedInstrument, 'token' | 'kind'>[],
    from: number,
    to: number,
    db: Queryable = this.db,
  ): Promise<Map<number, TokenCoverage>> {
    const [filled, windows] = await Promise.all([
      this.filledMinutes(instruments, from, to, db),
      this.windows(
        instruments.map((i) => i.token),
        from,
        to,
        db,
      ),
    ]);
    const out = new Map<number, TokenCoverage>();
    for (const inst of instruments) {
      const mine = windows.filter((w) => w.token === inst.token);
      const noTrades: GapRun[] = mine.filter((w) => w.state === 'no_trades').map((w) => [w.from, w.to]);
      out.set(
        inst.token,
        new TokenCoverage(
          filled.get(inst.token) ?? new Set(),
          noTrades,
          mine.some((w) => w.state === 'failed'),
        ),
      );
    }
    return out;
  }

  /** Records windows (no trades, or failed) for one token. Re-recording the same window is a no-op. */
  async recordWindows(db: Queryable, token: number, state: 'no_trades' | 'failed', runs: readonly GapRun[], reason: string | null): Promise<void> {
    if (runs.length === 0) return;
    await db.query(
      `INSERT INTO backfill_windows (token, state, from_bucket, to_bucket, reason)
       SELECT $1, $2, f, t, $5 FROM unnest($3::timestamptz[], $4::timestamptz[]) AS u(f, t)
       ON CONFLICT (token, state, from_bucket) DO UPDATE SET to_bucket = GREATEST(backfill_windows.to_bucket, EXCLUDED.to_bucket),
         reason = EXCLUDED.reason, recorded_at = now()`,
      [token, state, runs.map(([a]) => toIso(a)), runs.map(([, b]) => toIso(b)), reason],
    );
  }

  /** A successful fetch over [from, to) ends the failed state of the windows inside it. */
  async clearFailed(db: Queryable, token: number, from: number, to: number): Promise<void> {
    await db.query(`DELETE FROM backfill_windows WHERE token = $1 AND state = 'failed' AND from_bucket >= $2 AND to_bucket <= $3`, [
      token,
      toIso(from),
      toIso(to),
    ]);
  }

  /** Contracts Kite refused for good (expired), among `tokens`: token -> reason. */
  async notBackfillable(tokens: readonly number[]): Promise<Map<number, string>> {
    if (tokens.length === 0) return new Map();
    const rows = await this.db.query<{ token: number; reason: string }>('SELECT token, reason FROM backfill_not_backfillable WHERE token = ANY($1::int8[])', [
      tokens,
    ]);
    return new Map(rows.map((r) => [Number(r.token), r.reason]));
  }

  /** Marks one contract not backfillable (this contract only). */
  async markNotBackfillable(token: number, tradingsymbol: string, reason: string): Promise<void> {
    await this.db.query(
      `INSERT INTO backfill_not_backfillable (token, tradingsymbol, reason) VALUES ($1, $2, $3)
       ON CONFLICT (token) DO UPDATE SET reason = EXCLUDED.reason, marked_at = now()`,
      [token, tradingsymbol, reason],
    );
  }
}
