// Hash routes: they survive a reload, need no server support and keep Electron's file:// origin trusted.
import { useEffect, useState } from 'react';

export const SCREENS = [
  { id: 'chain', label: 'Chain', audience: 'traders' },
  { id: 'subscriptions', label: 'Subscriptions', audience: 'operators' },
  { id: 'backfill', label: 'Backfill', audience: 'operators' },
  { id: 'metrics', label: 'Metrics', audience: 'operators' },
  { id: 'flags', label: 'Flags', audience: 'operators' },
  { id: 'settings', label: 'Settings', audience: 'operators' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

const parse = (hash: string): ScreenId => {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (SCREENS.find((s) => s.id === id)?.id ?? 'chain') as ScreenId;
};

export function useScreen(): ScreenId {
  const [screen, setScreen] = useState<ScreenId>(() => parse(window.location.hash));
  useEffect(() => {
    // A new screen opens at the top of the page, before it renders (so the chain can then centre its ATM row).
    const onChange = () => {
      window.scrollTo(0, 0);
      setScreen(parse(window.location.hash));
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return screen;
}

export const goTo = (screen: ScreenId): void => {
  window.location.hash = `#/${screen}`;
};
