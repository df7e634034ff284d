// The ticker's and Kite's rate budgets, shared by every console on one Postgres (src/main/ticker/shared-budget.ts).
// One row per budget: the grants of the current sliding window and a 429 hold, both in the database's clock (epoch
// ms), so consoles on machines with different clocks still agree. The SQL is idempotent (IF NOT EXISTS).
export default {
  version: 4,
  name: 'ticker rate budget shared by every console on one Postgres',
  up: `
    CREATE TABLE IF NOT EXISTS ticker_rate_budget (
      bucket text PRIMARY KEY,                -- '<service>|create', '<service>|history', '<service>|delete:<token>', ...
      grants bigint[] NOT NULL DEFAULT '{}',  -- grant times (database clock, epoch ms) still inside the window
      held_until bigint NOT NULL DEFAULT 0,   -- a 429 seen by any console holds the budget for all until then
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};
