import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { labelEvery, spreadTags } from './chartLabels';

describe('threshold tags in the gutter', () => {
  it('keeps a lone tag at its line', () => {
    expect(spreadTags([40], 14, 6, 200)).toEqual([40]);
  });

  it('pushes two close tags apart, and back inside the gutter at the bottom', () => {
    expect(spreadTags([50, 52], 14, 6, 200)).toEqual([50, 64]);
    expect(spreadTags([199, 195], 14, 6, 200)).toEqual([200, 186]);
  });

  it('whenever the tags fit, every pair is at least `min` apart and inside [lo, hi], in the lines’ order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -50, max: 450, noNaN: true }), { minLength: 1, maxLength: 6 }), (ys) => {
        const [min, lo, hi] = [14, 6, 394];
        const out = spreadTags(ys, min, lo, hi);
        const sorted = [...out].sort((a, b) => a - b);
        for (let k = 1; k < sorted.length; k++) expect(sorted[k] - sorted[k - 1]).toBeGreaterThanOrEqual(min - 1e-9);
        for (const y of out) {
          expect(y).toBeGreaterThanOrEqual(lo - 1e-9);
          expect(y).toBeLessThanOrEqual(hi + 1e-9);
        }
        // A higher line never gets a lower tag (lines off the gutter's ends count as at its end).
        const at = (y: number) => Math.min(hi, Math.max(lo, y));
        for (let i = 0; i < ys.length; i++) for (let j = 0; j < ys.length; j++) if (at(ys[i]) < at(ys[j])) expect(out[i]).toBeLessThanOrEqual(out[j]);
      }),
    );
  });
});

describe('histogram bucket labels', () => {
  it('shows every label when there is room, fewer when narrow', () => {
    expect(labelEvery(10, 800)).toBe(1);
    expect(labelEvery(12, 380)).toBe(2);
    expect(labelEvery(0, 380)).toBe(1);
  });

  it('shown labels are always at least 44 px apart', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 50, max: 2000 }), (count, width) => {
        expect((width / count) * labelEvery(count, width)).toBeGreaterThanOrEqual(44);
      }),
    );
  });
});
