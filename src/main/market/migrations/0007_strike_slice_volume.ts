// Volume per strike per quarter hour (issue 17, the `at=` chain). The day volume of a leg at an instant T of a past
// day is the sum of its 1-minute volumes from the open up to T. Migration 0006's day total answers it cheaply only
// when T is at the day's end (nothing to subtract) or near one of its edges; at midday it meant summing some 190
// minutes x every strike of the expiry (about 19,000 bar rows per expiry, the largest part of an `at=` request).
// fo_strike_slice_volume keeps the same sums per (symbol, expiry, 15-minute slice, strike), so the volume before T is
// the slices before T's own slice (at most 25 a day) plus at most 14 minutes of bars: about 3,900 rows at worst.
// Slices are aligned to UTC quarter hours (IST is UTC+5:30, so they are IST quarter hours too: 09:15-09:30, ...).
// Kept like the day total: statement-level triggers on fo_strike_bars add (new - old) per group from the transition
// tables (one upsert per statement), a row-level twin when the bar table is already a TimescaleDB hypertable, a
// truncate empties it; 5/15-minute roll-ups are ignored. Created under a lock that holds writers off until the
// migration commits, the triggers before the fill.
const slice = (col: string) => `to_timestamp(floor(extract(epoch FROM ${col}) / 900) * 900)`;
const signed = (table: string, sign: '' | '-') => `
      SELECT symbol, expiry, ${slice('bucket')} AS slice, strike,
             ${sign}coalesce(call_volume, 0) AS cv, ${sign}(call_volume IS NOT NULL)::int AS cn,
             ${sign}coalesce(put_volume, 0) AS pv, ${sign}(put_volume IS NOT NULL)::int AS pn
      FROM ${table} WHERE timeframe = 1`;
// Key order for the upsert: two writers touching the same rows lock them in the same order (no deadlock).
const apply = (rows: string) => `
    INSERT INTO fo_strike_slice_volume AS d (symbol, expiry, slice, strike, call_volume, call_minutes, put_volume, put_minutes)
    SELECT symbol, expiry, slice, strike, sum(cv)::bigint, sum(cn)::int, sum(pv)::bigint, sum(pn)::int
    FROM (${rows}) x
    GROUP BY symbol, expiry, slice, strike
    HAVING sum(cv) <> 0 OR sum(cn) <> 0 OR sum(pv) <> 0 OR sum(pn) <> 0
    ORDER BY symbol, expiry, slice, strike
    ON CONFLICT (symbol, expiry, slice, strike) DO UPDATE SET
      call_volume = d.call_volume + EXCLUDED.call_volume, call_minutes = d.call_minutes + EXCLUDED.call_minutes,
      put_volume = d.put_volume + EXCLUDED.put_volume, put_minutes = d.put_minutes + EXCLUDED.put_minutes;`;

const rowApply = (
  row: 'OLD' | 'NEW',
  sign: '' | '-',
) => `INSERT INTO fo_strike_slice_volume AS d (symbol, expiry, slice, strike, call_volume, call_minutes, put_volume, put_minutes)
        VALUES (${row}.symbol, ${row}.expiry, ${slice(`${row}.bucket`)}, ${row}.strike,
                ${sign}coalesce(${row}.call_volume, 0), ${sign}(${row}.call_volume IS NOT NULL)::int,
                ${sign}coalesce(${row}.put_volume, 0), ${sign}(${row}.put_volume IS NOT NULL)::int)
        ON CONFLICT (symbol, expiry, slice, strike) DO UPDATE SET
          call_volume = d.call_volume + EXCLUDED.call_volume, call_minutes = d.call_minutes + EXCLUDED.call_minutes,
          put_volume = d.put_volume + EXCLUDED.put_volume, put_minutes = d.put_minutes + EXCLUDED.put_minutes;`;

export default {
  version: 7,
  name: 'strike bars: volume per quarter hour per strike, kept by triggers',
  up: `
    LOCK TABLE fo_strike_bars IN SHARE ROW EXCLUSIVE MODE;

    CREATE TABLE fo_strike_slice_volume (
      symbol text NOT NULL,
      expiry date NOT NULL,
      slice timestamptz NOT NULL,              -- start of the quarter hour (UTC-aligned, so IST-aligned too)
      strike double precision NOT NULL,
      call_volume bigint NOT NULL DEFAULT 0,   -- sum of the slice's known 1-minute call volumes
      call_minutes integer NOT NULL DEFAULT 0, -- minutes with a known call volume
      put_volume bigint NOT NULL DEFAULT 0,
      put_minutes integer NOT NULL DEFAULT 0,
      PRIMARY KEY (symbol, expiry, slice, strike)
    );

    CREATE FUNCTION fo_strike_slice_volume_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN ${apply(signed('new_bars', ''))}
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION fo_strike_slice_volume_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN ${apply(`${signed('new_bars', '')} UNION ALL ${signed('old_bars', '-')}`)}
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION fo_strike_slice_volume_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN ${apply(signed('old_bars', '-'))}
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION fo_strike_slice_volume_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      TRUNCATE fo_strike_slice_volume;
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION fo_strike_slice_volume_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP <> 'INSERT' AND OLD.timeframe = 1 AND (OLD.call_volume IS NOT NULL OR OLD.put_volume IS NOT NULL) THEN
        ${rowApply('OLD', '-')}
      END IF;
      IF TG_OP <> 'DELETE' AND NEW.timeframe = 1 AND (NEW.call_volume IS NOT NULL OR NEW.put_volume IS NOT NULL) THEN
        ${rowApply('NEW', '')}
      END IF;
      RETURN NULL;
    END $fn$;

    DO $do$
    DECLARE hypertable boolean := false;
    BEGIN
      IF to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL THEN
        EXECUTE $q$SELECT EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable WHERE table_name = 'fo_strike_bars')$q$ INTO hypertable;
      END IF;
      IF hypertable THEN
        CREATE TRIGGER fo_strike_slice_volume_row AFTER INSERT OR UPDATE OR DELETE ON fo_strike_bars
          FOR EACH ROW EXECUTE FUNCTION fo_strike_slice_volume_row();
      ELSE
        CREATE TRIGGER fo_strike_slice_volume_insert AFTER INSERT ON fo_strike_bars
          REFERENCING NEW TABLE AS new_bars FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_slice_volume_insert();
        CREATE TRIGGER fo_strike_slice_volume_update AFTER UPDATE ON fo_strike_bars
          REFERENCING OLD TABLE AS old_bars NEW TABLE AS new_bars FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_slice_volume_update();
        CREATE TRIGGER fo_strike_slice_volume_delete AFTER DELETE ON fo_strike_bars
          REFERENCING OLD TABLE AS old_bars FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_slice_volume_delete();
      END IF;
    END $do$;
    CREATE TRIGGER fo_strike_slice_volume_truncate AFTER TRUNCATE ON fo_strike_bars
      FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_slice_volume_truncate();

    INSERT INTO fo_strike_slice_volume (symbol, expiry, slice, strike, call_volume, call_minutes, put_volume, put_minutes)
    SELECT symbol, expiry, ${slice('bucket')} AS slice, strike,
           coalesce(sum(call_volume), 0)::bigint, count(call_volume)::int, coalesce(sum(put_volume), 0)::bigint, count(put_volume)::int
    FROM fo_strike_bars WHERE timeframe = 1
    GROUP BY 1, 2, 3, 4
    HAVING count(call_volume) > 0 OR count(put_volume) > 0;
    -- PGlite has no autovacuum: without statistics the planner takes the table for empty.
    ANALYZE fo_strike_slice_volume;
  `,
};
