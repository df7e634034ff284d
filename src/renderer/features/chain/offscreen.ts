// Rows far out of view skip the chain's per-second updates. A 3 x 101-strike chain redraws every leg each second,
// but at 1280x800 a third of its rows are on screen: the rest cost script, style and layout for nothing. Each block of
// rows keeps a gate: while the block is out of view (with a margin), a value-only update is skipped; when it scrolls
// into view it redraws at once from the latest rows the parent handed it. Structural marks (ATM, the centred strike,
// max pain, walls, where spot sits) always update, so selectors like `.atm` and the centring keep working.
import { useEffect, useReducer, useRef, type RefObject } from 'react';

export interface BlockGate<T> {
  /** In view (or never measured yet: the first paint draws every row). */
  visible: boolean;
  /** The newest items the parent rendered for this block; the block draws from these. */
  latest: T[];
}

/** Rows per block: small enough that a block in view costs little, large enough to keep observers few. */
export const BLOCK_ROWS = 6;

export function chunk<T>(items: T[], size = BLOCK_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One gate per block key, kept across renders. */
export function useGates<T>(): (key: string | number, items: T[]) => BlockGate<T> {
  const gates = useRef(new Map<string | number, BlockGate<T>>());
  return (key, items) => {
    let gate = gates.current.get(key);
    if (!gate) {
      gate = { visible: true, latest: items };
      gates.current.set(key, gate);
    }
    gate.latest = items;
    return gate;
  };
}

/** Watches a block's element; when it comes into view after being out, redraws it (from gate.latest). */
export function useGateObserver<T>(ref: RefObject<Element | null>, gate: BlockGate<T>): void {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        const inView = entries[entries.length - 1].isIntersecting;
        const was = gate.visible;
        gate.visible = inView;
        if (inView && !was) redraw();
      },
      { rootMargin: '44px 0px' },
    );
    observer.observe(el);
    return () => {
      observer.disconnect();
      gate.visible = true;
    };
  }, [ref, gate]);
}

/**
 * The memo comparison of a block: skip when nothing changed, and skip a value-only change while out of view.
 * `same` compares two items fully; `sameMarks` only their structural marks.
 */
export function blockUnchanged<T>(
  a: { gate: BlockGate<T>; items: T[] },
  b: { gate: BlockGate<T>; items: T[] },
  same: (x: T, y: T) => boolean,
  sameMarks: (x: T, y: T) => boolean,
): boolean {
  if (a.gate !== b.gate || a.items.length !== b.items.length) return false;
  const cmp = b.gate.visible ? same : sameMarks;
  for (let i = 0; i < a.items.length; i++) if (!cmp(a.items[i], b.items[i])) return false;
  return true;
}
