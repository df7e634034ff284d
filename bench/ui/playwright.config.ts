// npm run bench:ui: renderer frame times for a live 3 x 100-strike chain and first paint of the headless console,
// in Debian's Chromium at 1280x800.
import { resolve } from 'node:path';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from '../../playwright.config';

process.env.PLAYWRIGHT_TRANSFORM_CACHE_DIR ??= resolve(import.meta.dirname ?? '.', '../../.playwright-cache');

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.bench\.ts$/,
  outputDir: '../../test-results/bench-ui',
  workers: 1,
  timeout: 240_000,
  forbidOnly: true,
  reporter: [['list']],
  use: {
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: process.env.STRIKEDESK_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
});
