// The instrument registry (the shape of the ticker service's own table, so a shared one can be read as is)
// and the bar tables of docs/market-data.md.
const side = (s: 'call' | 'put') => `
    ${s}_token bigint,
    ${s}_oi bigint,
    ${s}_volume bigint,
    ${s}_open double precision,
    ${s}_high double precision,
    ${s}_low double precision,
    ${s}_close double precision,
    ${s}_iv double precision,
    ${s}_delta double precision,
    ${s}_gamma double precision,
    ${s}_theta double precision,
    ${s}_vega double precision,
    ${s}_ticks integer,
    ${s}_source text CHECK (${s}_source IN ('live', 'backfill')),
    ${s}_complete boolean`;

export default {
  version: 1,
  name: 'instrument registry, strike bars, instrument bars',
  up: `
    CREATE TABLE IF NOT EXISTS instrument_registry (
      instrument_token bigint PRIMARY KEY,
      tradingsymbol text NOT NULL,
      name text,
      segment text,
      instrument_type text,
      strike double precision,
      expiry text,
      tick_size double precision,
      lot_size integer,
      exchange text,
      is_active boolean NOT NULL DEFAULT true,
      last_refreshed_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS instrument_registry_chain ON instrument_registry (name, expiry, strike) WHERE is_active;

    -- One row per (timeframe, symbol, expiry, strike, bucket); call and put side by side.
    -- timeframe is in minutes (1, 5, 15); 5 and 15 are rolled up from 1.
    CREATE TABLE fo_strike_bars (
      timeframe smallint NOT NULL CHECK (timeframe IN (1, 5, 15)),
      symbol text NOT NULL,
      expiry date NOT NULL,
      strike double precision NOT NULL,
      bucket timestamptz NOT NULL,
      underlying_close double precision,
      ${side('call')},
      ${side('put')},
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (timeframe, symbol, expiry, strike, bucket)
    );
    -- "latest bucket per expiry"
    CREATE INDEX fo_strike_bars_latest ON fo_strike_bars (symbol, timeframe, expiry, bucket DESC);
    -- per-instrument coverage
    CREATE INDEX fo_strike_bars_call_token ON fo_strike_bars (call_token, timeframe, bucket) WHERE call_token IS NOT NULL;
    CREATE INDEX fo_strike_bars_put_token ON fo_strike_bars (put_token, timeframe, bucket) WHERE put_token IS NOT NULL;

    -- Indices and futures: one row per (timeframe, token, bucket).
    CREATE TABLE instrument_bars (
      timeframe smallint NOT NULL CHECK (timeframe IN (1, 5, 15)),
      token bigint NOT NULL,
      bucket timestamptz NOT NULL,
      symbol text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('index', 'future')),
      expiry date,
      open double precision,
      high double precision,
      low double precision,
      close double precision,
      volume bigint,
      oi bigint,
      ticks integer,
      source text NOT NULL CHECK (source IN ('live', 'backfill')),
      complete boolean NOT NULL DEFAULT true,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (timeframe, token, bucket)
    );
    CREATE INDEX instrument_bars_symbol ON instrument_bars (symbol, kind, timeframe, bucket DESC);
  `,
};
