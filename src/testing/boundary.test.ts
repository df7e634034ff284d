// Test support stays out of the shipped console: production modules import no `testing/` folder, and no fake
// (Fake*, Manual*, Stub*) is declared in a production module. Test helpers live in a `testing/` folder next to
// the module they support, or in src/testing/ when several modules use them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

const isTestSupport = (path: string): boolean => path.split(sep).includes('testing');
const isTest = (path: string): boolean => /\.test\.tsx?$/.test(path);
const production = sources(SRC).filter((p) => !isTest(p) && !isTestSupport(p));

describe('test support boundary', () => {
  it('finds the production modules it checks', () => {
    expect(production.length).toBeGreaterThan(50);
    expect(production.some((p) => p.endsWith(join('shared', 'clock.ts')))).toBe(true);
  });

  it('no production module imports a testing/ folder', () => {
    const offenders = production.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)]
        .map((m) => m[1])
        .filter((spec) => isTestSupport(resolve(dirname(file), spec)))
        .map((spec) => `${relative(SRC, file)} -> ${spec}`);
    });
    expect(offenders).toEqual([]);
  });

  it('no production module declares a fake, manual or stub class', () => {
    const offenders = production.filter((file) => /export\s+class\s+(Fake|Manual|Stub)\w*/.test(readFileSync(file, 'utf8'))).map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });
});
