// Issue 14 at the intake: webhook metadata bounded in depth and size (422, not a stack overflow and 500 on every
// retry); events for tokens the instrument registry does not know are recorded with their outcome, never a job.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InboxRow } from './inbox';
import { jsonDepth, METADATA_MAX_DEPTH } from './normalize';
import { planBody, postEvent, RecordingBackfill, startTestIntake, type TestIntake } from './testing/support';

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { d: v };
  return v;
};

describe('webhook metadata bounds', () => {
  let t: TestIntake;
  beforeAll(async () => {
    t = await startTestIntake({});
  });
  afterAll(async () => t?.close());
  const count = () => (t.state.db.prepare('SELECT count(*) AS n FROM event_inbox').get() as { n: number }).n;

  it('422 naming metadata for a deeply nested body (20,000 levels) and writes nothing', async () => {
    const before = count();
    const deep = `{"event_type":"created","instrument_token":7,"tradingsymbol":"X","timestamp":"${new Date().toISOString()}","metadata":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;
    const res = await postEvent(t.url, { body: deep });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('metadata');
    expect(count()).toBe(before);
  });

  it('422 beyond the depth and size bounds; accepted within them', async () => {
    const tooDeep = await postEvent(t.url, { body: planBody(8, 'created', new Date().toISOString(), { metadata: { x: nested(METADATA_MAX_DEPTH) } }) });
    expect(tooDeep.status).toBe(422);
    const tooBig = await postEvent(t.url, { body: planBody(9, 'created', new Date().toISOString(), { metadata: { x: 'y'.repeat(9_000) } }) });
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.detail).toMatch(/metadata/);
    const fine = await postEvent(t.url, { body: planBody(10, 'created', new Date().toISOString(), { metadata: { x: nested(METADATA_MAX_DEPTH - 2) } }) });
    expect(fine.status).toBe(202);
  });

  it('jsonDepth counts without recursion', () => {
    expect(jsonDepth('x')).toBe(0);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(jsonDepth(deep, 10)).toBe(11);
  });
});

describe('events for tokens not in the registry', () => {
  let t: TestIntake;
  const backfill = new RecordingBackfill();
  const known = new Set([256265]);
  beforeAll(async () => {
    t = await startTestIntake({ backfill: () => backfill, registry: () => ({ byToken: async (token: number) => (known.has(token) ? { token } : null) }) });
  });
  afterAll(async () => t?.close());

  it('are recorded with an outcome and queue no backfill job; known tokens still do', async () => {
    const unknown = await postEvent(t.url, { body: planBody(999_999) });
    expect(unknown.status).toBe(202);
    const row = await vi.waitFor(
      () => {
        const r = t.intake.inbox.get(unknown.body.event_id) as InboxRow | null;
        if (r?.state !== 'done') throw new Error(`unknown-token event not settled yet (${r?.state ?? 'no row'})`);
        return r;
      },
      { timeout: 10_000, interval: 10 },
    );
    expect(row.outcome_code).toBe('unknown_token');
    expect(row.outcome).toMatch(/not in the instrument registry/);
    expect(backfill.calls.map((c) => c.scope)).not.toContainEqual({ kind: 'instrument', token: 999_999 });

    const good = await postEvent(t.url, { body: planBody(256265) });
    expect(good.status).toBe(202);
    await expect.poll(() => backfill.calls.some((c) => (c.scope as { token?: number }).token === 256265), { message: 'backfill for a known token' }).toBe(true);
  });
});
