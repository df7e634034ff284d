// Lint with the layering rules of design/conventions.md: src/shared is pure (no electron, node or DOM-only
// packages), the renderer never imports main or node, and main/devticker log through pino, not console.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'events', 'stream', 'url', 'util', 'worker_threads'];

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', '.playwright-cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', 'react', 'react-dom', ...nodeBuiltins], message: 'src/shared is pure TypeScript: no electron, node or DOM imports.' },
          { group: ['**/main/**', '**/renderer/**', '**/preload/**', '**/devticker/**'], message: 'src/shared must not import a process folder.' },
        ],
      }],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', ...nodeBuiltins], message: 'The renderer has no Node access.' },
          { group: ['**/main/**', '**/preload/**', '**/devticker/**'], message: 'The renderer talks to main only through the contract (src/shared/api.ts).' },
        ],
      }],
    },
  },
  {
    files: ['src/main/**/*.ts', 'src/devticker/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/main/**', '**/renderer/**', ...nodeBuiltins], message: 'The preload builds the bridge from the contract only.' }] }],
    },
  },
);
