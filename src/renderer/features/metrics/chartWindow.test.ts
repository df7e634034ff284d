import { describe, expect, it } from 'vitest';
import { fitWindow } from './chartWindow';

const H = 3600;
describe('metrics chart window', () => {
  it('fits a few minutes of data instead of squeezing it into six hours', () => {
    const to = 100 * H;
    const from = to - 6 * H;
    const [a, b] = fitWindow([to - 300, to - 120], from, to);
    expect(b - a).toBeGreaterThanOrEqual(30 * 60);
    expect(b - a).toBeLessThan(H);
    expect(a).toBeLessThanOrEqual(to - 300);
    expect(b).toBeGreaterThanOrEqual(to - 120);
  });
  it('never starts before the window and keeps the whole window when data spans it', () => {
    const to = 100 * H;
    const from = to - 6 * H;
    expect(fitWindow([from + 10, to - 10], from, to)[0]).toBe(from);
    expect(fitWindow([], from, to)).toEqual([from, to]);
  });
});

describe('short windows', () => {
  it('a 15-minute window with 15-second buckets stays inside the window, padded by one bucket', () => {
    const to = 100 * H;
    const from = to - 15 * 60;
    const [a, b] = fitWindow([from + 60, to - 60], from, to, 15);
    expect(a).toBe(from);
    expect(b).toBeLessThanOrEqual(to);
    expect(b).toBeGreaterThanOrEqual(to - 45);
  });
});
