import { describe, expect, it } from 'vitest';
import { HolidayCalendar, weekdayOf } from '../shared/calendar';
import { loadHolidayCalendar } from './holidays';
import { KITE_CSV_HEADER, Registry, UNDERLYINGS } from './registry';

const cal = loadHolidayCalendar();
const reg = (date = '2025-11-04', extra: Partial<ConstructorParameters<typeof Registry>[0]> = {}) =>
  new Registry({ seed: 42, date, calendar: cal, ...extra }, 0);

describe('devticker registry', () => {
  it('lists the four indices with their real tokens', () => {
    const r = reg();
    expect(r.byToken(256265)).toMatchObject({ tradingsymbol: 'NIFTY 50', name: 'NIFTY', segment: 'INDICES', exchange: 'NSE', instrumentType: 'EQ' });
    expect(r.byToken(260105)).toMatchObject({ tradingsymbol: 'NIFTY BANK', name: 'BANKNIFTY' });
    expect(r.byToken(257801)).toMatchObject({ tradingsymbol: 'NIFTY FIN SERVICE', name: 'FINNIFTY' });
    expect(r.byToken(288009)).toMatchObject({ tradingsymbol: 'NIFTY MID SELECT', name: 'MIDCPNIFTY' });
  });

  it('is deterministic in (seed, date), with unique Kite-layout tokens', () => {
    const a = reg();
    const b = reg();
    expect(a.live.map((i) => [i.token, i.tradingsymbol])).toEqual(b.live.map((i) => [i.token, i.tradingsymbol]));
    const other = new Registry({ seed: 7, date: '2025-11-04', calendar: cal }, 0);
    expect(other.byTradingsymbol('NIFTY25NOV26000CE')?.token).not.toBe(a.byTradingsymbol('NIFTY25NOV26000CE')?.token);
    const all = [...a.live, ...a.expired];
    expect(new Set(all.map((i) => i.token)).size).toBe(all.length);
    for (const i of all) {
      expect(i.token).toBeGreaterThan(1);
      if (i.kind !== 'index') expect(i.token).toBe(i.exchangeToken * 256 + 2);
    }
    // a contract keeps its token from one day to the next
    expect(reg('2025-11-06').byTradingsymbol('NIFTY25NOV26000CE')?.token).toBe(a.byTradingsymbol('NIFTY25NOV26000CE')?.token);
  });

  it('lists NIFTY weeklies plus three monthlies, the others monthly only, all on Tuesdays', () => {
    const r = reg();
    expect(r.expiries('NIFTY')).toEqual(['2025-11-04', '2025-11-11', '2025-11-18', '2025-11-25', '2025-12-30', '2026-01-27']);
    for (const name of ['BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY']) expect(r.expiries(name)).toEqual(['2025-11-25', '2025-12-30', '2026-01-27']);
    for (const i of r.live) if (i.expiry) expect(weekdayOf(i.expiry)).toBe(2);
    const futures = r.live.filter((i) => i.kind === 'future').map((i) => i.tradingsymbol);
    expect(futures).toHaveLength(12);
    expect(futures).toContain('NIFTY25NOVFUT');
    expect(futures).toContain('MIDCPNIFTY26JANFUT');
    const fut = r.byTradingsymbol('BANKNIFTY25DECFUT');
    expect(fut).toMatchObject({ strike: 0, instrumentType: 'FUT', segment: 'NFO-FUT', exchange: 'NFO', lotSize: 35, expiry: '2025-12-30' });
  });

  it('uses Kite tradingsymbols: weekly YY+code+DD, monthly YY+MON', () => {
    const r = reg();
    expect(r.byTradingsymbol('NIFTY25N1126000CE')).toMatchObject({ expiry: '2025-11-11', strike: 26000, instrumentType: 'CE', weekly: true });
    expect(r.byTradingsymbol('NIFTY25N0425100PE')).toMatchObject({ expiry: '2025-11-04', strike: 25100, instrumentType: 'PE' });
    expect(r.byTradingsymbol('NIFTY25NOV24500CE')).toMatchObject({ expiry: '2025-11-25', weekly: false, segment: 'NFO-OPT' });
    expect(r.byTradingsymbol('NIFTY25N2526000CE')).toBeUndefined(); // the monthly week uses the monthly format
    expect(r.byTradingsymbol('BANKNIFTY26JAN59000PE')).toBeDefined();
  });

  it('has strike steps, lot sizes and tick sizes per underlying', () => {
    const r = reg();
    const expected: Record<string, [number, number]> = { NIFTY: [50, 75], BANKNIFTY: [100, 35], FINNIFTY: [50, 65], MIDCPNIFTY: [25, 140] };
    for (const u of UNDERLYINGS) {
      const chain = r.chain(u.name, '2025-12-30').filter((i) => i.instrumentType === 'CE');
      expect(chain).toHaveLength(121);
      const gaps = new Set(chain.slice(1).map((c, k) => c.strike - chain[k].strike));
      expect([...gaps]).toEqual([expected[u.name][0]]);
      for (const c of chain) {
        expect(c.lotSize).toBe(expected[u.name][1]);
        expect(c.tickSize).toBe(0.05);
      }
      // centred on a realistic spot
      expect(Math.abs(chain[60].strike - u.baseSpot)).toBeLessThanOrEqual(u.step);
    }
  });

  it('moves an expiry on a holiday to the previous trading day', () => {
    const r = new Registry({ seed: 42, date: '2025-11-04', calendar: new HolidayCalendar(['2025-11-25', '2025-11-11']) }, 0);
    expect(r.expiries('NIFTY')).toEqual(['2025-11-04', '2025-11-10', '2025-11-18', '2025-11-24', '2025-12-30', '2026-01-27']);
    expect(r.byTradingsymbol('NIFTY25NOVFUT')?.expiry).toBe('2025-11-24');
    expect(r.byTradingsymbol('NIFTY25NOV26000CE')?.expiry).toBe('2025-11-24');
    expect(r.byTradingsymbol('NIFTY25N1026000CE')?.expiry).toBe('2025-11-10');
  });

  it('honours a configured expiry weekday', () => {
    const r = reg('2025-11-04', { expiryWeekday: 4 });
    expect(r.expiries('BANKNIFTY')).toEqual(['2025-11-27', '2025-12-24', '2026-01-29']); // 2025-12-25 is Christmas
    expect(r.expiries('NIFTY').slice(0, 2)).toEqual(['2025-11-06', '2025-11-13']);
  });

  it('drops expired contracts from the live list but still knows their tokens', () => {
    const today = reg('2025-11-04');
    const tomorrow = reg('2025-11-05');
    const weekly = today.byTradingsymbol('NIFTY25N0426000CE');
    expect(weekly && !weekly.expired).toBe(true);
    const after = tomorrow.byToken(weekly!.token);
    expect(after?.expired).toBe(true);
    expect(tomorrow.liveByToken(weekly!.token)).toBeUndefined();
    expect(tomorrow.live.some((i) => i.token === weekly!.token)).toBe(false);
    expect(tomorrow.byTradingsymbol('NIFTY25OCT26000CE')?.expired).toBe(true);
  });

  it('serves a Kite instruments CSV with the exact header', () => {
    const r = reg();
    const lines = r.toCsv().trimEnd().split('\n');
    expect(lines[0]).toBe(KITE_CSV_HEADER);
    expect(lines).toHaveLength(r.live.length + 1);
    expect(lines[1]).toBe('256265,1001,NIFTY 50,"NIFTY",0,,0,0.05,1,EQ,INDICES,NSE');
    const opt = r.byTradingsymbol('NIFTY25NOV24500CE')!;
    expect(lines).toContain(`${opt.token},${opt.exchangeToken},NIFTY25NOV24500CE,"NIFTY",0,2025-11-25,24500,0.05,75,CE,NFO-OPT,NFO`);
  });

  it('can grow past 9000 instruments for capacity tests', () => {
    expect(reg('2025-11-04', { strikesPerSide: 200 }).live.length).toBeGreaterThan(9001);
  });
});
