// Two consoles on one PostgreSQL database and one ticker: only one runs a scheduled cycle at a time (advisory lock),
// and an immediate job for an instrument the other console is already backfilling is not duplicated (claims).
// PostgreSQL only: PGlite is single-process, so the question does not arise there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIstWallClock } from '../calendar';
import { startRig, type Rig } from './testing/support';

const START = fromIstWallClock('2025-11-12T11:15:20');
const hasPostgres = Boolean(process.env.DATABASE_URL);
if (!hasPostgres) process.stdout.write('backfill leader/claims tests skipped: DATABASE_URL is not set (they need a shared PostgreSQL)\n');

describe.skipIf(!hasPostgres)('two consoles on one PostgreSQL', () => {
  let a: Rig;
  let b: Rig;
  let tokens: number[];

  beforeAll(async () => {
    a = await startRig({ backend: 'postgres', startMs: START, consoleId: 'console-a' });
    b = await startRig({ startMs: START, market: a.market, devticker: a.dt, consoleId: 'console-b' });
    const [expiry] = await a.registry.expiries('FINNIFTY', '2025-11-12');
    tokens = (await a.registry.chain('FINNIFTY', expiry)).slice(100, 106).map((i) => i.token);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('runs one scheduled cycle at a time: the other console is told another leads', async () => {
    a.dt.sim.subscribe(tokens);
    a.dt.sim.setFaults({ latencyMs: 200 });
    const since = a.clock.now();
    const [ra, rb] = await Promise.all([a.service.runScheduledCycle(), b.service.runScheduledCycle()]);
    a.dt.sim.setFaults({ latencyMs: 0 });
    const leaders = [ra, rb].filter((r) => r.led);
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).toMatchObject({ considered: 6, plannedRequests: 6, state: 'done' });
    const follower = ra.led ? rb : ra;
    expect(follower).toMatchObject({ led: false, jobId: null, notes: ['another console runs the scheduled cycle'] });
    expect(a.historyCalls(since)).toHaveLength(6);
    // The lock went with the cycle: the other console leads the next one. Little is left to do: at most the last two
    // minutes of each illiquid strike, which had not settled when they were asked (history may lag).
    const next = await (ra.led ? b : a).service.runScheduledCycle();
    expect(next).toMatchObject({ led: true, considered: 6 });
    expect(next.missingMinutes).toBeLessThanOrEqual(2 * 6);
    a.dt.sim.unsubscribe(tokens);
  }, 60_000);

  it('an immediate job for an instrument the other console is backfilling is not duplicated', async () => {
    const [expiry] = await a.registry.expiries('BANKNIFTY', '2025-11-12');
    const chain = await a.registry.chain('BANKNIFTY', expiry);
    const leg = chain[Math.floor(chain.length / 2)];
    a.dt.sim.setFaults({ latencyMs: 300 });
    const since = a.clock.now();
    const first = await a.service.enqueueImmediate({ kind: 'instrument', token: leg.token }, 'event:webhook');
    expect(first.requestsPlanned).toBe(2);
    const second = await b.service.enqueueImmediate({ kind: 'instrument', token: leg.token }, 'event:redis');
    expect(second).toMatchObject({ state: 'done', requestsPlanned: 0 });
    expect(second.lastError).toBe(`2 instrument(s) already being backfilled by console console-a job #${first.id}`);
    expect((await a.service.waitFinal(first.id)).state).toBe('done');
    a.dt.sim.setFaults({ latencyMs: 0 });
    // Each leg fetched once, by console A only. (Two consoles on one ticker each keep their own 3/s limiter, so a
    // request may meet Kite's "Too many requests" right after the other console's burst: it is retried, not doubled.)
    const answered = a.historyCalls(since).filter((c) => c.status === 200);
    expect(answered.map((c) => c.instrumentToken).sort()).toEqual(
      [leg.token, chain.find((i) => i.strike === leg.strike && i.token !== leg.token)?.token].sort(),
    );
    // Claims end with the job: a later immediate job on console B may claim the instrument.
    await expect
      .poll(async () => (await a.market.query('SELECT 1 FROM backfill_claims WHERE job_id = $1', [first.id])).length === 0, {
        message: 'claims released',
        timeout: 5000,
      })
      .toBeTruthy();
    const later = await b.service.enqueueImmediate({ kind: 'instrument', token: leg.token }, 'event:poll');
    expect(later.lastError ?? '').not.toMatch(/already being backfilled/);
    // Whatever is left (unsettled last minutes, if the strike did not trade in them) console B now does itself.
    expect((await b.service.waitFinal(later.id)).state).toBe('done');
  }, 60_000);
});
