// A running day volume per strike (issue 17): the expiry-wide pcr_volume needs every strike's day volume, and summing
// the day's 1-minute bars of a whole chain on every request (the chain screen polls each second) was more than half
// of the distribution's work. fo_strike_day_volume keeps, per (symbol, expiry, IST day, strike), the sum of the known
// 1-minute volumes of each side and how many minutes had one (a day whose minutes all lack a volume has a null day
// volume, not 0: docs/market-data.md).
// It is kept by statement-level triggers on fo_strike_bars that add (new - old) per group from the statement's
// transition tables, so whatever writes bars (the writer's merge rules, backfill corrections, a delete, a truncate)
// leaves it equal to the sum of the bars; one upsert per statement, not per row. 5/15-minute roll-ups are ignored
// (day volume is the 1-minute bars' sum). Groups whose sums do not change (an OI-only update) are not touched.
// The IST day of a bucket is its UTC instant + 5:30 (IST has no DST), with no time-zone database needed.
// The triggers are created before the table is filled, under a lock that holds writers off until the migration
// commits, so no write falls between the fill and the first trigger.
// TimescaleDB: a bar table that is already a hypertable gets a row-level twin of the triggers (see below); on a plain
// table, enableTimescale (app.ts) later either converts it (TimescaleDB releases with timescale/timescaledb#6901 accept
// transition tables on hypertables) or is
// refused and leaves it a plain table, which it already tolerates.
const istDay = (col: string) => `((${col} AT TIME ZONE 'UTC') + interval '330 minutes')::date`;
const signed = (table: string, sign: '' | '-') => `
      SELECT symbol, expiry, ${istDay('bucket')} AS ist_day, strike,
             ${sign}coalesce(call_volume, 0) AS cv, ${sign}(call_volume IS NOT NULL)::int AS cn,
             ${sign}coalesce(put_volume, 0) AS pv, ${sign}(put_volume IS NOT NULL)::int AS pn
      FROM ${table} WHERE timeframe = 1`;
// Key order for the upsert: two writers touching the same day rows lock them in the same order (no deadlock).
const apply = (rows: string) => `
    INSERT INTO fo_strike_day_volume AS d (symbol, expiry, ist_day, strike, call_volume, call_minutes, put_volume, put_minutes)
    SELECT symbol, expiry, ist_day, strike, sum(cv)::bigint, sum(cn)::int, sum(pv)::bigint, sum(pn)::int
    FROM (${rows}) x
    GROUP BY symbol, expiry, ist_day, strike
    HAVING sum(cv) <> 0 OR sum(cn) <> 0 OR sum(pv) <> 0 OR sum(pn) <> 0
    ORDER BY symbol, expiry, ist_day, strike
    ON CONFLICT (symbol, expiry, ist_day, strike) DO UPDATE SET
      call_volume = d.call_volume + EXCLUDED.call_volume, call_minutes = d.call_minutes + EXCLUDED.call_minutes,
      put_volume = d.put_volume + EXCLUDED.put_volume, put_minutes = d.put_minutes + EXCLUDED.put_minutes;`;

// One row's (signed) contribution, for the row-level twin below.
const rowApply = (
  row: 'OLD' | 'NEW',
  sign: '' | '-',
) => `INSERT INTO fo_strike_day_volume AS d (symbol, expiry, ist_day, strike, call_volume, call_minutes, put_volume, put_minutes)
        VALUES (${row}.symbol, ${row}.expiry, ${istDay(`${row}.bucket`)}, ${row}.strike,
                ${sign}coalesce(${row}.call_volume, 0), ${sign}(${row}.call_volume IS NOT NULL)::int,
                ${sign}coalesce(${row}.put_volume, 0), ${sign}(${row}.put_volume IS NOT NULL)::int)
        ON CONFLICT (symbol, expiry, ist_day, strike) DO UPDATE SET
          call_volume = d.call_volume + EXCLUDED.call_volume, call_minutes = d.call_minutes + EXCLUDED.call_minutes,
          put_volume = d.put_volume + EXCLUDED.put_volume, put_minutes = d.put_minutes + EXCLUDED.put_minutes;`;

