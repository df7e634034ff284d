// The scheduler (clock plus abortable sleep) lives in src/shared/clock.ts; re-exported here for the ticker and
// subscription modules that import it by this path.
export { realScheduler, systemScheduler, type Scheduler } from '../../shared/clock';
