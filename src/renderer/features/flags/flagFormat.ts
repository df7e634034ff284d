import type { FlagValue } from '../../../shared/flags';

export const fmtFlagValue = (value: FlagValue | null, unit?: string): string =>
  value === null ? '–' : typeof value === 'boolean' ? (value ? 'on' : 'off') : `${value}${unit === 'seconds' ? ' s' : ''}`;
