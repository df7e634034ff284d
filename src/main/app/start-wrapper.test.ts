// `npm start`'s wrapper (scripts/start.mjs) reports how the console ended: its exit code, or 128 + n when it was
// killed by signal n (it said 0 before, so a supervisor saw a crash as a clean stop). The real script is run from a
// copy whose out/main/headless.js is a stand-in that ends the chosen way.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(__dirname, '../../../scripts/start.mjs');

function runWrapper(headlessBody: string): number | null {
  const root = mkdtempSync(join(tmpdir(), 'sd-start-'));
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'out/main'), { recursive: true });
  copyFileSync(script, join(root, 'scripts/start.mjs'));
  writeFileSync(join(root, 'out/main/headless.js'), headlessBody);
  const result = spawnSync(process.execPath, [join(root, 'scripts/start.mjs'), '--headless'], { encoding: 'utf8', timeout: 20_000 });
  return result.status;
}

describe('start wrapper exit status', () => {
  it('is 128 + n when the console is killed by a signal', () => {
    expect(runWrapper("process.kill(process.pid, 'SIGKILL');")).toBe(137);
    expect(runWrapper("process.kill(process.pid, 'SIGTERM');")).toBe(143);
  });

  it("is the console's own exit code otherwise", () => {
    expect(runWrapper('process.exit(0);')).toBe(0);
    expect(runWrapper('process.exit(2);')).toBe(2);
  });
});
