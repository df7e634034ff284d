// The import graph of src/ has no cycles: every module can be read, tested and replaced starting from the ones it
// imports. On failure the message shows each cycle as a path to follow.
import { describe, expect, it } from 'vitest';
import { buildImportGraph, findCycles, type ImportGraph } from './import-graph';

const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('the import graph', () => {
  it('finds a cycle, a self-import and none in a tree (the detector itself)', () => {
    const cycles = findCycles(graphOf({ a: ['b'], b: ['c'], c: ['a', 'd'], d: [], e: ['e'], f: ['d'] }));
    expect(cycles).toEqual(
      expect.arrayContaining([
        ['a', 'b', 'c', 'a'],
        ['e', 'e'],
      ]),
    );
    expect(cycles).toHaveLength(2);
    expect(findCycles(graphOf({ app: ['http', 'events'], http: ['events', 'api'], api: ['events'], events: [] }))).toEqual([]);
  });

  it('reads relative imports of every kind, resolved to files of the tree', () => {
    const graph = buildImportGraph('src/main/http');
    expect(graph.get('src/main/http/server.ts')).toEqual(
      expect.arrayContaining(['src/main/http/guard.ts', 'src/main/http/headers.ts', 'src/main/http/static.ts']),
    );
    // `import type` counts: routes.ts imports the services' types only.
    expect(graph.get('src/main/http/routes.ts')).toEqual(expect.arrayContaining(['src/main/events/intake.ts', 'src/main/http/server.ts']));
  });

  it('has no cycles in src/', () => {
    const graph = buildImportGraph('src');
    expect(graph.size).toBeGreaterThan(100);
    const cycles = findCycles(graph);
    expect(
      cycles.map((c) => c.join(' -> ')),
      `import cycles:\n${cycles.map((c) => `  ${c.join(' -> ')}`).join('\n')}`,
    ).toEqual([]);
  });
});
