import { describe, expect, it } from 'vitest';
import { fmtAge, fmtDuration, fmtInt, fmtIv, fmtLakh, fmtPrice, fmtSignedLakh, ivPercent } from './numbers';

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
});
