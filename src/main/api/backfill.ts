// backfill:* channels: the job list, the plan (requests and ETA) shown before a manual start, start, cancel (a queued
// job at once, a running one after its current requests), retry (a failed job's failed requests), coverage grid.
import type { BackfillService } from '../backfill/service';
import type { Handlers } from './console-api';

type BackfillChannels = 'backfill:jobs' | 'backfill:plan' | 'backfill:start' | 'backfill:cancel' | 'backfill:retry' | 'backfill:coverage';

export function backfillHandlers(backfill: BackfillService): Pick<Handlers, BackfillChannels> {
  return {
    'backfill:jobs': (req) => backfill.jobs(req.state, req.limit),
    'backfill:plan': (req) => backfill.plan(req.scope, req.lookbackMinutes),
    'backfill:start': (req, ctx) => backfill.startManual(req.scope, ctx.actor, { reason: req.reason, lookbackMinutes: req.lookbackMinutes }),
    'backfill:cancel': (req) => backfill.cancel(req.id),
    'backfill:retry': (req) => backfill.retry(req.id),
    'backfill:coverage': (req) => backfill.coverageGrid(req),
  };
}
