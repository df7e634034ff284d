// The market store's migration chain. Add a file NNNN_name.ts and append it here; never edit an applied one.
import m0001 from './0001_registry_and_bars';

export interface MarketMigration {
  version: number;
  name: string;
  up: string;
}

export const MARKET_MIGRATIONS: readonly MarketMigration[] = [m0001];
