// Light or dark: follows the system setting unless the user picked one (kept in localStorage). The choice lands on
// <html data-theme>, which styles.css reads; charts re-read their colours from CSS variables when it changes.
import { createContext, useContext, useEffect, useState } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';
const KEY = 'strikedesk.theme';

export const nextChoice = (choice: ThemeChoice): ThemeChoice => (choice === 'system' ? 'light' : choice === 'light' ? 'dark' : 'system');

/** What a choice shows under a given system preference. */
export const resolveTheme = (choice: ThemeChoice, systemDark: boolean): Theme => (choice === 'system' ? (systemDark ? 'dark' : 'light') : choice);

function readChoice(): ThemeChoice {
  try {
    const stored = window.localStorage.getItem(KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

export function useThemeState(): { choice: ThemeChoice; theme: Theme; cycle: () => void } {
  const [choice, setChoice] = useState<ThemeChoice>(readChoice);
  const [systemDark, setSystemDark] = useState(() => window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? true);
  useEffect(() => {
    const query = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!query) return;
    const onChange = () => setSystemDark(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  const theme = resolveTheme(choice, systemDark);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
  const cycle = () => {
    const next = nextChoice(choice);
    setChoice(next);
    try {
      if (next === 'system') window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, next);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  };
  return { choice, theme, cycle };
}

export const ThemeContext = createContext<Theme>('dark');
export const useTheme = (): Theme => useContext(ThemeContext);
