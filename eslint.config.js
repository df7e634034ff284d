// Lint with the layering rules of docs/architecture.md (section 4): src/shared is pure (no electron, node or DOM-only
// packages), the renderer never imports main or node, the devticker imports only src/shared, the console core's
// folders import only their own layer and those below, and main/devticker log through pino, not console.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'events', 'stream', 'url', 'util', 'worker_threads'];

// The console core's layers, bottom up (docs/architecture.md, section 4). A module may import its own layer and the
// layers below it. Folders are the directories of src/main; files are modules directly in src/main.
const LAYERS = [
  { name: 'foundation', folders: ['calendar', 'config'], files: ['log', 'lifecycle'] },
  { name: 'state and market', folders: ['state', 'market'], files: [] },
  {
    name: 'domain services',
    folders: ['flags', 'metrics', 'feed', 'ticker', 'registry', 'ingest', 'subscriptions', 'chain', 'backfill', 'events', 'quotes'],
    files: [],
  },
  { name: 'api', folders: ['api'], files: [] },
  { name: 'http and ipc', folders: ['http'], files: ['ipc'] },
  { name: 'app', folders: ['app'], files: ['index', 'headless'] },
];
const namesOf = (layers) => layers.flatMap((l) => [...l.folders, ...l.files]);
// Tests and their support modules may cross layers (an app test starts the whole console).
const TEST_FILES = ['**/*.test.ts', '**/testing/**'];

function layerRules() {
  return LAYERS.slice(0, -1).map((layer, i) => {
    // What sits above this layer, and the devticker: only the app embeds the simulator.
    const above = [...namesOf(LAYERS.slice(i + 1)), 'devticker'].join('|');
    const message = `layer "${layer.name}" may import only its own layer and those below it (docs/architecture.md, section 4)`;
    return {
      files: [...layer.folders.map((f) => `src/main/${f}/**/*.ts`), ...layer.files.map((f) => `src/main/${f}.ts`)],
      ignores: TEST_FILES,
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              // from a folder of src/main: ../<name>, ../../devticker; from a module directly in src/main: ./<name>
              { regex: `^(\\.\\./)+(${above})(/|$)`, message },
              ...(layer.files.length ? [{ regex: `^\\./(${above})(/|$)`, message }] : []),
            ],
          },
        ],
      },
    };
  });
}

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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'react', 'react-dom', ...nodeBuiltins], message: 'src/shared is pure TypeScript: no electron, node or DOM imports.' },
            { group: ['**/main/**', '**/renderer/**', '**/preload/**', '**/devticker/**'], message: 'src/shared must not import a process folder.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', ...nodeBuiltins], message: 'The renderer has no Node access.' },
            { group: ['**/main/**', '**/preload/**', '**/devticker/**'], message: 'The renderer talks to main only through the contract (src/shared/api.ts).' },
          ],
        },
      ],
    },
  },
  ...layerRules(),
  {
    // The devticker stands in for an external service: it must build and run without the console.
    files: ['src/devticker/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+(main|renderer|preload)(/|$)', message: 'the devticker depends only on src/shared (docs/architecture.md, section 4)' },
          ],
        },
      ],
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
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/main/**', '**/renderer/**', ...nodeBuiltins], message: 'The preload builds the bridge from the contract only.' }] },
      ],
    },
  },
);
