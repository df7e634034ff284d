// The market store's migration chain. Add a file NNNN_name.ts and append it here; never edit an applied one.
import m0001 from './0001_registry_and_bars';
import m0002 from './0002_backfill_coverage';
import m0003 from './0003_greek_tick_counts';
import m0004 from './0004_rate_budget';
import m0005 from './0005_distribution_indexes';
import m0006 from './0006_strike_day_volume';
import m0007 from './0007_strike_slice_volume';

export interface MarketMigration {
  version: number;
  name: string;
  up: string;
}

export const MARKET_MIGRATIONS: readonly MarketMigration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007];
