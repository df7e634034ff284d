// E2E against the headless console in Debian's Chromium (Playwright's own browsers cannot be downloaded here).
// Each spec file starts its own console with its own data directory (e2e/support/console.ts).
import { resolve } from 'node:path';
import { defineConfig } from '@playwright/test';

// Transforms of the specs are cached inside the repo (gitignored), not in a shared temp dir.
process.env.PLAYWRIGHT_TRANSFORM_CACHE_DIR ??= resolve(import.meta.dirname ?? '.', '.playwright-cache');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  testDir: 'e2e',
  // A subfolder: Playwright empties its outputDir at start, and CI keeps vitest.json and screens/ in test-results/.
  outputDir: 'test-results/playwright',
  // Each file boots a console (PGlite, devticker): one at a time on two shared cores.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  use: {
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: { executablePath: process.env.STRIKEDESK_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
  projects: [
    { name: 'chromium', testIgnore: /electron\.spec\.ts$/ },
    { name: 'electron', testMatch: /electron\.spec\.ts$/ },
  ],
});
