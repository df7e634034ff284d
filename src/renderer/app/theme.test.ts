import { describe, expect, it } from 'vitest';
import { nextChoice, resolveTheme } from './theme';

describe('theme choice', () => {
  it('follows the system until the user picks, then keeps the pick', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
  it('cycles system -> light -> dark -> system', () => {
    expect(nextChoice('system')).toBe('light');
    expect(nextChoice('light')).toBe('dark');
    expect(nextChoice('dark')).toBe('system');
  });
});
