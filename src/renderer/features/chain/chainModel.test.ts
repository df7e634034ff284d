import { describe, expect, it } from 'vitest';
import type { ExpirySeries, StrikeDistribution, StrikeLeg } from '../../../shared/api';
import {
  aggregatesPartial,
  atmIv,
  chainLiveness,
  coverageText,
  fillProgress,
  fillText,
  legAgeMs,
  oiWalls,
  rowsOf,
  sameLeg,
  smileData,
  spotRowIndex,
  totals,
} from './chainModel';

const leg = (strike: number, over: Partial<StrikeLeg> = {}): StrikeLeg => ({
  strike,
  token: strike,
  oi: 100,
  oi_change: 0,
  volume: 10,
  day_volume: 100,
  ltp: 1,
  ltp_change: null,
  ltp_change_pct: null,
  last_trade_at: null,
  iv: 0.15,
  delta: 0.5,
  gamma: 0,
  theta: 0,
  vega: 0,
  ticks: 5,
  moneyness: 'ATM',
  illiquid: false,
  stale: false,
  state: 'live',
  ...over,
});

const series = (over: Partial<ExpirySeries> = {}): ExpirySeries => ({
  expiry: '2025-11-25',
  days_to_expiry: 3,
  bucket_time: null,
  bucket_end: null,
  partial: false,
  is_stale: false,
  atm_strike: 24500,
  strike_step: 50,
  pcr_oi: null,
  pcr_volume: null,
  max_pain_strike: null,
  oi_change_basis: 'one_hour_earlier',
  coverage: { strikes_listed: 3, strikes_with_data: 3, legs_listed: 6, legs_with_data: 6, legs_pending: 0, complete: true },
  call: [leg(24550), leg(24450), leg(24500)],
  put: [leg(24500), leg(24450), leg(24600)],
  ...over,
});

const distribution = (s: ExpirySeries[]): StrikeDistribution => ({
  status: 'ok',
  symbol: 'NIFTY',
  timeframe: '1min',
  series: s,
  metadata: {
    expiries: s.map((x) => x.expiry),
    underlying_price: 24510,
    underlying_time: null,
    auto_subscribed: true,
    subscription: { state: 'pending', already: [], newly: [], failed: [], pending: [], retry_after_ms: null },
  },
});