export default {
  version: 6,
  name: 'strike bars: running day volume per strike, kept by triggers',
  up: `
    LOCK TABLE fo_strike_bars IN SHARE ROW EXCLUSIVE MODE;

    CREATE TABLE fo_strike_day_volume (
      symbol text NOT NULL,
      expiry date NOT NULL,
      ist_day date NOT NULL,
      strike double precision NOT NULL,
      call_volume bigint NOT NULL DEFAULT 0,   -- sum of the day's known 1-minute call volumes
      call_minutes integer NOT NULL DEFAULT 0, -- minutes with a known call volume (0: the day volume is null)
      put_volume bigint NOT NULL DEFAULT 0,
      put_minutes integer NOT NULL DEFAULT 0,
      PRIMARY KEY (symbol, expiry, ist_day, strike)
    );

    CREATE FUNCTION fo_strike_day_volume_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN ${apply(signed('new_bars', ''))}
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION fo_strike_day_volume_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN ${apply(`${signed('new_bars', '')} UNION ALL ${signed('old_bars', '-')}`)}
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION fo_strike_day_volume_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN ${apply(signed('old_bars', '-'))}
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION fo_strike_day_volume_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      TRUNCATE fo_strike_day_volume;
      RETURN NULL;
    END $fn$;

    -- A row-level twin for a bar table that is already a TimescaleDB hypertable: older TimescaleDB releases accept a
    -- transition-table trigger there but then fail every insert, which would stop the writer. Slower per row, same sums.
    CREATE FUNCTION fo_strike_day_volume_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP <> 'INSERT' AND OLD.timeframe = 1 AND (OLD.call_volume IS NOT NULL OR OLD.put_volume IS NOT NULL) THEN
        ${rowApply('OLD', '-')}
      END IF;
      IF TG_OP <> 'DELETE' AND NEW.timeframe = 1 AND (NEW.call_volume IS NOT NULL OR NEW.put_volume IS NOT NULL) THEN
        ${rowApply('NEW', '')}
      END IF;
      RETURN NULL;
    END $fn$;

    -- One trigger per event: PostgreSQL allows transition tables only on single-event triggers.
    DO $do$
    DECLARE hypertable boolean := false;
    BEGIN
      IF to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL THEN
        EXECUTE $q$SELECT EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable WHERE table_name = 'fo_strike_bars')$q$ INTO hypertable;
      END IF;
      IF hypertable THEN
        CREATE TRIGGER fo_strike_day_volume_row AFTER INSERT OR UPDATE OR DELETE ON fo_strike_bars
          FOR EACH ROW EXECUTE FUNCTION fo_strike_day_volume_row();
      ELSE
        CREATE TRIGGER fo_strike_day_volume_insert AFTER INSERT ON fo_strike_bars
          REFERENCING NEW TABLE AS new_bars FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_day_volume_insert();
        CREATE TRIGGER fo_strike_day_volume_update AFTER UPDATE ON fo_strike_bars
          REFERENCING OLD TABLE AS old_bars NEW TABLE AS new_bars FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_day_volume_update();
        CREATE TRIGGER fo_strike_day_volume_delete AFTER DELETE ON fo_strike_bars
          REFERENCING OLD TABLE AS old_bars FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_day_volume_delete();
      END IF;
    END $do$;
    CREATE TRIGGER fo_strike_day_volume_truncate AFTER TRUNCATE ON fo_strike_bars
      FOR EACH STATEMENT EXECUTE FUNCTION fo_strike_day_volume_truncate();

    INSERT INTO fo_strike_day_volume (symbol, expiry, ist_day, strike, call_volume, call_minutes, put_volume, put_minutes)
    SELECT symbol, expiry, ${istDay('bucket')} AS ist_day, strike,
           coalesce(sum(call_volume), 0)::bigint, count(call_volume)::int, coalesce(sum(put_volume), 0)::bigint, count(put_volume)::int
    FROM fo_strike_bars WHERE timeframe = 1
    GROUP BY 1, 2, 3, 4
    HAVING count(call_volume) > 0 OR count(put_volume) > 0;
    -- PGlite has no autovacuum: without statistics the planner takes the table for empty.
    ANALYZE fo_strike_day_volume;
  `,
};
