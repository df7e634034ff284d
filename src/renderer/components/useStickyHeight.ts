import { useEffect, type RefObject } from 'react';

/** Publishes an element's height as a CSS variable, so headers below it stick right under it. */
export function useStickyHeight(ref: RefObject<HTMLElement | null>, variable: string): void {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const set = () => document.documentElement.style.setProperty(variable, `${Math.ceil(el.getBoundingClientRect().height)}px`);
    set();
    const observer = new ResizeObserver(set);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, variable]);
}
