import { describe, expect, it } from 'vitest';
import {
  fmtAge,
  fmtChange,
  fmtDuration,
  fmtGreekOf,
  fmtInt,
  fmtIv,
  fmtL,
  fmtLakh,
  fmtPrice,
  fmtShortAge,
  fmtSignedL,
  fmtSignedLakh,
  ivPercent,
} from './numbers';

describe('Indian number formats', () => {
  it('groups digits the en-IN way', () => {
    expect(fmtInt(1234567)).toBe('12,34,567');
    expect(fmtInt(999)).toBe('999');
    expect(fmtPrice(24512.3)).toBe('24,512.30');
    expect(fmtInt(null)).toBe('–');
  });

  it('shows OI in lakh and crore', () => {
    expect(fmtLakh(12_345_678)).toBe('1.23 Cr');
    expect(fmtLakh(234_567)).toBe('2.35 L');
    expect(fmtLakh(99_999)).toBe('99,999');
    expect(fmtLakh(1_00_00_000)).toBe('1 Cr');
    expect(fmtSignedLakh(-250_000)).toBe('−2.5 L');
    expect(fmtSignedLakh(4200)).toBe('+4,200');
    expect(fmtSignedLakh(0)).toBe('0');
  });

  it('reads IV as a decimal (the ticker) and passes percent through', () => {
    expect(ivPercent(0.1432)).toBeCloseTo(14.32, 10);
    expect(ivPercent(14.32)).toBe(14.32);
    expect(fmtIv(0.2)).toBe('20.00');
    expect(fmtIv(null)).toBe('–');
  });

  it('formats durations and tick ages', () => {
    expect(fmtDuration(75)).toBe('1 m 15 s');
    expect(fmtDuration(4000)).toBe('1 h 6 m');
    expect(fmtDuration(90_000)).toBe('1 d 1 h');
    expect(fmtAge(800)).toBe('0.8 s');
    expect(fmtAge(42_000)).toBe('42 s');
  });

  it('shows OI, its change and volume in one unit (lakh) throughout the chain', () => {
    expect(fmtL(665_000)).toBe('6.65 L');
    expect(fmtL(41_100)).toBe('0.41 L');
    expect(fmtL(12_345_678)).toBe('123.46 L');
    expect(fmtSignedL(41_100)).toBe('+0.41 L');
    expect(fmtSignedL(-665_000)).toBe('−6.65 L');
    expect(fmtSignedL(0)).toBe('0');
    expect(fmtL(null)).toBe('–');
  });

  it('gives each greek fixed decimals and a true minus sign', () => {
    expect(fmtGreekOf('delta', 0.5234)).toBe('0.52');
    expect(fmtGreekOf('gamma', 0.00123)).toBe('0.0012');
    expect(fmtGreekOf('theta', -12.4)).toBe('−12.40');
    expect(fmtGreekOf('vega', 8.149)).toBe('8.15');
    expect(fmtGreekOf('vega', null)).toBe('–');
  });

  it('formats LTP change with its percentage and short ages', () => {
    expect(fmtChange(1.25, 0.8412)).toBe('+1.25 (+0.84%)');
    expect(fmtChange(-3, -2)).toBe('−3.00 (−2.00%)');
    expect(fmtChange(null, 1)).toBe('–');
    expect(fmtShortAge(4_900)).toBe('4s');
    expect(fmtShortAge(12 * 60_000)).toBe('12m');
    expect(fmtShortAge(3 * 3_600_000 + 5)).toBe('3h');
  });
});
