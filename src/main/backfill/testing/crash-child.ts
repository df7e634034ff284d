// A console's backfill worker in its own process, for the crash test (crash.test.ts), which kills it with -9.
//   node --import tsx crash-child.ts plan  -> loads the registry, plans and queues one job (fixed plan instant), exits
//   node --import tsx crash-child.ts run   -> runs the queue until it is empty (resuming a job left running), exits
// Environment: BF_STATE (SQLite file), BF_MARKET (a PGlite directory or a postgres:// URL), BF_TICKER (devticker URL),
// BF_START / BF_T0 (session instant and the parent's wall time for it: the clock runs from there), BF_PLAN_AT (plan
// instant), BF_SCOPE (JSON BackfillScope).
import type { BackfillScope } from '../../../shared/api';
import type { Clock } from '../../../shared/clock';
import { HolidayCalendar } from '../../calendar';
import { scopedLogger } from '../../log';
import { DataSignals } from '../../market/data-signals';
import { openMarketDb } from '../../market/db';
import { migrateMarket } from '../../market/migrate';
import { noopTelemetry } from '../../metrics/telemetry';
import { InstrumentRegistry } from '../../registry/registry';
import { StateStore } from '../../state/store';
import { HttpTickerClient } from '../../ticker/client';
import { realScheduler } from '../../../shared/clock';
import { BackfillService } from '../service';

const mode = process.argv[2];
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

const offset = Number(env('BF_START')) - Number(env('BF_T0'));
const running: Clock = { now: () => Date.now() + offset };
const planAt = Number(env('BF_PLAN_AT'));
const clock: Clock = mode === 'plan' ? { now: () => planAt } : running;

const marketLocation = env('BF_MARKET');
const market = await openMarketDb(marketLocation.startsWith('postgres') ? { databaseUrl: marketLocation, poolSize: 4 } : { pgliteDir: marketLocation });
await migrateMarket(market);
const state = new StateStore(env('BF_STATE'));
state.migrate();
const tickerUrl = env('BF_TICKER');
const registry = new InstrumentRegistry({ db: market, clock, source: { kind: 'dump', location: `${tickerUrl}/instruments` } });
const ticker = new HttpTickerClient({ baseUrl: tickerUrl, scheduler: realScheduler(running) });
const service = new BackfillService({
  market,
  state,
  flags: { get: () => true },
  clock,
  calendar: HolidayCalendar.load(),
  config: { backfillIntervalMinutes: 5, backfillLookbackMinutes: 60, underlyings: ['NIFTY'], strikesEachSide: 5 },
  ticker: () => ticker,
  registry: () => registry,
  subscriptions: () => undefined,
  signals: new DataSignals(),
  telemetry: () => noopTelemetry,
  logger: scopedLogger('backfill-child'),
  concurrency: 4,
  retry: { attempts: 6, baseDelayMs: 200, maxDelayMs: 2000 },
  schedule: false,
  consoleId: 'crash-child',
});

if (mode === 'plan') {
  await registry.refresh();
  const job = await service.startManual(JSON.parse(env('BF_SCOPE')) as BackfillScope, 'crash-test');
  say({ planned: job.id, requests: job.requestsPlanned });
} else {
  service.start();
  say({ running: true });
  await service.whenIdle();
  say({ idle: true });
}
await service.stop();
await ticker.close();
state.close();
await market.close();
