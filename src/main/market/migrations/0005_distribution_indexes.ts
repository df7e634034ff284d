// Indexes for the strike distribution at full size (30 days of 1-minute bars for whole chains, issue 17):
// - fo_strike_bars_by_bucket replaces fo_strike_bars_latest with the same key plus strike and both volumes: the
//   latest bucket per expiry stays one backward probe, and a leg's day volume (summed over the day's bars of every
//   strike, for the expiry-wide pcr_volume) becomes an index-only scan of the day's range instead of one heap visit
//   per bar.
// The per-leg "as of" lookups need no new index: they probe the primary key (timeframe, symbol, expiry, strike,
// bucket) once per strike (src/main/market/distribution.ts).
// Building the index reads the table once; on a large shared Postgres run the upgrade outside trading hours.
export default {
  version: 5,
  name: 'strike bars: covering index by bucket for the distribution',
  up: `
    CREATE INDEX IF NOT EXISTS fo_strike_bars_by_bucket ON fo_strike_bars (symbol, timeframe, expiry, bucket DESC)
      INCLUDE (strike, call_volume, put_volume);
    DROP INDEX IF EXISTS fo_strike_bars_latest;
  `,
};
