// The whole console over real HTTP: the embedded devticker (always-open clock), the real ingest path writing bars
// into PGlite and signalling first data, the subscription manager and GET /fo/strike-distribution.
// A chain nobody subscribed ends with data for every strike; max pain and PCR match a brute-force computation on
// the returned rows; auto_subscribed is true only while something was newly subscribed.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExpirySeries, StrikeDistribution, StrikeHistory, SubscriptionRow } from '../../shared/api';
import { startTestConsole, type TestConsole } from '../../testing/console';

let app: TestConsole;

beforeAll(async () => {
  app = await startTestConsole({ name: 'chain' });
}, 90_000);
afterAll(async () => app?.close());

async function distribution(query: string): Promise<{ status: number; body: StrikeDistribution & { detail?: string }; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${app.url}/fo/strike-distribution?${query}`);
  return { status: res.status, body: (await res.json()) as StrikeDistribution & { detail?: string }, ms: Date.now() - started };
}

const api = <T>(channel: string, request: unknown): Promise<T> => app.call<T>(channel, request);

function bruteMaxPain(s: ExpirySeries): number | null {
  let best: number | null = null;
  let bestPain = Number.POSITIVE_INFINITY;
  for (const settle of s.call.map((l) => l.strike)) {
    let pain = 0;
    s.call.forEach((c, i) => {
      const p = s.put[i];
      if (settle > c.strike) pain += (c.oi ?? 0) * (settle - c.strike);
      if (p.strike > settle) pain += (p.oi ?? 0) * (p.strike - settle);
    });
    if (pain < bestPain) {
      bestPain = pain;
      best = settle;
    }
  }
  return best;
}

describe('GET /fo/strike-distribution', () => {
  it('names a bad expiry in a 400', async () => {
    const r = await distribution('symbol=NIFTY&expiry=2025-11-25,2025-13-40');
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain("expiry: '2025-13-40' is not a valid date");
    expect((await distribution('symbol=NOPE')).status).toBe(404);
  });

  it('subscribes an unsubscribed chain on demand and ends with data for every strike', async () => {
    const wait = (await api<{ key: string; value: number }[]>('flags:list', {})).find((f) => f.key === 'smart_subscription_wait_timeout')?.value as number;
    // The nearest expiry: the devticker's far contracts trade rarely (Kite ticks only on change), so "every strike"
    // is asked of the liquid weekly here; the two-expiry chain is covered with dense ticks in faults.test.ts.
    const listed = (await api<{ symbol: string; expiries: { expiry: string }[] }[]>('chain:underlyings', {})).find((u) => u.symbol === 'NIFTY')?.expiries ?? [];
    const query = `symbol=NIFTY&expiry=${listed[0].expiry}&strike_range=2&timeframe=1min`;
    const first = await distribution(query);
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(wait * 1000 + 2_000);
    const expiries = first.body.metadata.expiries;
    expect(expiries).toEqual([listed[0].expiry]);
    const defaults = await distribution('symbol=NIFTY&strike_range=2&auto_subscribe=false');
    expect(defaults.body.metadata.expiries).toEqual([listed[0].expiry, listed[1].expiry]);
    expect(first.body.metadata.auto_subscribed).toBe(true);
    expect(first.body.metadata.subscription.newly.length).toBeGreaterThan(0);
    expect(first.body.metadata.subscription.already).toEqual([]);
    expect(first.body.series.map((s) => s.expiry)).toEqual(expiries);
    expect(first.body.series.every((s) => s.call.length === 5 && s.put.length === 5)).toBe(true);

    // Later requests fill in: every leg of every strike live (bounded poll).
    const allLive = (d: StrikeDistribution) => d.series.every((s) => [...s.call, ...s.put].every((l) => l.state === 'live'));
    if (!allLive(first.body)) {
      await vi.waitFor(
        async () => {
          const { body } = await distribution(query);
          if (!allLive(body)) throw new Error(`not every leg live: ${JSON.stringify(body.series.map((s) => [...s.call, ...s.put].map((l) => l.state)))}`);
        },
        { timeout: 160_000, interval: 500 },
      );
    }
    const latest = (await distribution(query)).body; // once more: nothing left to subscribe
    expect(latest.metadata.subscription.state).toBe('complete');
    expect(latest.metadata.subscription.newly).toEqual([]);
    expect(latest.metadata.auto_subscribed).toBe(false);
    expect(latest.metadata.underlying_price).toBeGreaterThan(0);

    for (const s of latest.series) {
      expect(s.atm_strike).not.toBeNull();
      expect(s.call.find((l) => l.strike === s.atm_strike)?.moneyness).toBe('ATM');
      // PCR and max pain are expiry-wide (every listed strike with data, not the 5 shown): brute force over a window
      // wide enough to show every listed strike, asked at the same settled bucket.
      const wide = (await distribution(`symbol=NIFTY&expiry=${s.expiry}&strike_range=100&auto_subscribe=false&timeframe=1min&at=${s.bucket_end}`)).body
        .series[0];
      expect(wide.bucket_time).toBe(s.bucket_time);
      const sum = (xs: (number | null)[]) => xs.reduce<number | null>((a, x) => (x === null ? a : (a ?? 0) + x), null);
      const callOi = sum(wide.call.map((l) => l.oi));
      const putOi = sum(wide.put.map((l) => l.oi));
      const callVol = sum(wide.call.map((l) => l.day_volume));
      const putVol = sum(wide.put.map((l) => l.day_volume));
      expect(s.pcr_oi).toBeCloseTo((putOi as number) / (callOi as number), 12);
      if (callVol && putVol !== null) expect(s.pcr_volume).toBeCloseTo(putVol / callVol, 12);
      else expect(s.pcr_volume).toBeNull();
      expect(s.max_pain_strike).toBe(bruteMaxPain(wide));
      // The data coverage is the same; pending is subscription state, which an at= answer never reports (a leg the
      // chain's ATM moved onto during the polls above may still be pending now).
      const dataCoverage = ({ legs_pending: _pending, complete: _complete, ...data }: typeof s.coverage) => data;
      expect(dataCoverage(s.coverage)).toEqual(dataCoverage(wide.coverage));
      expect(wide.coverage.legs_pending).toBe(0);

      // The strike detail: both legs of the ATM strike over time, ending at the answered (complete) bucket.
      const atmCall = s.call.find((l) => l.strike === s.atm_strike) as ExpirySeries['call'][number];
      const atmPut = s.put.find((l) => l.strike === s.atm_strike) as ExpirySeries['put'][number];
      const history = await api<StrikeHistory>('chain:strikeHistory', {
        symbol: 'NIFTY',
        expiry: s.expiry,
        strike: s.atm_strike,
        timeframe: '1min',
        minutes: 30,
      });
      expect(history).toMatchObject({
        symbol: 'NIFTY',
        expiry: s.expiry,
        strike: s.atm_strike,
        timeframe: '1min',
        call_token: atmCall.token,
        put_token: atmPut.token,
      });
      const times = history.points.map((p) => Date.parse(p.bucket_time));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(times.length).toBeGreaterThan(0);
      expect(times.at(-1)).toBeGreaterThanOrEqual(Date.parse(s.bucket_time as string));
      const atAnswer = history.points.find((p) => p.bucket_time === s.bucket_time);
      if (atAnswer && atmCall.ticks) expect(atAnswer.call_oi).toBe(atmCall.oi);
    }

    const rows = await api<SubscriptionRow[]>('subscriptions:list', { state: 'active' });
    const tokens = latest.series.flatMap((s) => [...s.call, ...s.put].map((l) => l.token));
    for (const t of tokens) {
      const row = rows.find((r) => r.token === t);
      expect(row?.owners.some((o) => o.startsWith('auto:NIFTY '))).toBe(true);
      expect(row?.lastTickAt).not.toBeNull();
    }
    const capacity = await api<{ accounts: { account: string; used: number; limit: number }[] }>('subscriptions:capacity', {});
    expect(capacity.accounts[0]).toMatchObject({ account: 'primary', limit: 9000 });
    expect(capacity.accounts[0].used).toBeGreaterThanOrEqual(tokens.length);
  }, 200_000);

  it('serves the same through the contract, and the operator can subscribe and unsubscribe', async () => {
    const d = await api<StrikeDistribution>('chain:distribution', { symbol: 'nifty', strikeRange: 2, autoSubscribe: false });
    expect(d.metadata.subscription.state).toBe('not_requested');
    expect(d.series[0].call.length).toBe(5);
    const underlyings = await api<{ symbol: string; strikeStep: number; expiries: { kind: string }[] }[]>('chain:underlyings', {});
    expect(underlyings.find((u) => u.symbol === 'NIFTY')).toMatchObject({ strikeStep: 50 });
    expect(underlyings.find((u) => u.symbol === 'NIFTY')?.expiries.some((e) => e.kind === 'monthly')).toBe(true);

    const far = d.series[1].call[4].token as number;
    const farPut = d.series[1].put[4].token as number;
    const sub = await api<{ state: string; pending: number[]; newly: number[]; failed: unknown[] }>('subscriptions:subscribe', { tokens: [999_999_999, far] });
    expect(sub.failed).toEqual([{ token: 999_999_999, reason: 'unknown instrument token', retryAt: null }]);
    const un = await api<{ removed: number[]; failed: unknown[] }>('subscriptions:unsubscribe', { tokens: [farPut] });
    expect(un).toEqual({ removed: [farPut], failed: [] });
    const after = await api<SubscriptionRow[]>('subscriptions:list', { state: 'all', search: String(farPut) });
    expect(after.find((r) => r.token === farPut)?.state ?? 'inactive').toBe('inactive');
  }, 60_000);
});