describe('chain model', () => {
  it('pairs call and put legs by strike, ascending, keeping one-sided strikes', () => {
    const rows = rowsOf(series());
    expect(rows.map((r) => r.strike)).toEqual([24450, 24500, 24550, 24600]);
    expect(rows[2].put).toBeNull();
    expect(rows[3].call).toBeNull();
    expect(rows[1].call?.strike).toBe(24500);
  });

  it('counts a strike live only when every leg has a bar', () => {
    const s = series({
      call: [leg(24450), leg(24500, { state: 'pending', oi: null })],
      put: [leg(24450), leg(24500)],
    });
    const p = fillProgress(
      distribution([s, series({ expiry: '2025-12-02', call: [leg(24500, { state: 'failed' })], put: [leg(24500, { state: 'missing' })] })]),
    );
    expect(p).toMatchObject({ strikes: 3, liveStrikes: 1, legs: 6, live: 3, pending: 1, failed: 1, missing: 1, filling: true });
  });

  it('ATM IV is the mean of the ATM call and put IVs that exist, in percent', () => {
    const s = series({ call: [leg(24500, { iv: 0.12 })], put: [leg(24500, { iv: 0.14 })] });
    expect(atmIv(s)).toBeCloseTo(13, 10);
    expect(atmIv(series({ call: [leg(24500, { iv: null })], put: [leg(24500, { iv: 0.2 })] }))).toBeCloseTo(20, 10);
    expect(atmIv(series({ atm_strike: null }))).toBeNull();
  });

  it('totals skip missing values', () => {
    const s = series({ call: [leg(1, { oi: 5 }), leg(2, { oi: null })], put: [leg(1, { oi: 7, volume: null })] });
    expect(totals(s)).toEqual({ callOi: 5, putOi: 7, callVolume: 20, putVolume: 0 });
  });

  it('aligns the smile of several expiries on one strike axis', () => {
    const a = series({ call: [leg(100, { iv: 0.1 }), leg(200, { iv: 0.2 })], put: [leg(200, { iv: 0.3 })] });
    const b = series({ expiry: '2025-12-02', call: [leg(300, { iv: 0.4 })], put: [leg(100, { iv: null })] });
    const smile = smileData([a, b]);
    expect(smile.strikes).toEqual([100, 200, 300]);
    expect(smile.lines.map((l) => `${l.expiry}${l.side}`)).toEqual(['2025-11-25CE', '2025-11-25PE', '2025-12-02CE', '2025-12-02PE']);
    expect(smile.lines[0].iv).toEqual([10, 20, null]);
    expect(smile.lines[1].iv).toEqual([null, 30, null]);
    expect(smile.lines[2].iv[2]).toBeCloseTo(40, 10);
    expect(smile.lines[3].iv).toEqual([null, null, null]);
  });

  it('puts the spot line between the strikes around it', () => {
    const rows = rowsOf(series());
    expect(spotRowIndex(rows, 24510)).toBe(2);
    expect(spotRowIndex(rows, 24450)).toBe(1);
    expect(spotRowIndex(rows, 24000)).toBeNull();
    expect(spotRowIndex(rows, null)).toBeNull();
  });

  it('compares legs by value', () => {
    expect(sameLeg(leg(1), leg(1))).toBe(true);
    expect(sameLeg(leg(1), leg(1, { oi: 101 }))).toBe(false);
    expect(sameLeg(leg(1), null)).toBe(false);
  });

  it('keeps illiquid and stale legs out of the smile and ATM IV', () => {
    const s = series({
      call: [leg(100, { iv: 0.1 }), leg(200, { iv: 0.2, illiquid: true }), leg(300, { iv: 0.3, stale: true })],
      put: [leg(100, { iv: 0.4, state: 'pending' })],
      atm_strike: 200,
    });
    const smile = smileData([s]);
    expect(smile.lines[0].iv).toEqual([10, null, null]);
    expect(smile.lines[1].iv).toEqual([null, null, null]);
    expect(atmIv(s)).toBeNull();
  });

  it('marks expiry-wide figures partial until coverage is complete and the bucket settled', () => {
    const complete = { strikes_listed: 21, strikes_with_data: 21, legs_listed: 42, legs_with_data: 42, legs_pending: 0, complete: true };
    expect(aggregatesPartial(series({ coverage: complete }))).toBe(false);
    expect(aggregatesPartial(series({ coverage: complete, partial: true }))).toBe(true);
    const half = { strikes_listed: 21, strikes_with_data: 5, legs_listed: 42, legs_with_data: 9, legs_pending: 33, complete: false };
    expect(aggregatesPartial(series({ coverage: half }))).toBe(true);
    expect(coverageText(series({ coverage: half }))).toBe('9 of 42 legs, 5 of 21 strikes with data, 33 pending');
    // An answer without coverage (an older console) is never shown as final.
    expect(aggregatesPartial(series({ coverage: undefined as never }))).toBe(true);
  });

  it('finds the two biggest OI walls each side', () => {
    const s = series({ call: [leg(1, { oi: 5 }), leg(2, { oi: 9 }), leg(3, { oi: 7 }), leg(4, { oi: null })], put: [leg(1, { oi: 1 })] });
    const walls = oiWalls(s);
    expect([...walls.call].sort()).toEqual([2, 3]);
    expect([...walls.put]).toEqual([1]);
  });

  it('says a chain is not live, and since when, whatever the cause', () => {
    const at = Date.parse('2026-11-27T09:00:00Z');
    const base = { answeredAt: at, refreshFailed: false, series: [series()] };
    expect(chainLiveness({ ...base, connection: 'open' }).state).toBe('live');
    expect(chainLiveness({ ...base, connection: 'unreachable' })).toMatchObject({ state: 'unreachable', frozenSince: at });
    expect(chainLiveness({ ...base, connection: 'unauthorized' }).reason).toMatch(/401/);
    expect(chainLiveness({ ...base, connection: 'lost' }).state).toBe('reconnecting');
    expect(chainLiveness({ ...base, connection: 'open', refreshFailed: true }).state).toBe('failing');
    const stale = chainLiveness({ ...base, connection: 'open', series: [series({ is_stale: true, bucket_end: '2026-11-27T08:50:00Z' })] });
    expect(stale).toMatchObject({ state: 'stale', frozenSince: Date.parse('2026-11-27T08:50:00Z') });
    // One stale expiry among live ones dims only its own panel.
    const mixed = chainLiveness({
      ...base,
      connection: 'open',
      series: [series({ is_stale: true }), series({ expiry: '2025-12-02', bucket_time: '2026-11-27T08:59:00Z' })],
    });
    expect(mixed.state).toBe('live');
  });

  it('judges a chain stale by its newest bar when no answer comes to say so (a silent feed sends no push)', () => {
    const s = series({ bucket_time: '2026-11-27T08:58:00Z', bucket_end: '2026-11-27T08:59:00Z' });
    const input = { connection: 'open' as const, answeredAt: 1, refreshFailed: false, series: [s], timeframe: '1min' as const };
    expect(chainLiveness({ ...input, now: Date.parse('2026-11-27T09:01:00Z') }).state).toBe('live');
    const late = chainLiveness({ ...input, now: Date.parse('2026-11-27T09:01:31Z') });
    expect(late).toMatchObject({ state: 'stale', frozenSince: Date.parse('2026-11-27T08:59:00Z') });
    // 5-minute bars allow ten minutes.
    expect(chainLiveness({ ...input, timeframe: '5min', now: Date.parse('2026-11-27T09:05:00Z') }).state).toBe('live');
  });

  it('never says live in the fill strip while the chain is frozen', () => {
    const p = { strikes: 21, liveStrikes: 21, legs: 42, live: 42, pending: 0, failed: 0, missing: 0, filling: false };
    expect(fillText(p, false, { state: 'live', frozenSince: null, reason: '' })).toBe('21 strikes live');
    expect(fillText(p, false, { state: 'unreachable', frozenSince: 1, reason: 'x' })).toBe('Not live: 21 of 21 strikes had data');
  });

  it('ages a leg from its last trade', () => {
    expect(legAgeMs(leg(1, { last_trade_at: '2026-11-27T09:00:00Z' }), Date.parse('2026-11-27T09:00:42Z'))).toBe(42_000);
    expect(legAgeMs(leg(1), 0)).toBeNull();
  });
});
