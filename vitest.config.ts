import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'bench/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: PGlite instances are heavy; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
    // expect.poll waits on an observable condition instead of a sleep; these are the defaults of the hand-written
    // polls it replaced (a bounded wait of seconds, checked every few milliseconds).
    expect: { poll: { timeout: 10_000, interval: 10 } },
  },
});
