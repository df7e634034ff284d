import { describe, expect, it } from 'vitest';
import { blockUnchanged, chunk, type BlockGate } from './offscreen';

interface Item {
  strike: number;
  atm: boolean;
  oi: number;
}
const same = (a: Item, b: Item) => a.strike === b.strike && a.atm === b.atm && a.oi === b.oi;
const sameMarks = (a: Item, b: Item) => a.strike === b.strike && a.atm === b.atm;
const gate = (visible: boolean): BlockGate<Item> => ({ visible, latest: [] });

describe('offscreen blocks', () => {
  const before: Item[] = [
    { strike: 100, atm: false, oi: 5 },
    { strike: 150, atm: true, oi: 7 },
  ];
  const valuesMoved = before.map((i) => ({ ...i, oi: i.oi + 1 }));
  const atmMoved = before.map((i) => ({ ...i, atm: i.strike === 100 }));

  it('a block in view redraws when a value changes, and not when nothing did', () => {
    const g = gate(true);
    expect(blockUnchanged({ gate: g, items: before }, { gate: g, items: valuesMoved }, same, sameMarks)).toBe(false);
    expect(blockUnchanged({ gate: g, items: before }, { gate: g, items: before.map((i) => ({ ...i })) }, same, sameMarks)).toBe(true);
  });

  it('a block out of view skips value-only changes but not a moved ATM mark', () => {
    const g = gate(false);
    expect(blockUnchanged({ gate: g, items: before }, { gate: g, items: valuesMoved }, same, sameMarks)).toBe(true);
    expect(blockUnchanged({ gate: g, items: before }, { gate: g, items: atmMoved }, same, sameMarks)).toBe(false);
    expect(blockUnchanged({ gate: g, items: before }, { gate: g, items: before.slice(1) }, same, sameMarks)).toBe(false);
  });

  it('chunks keep every item in order', () => {
    const items = Array.from({ length: 101 }, (_v, i) => i);
    const blocks = chunk(items, 6);
    expect(blocks.flat()).toEqual(items);
    expect(blocks.every((b) => b.length >= 1 && b.length <= 6)).toBe(true);
    expect(blocks).toHaveLength(Math.ceil(101 / 6));
  });
});
