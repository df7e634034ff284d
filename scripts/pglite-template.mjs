#!/usr/bin/env node
// Builds the empty PGlite cluster the console copies on a first start instead of running initdb (npm run build).
//
// Why: initdb on a new home keeps a second PGlite instance and the initdb WASM module alive next to the console's own
// PGlite; that is the console's whole first-start peak (about 800 MB RSS against about 260 MB for a restart, see
// bench:memory). A tarball of a freshly initialised cluster, unpacked into the new store directory and opened as an
// existing cluster (src/main/market/pglite-template.ts), skips all of it. It is the tarball PGlite's own dumpDataDir
// writes (the format its `loadDataDir` option reads); the console does not use loadDataDir, which holds the whole
// archive in memory several times over.
//
// The template is made here, at build time, by the PGlite version in node_modules: never committed as a binary. It
// is an initdb'd cluster and nothing else: no migrations (the console's checksum runner applies them at start, as on
// any new store, so the template cannot carry a schema older or newer than the build that ships it).
// The options are the console's (src/main/market/db.ts): defaults for user, database, initdb parameters and
// extensions (none), and the start parameters db.ts passes. Start parameters are not written into the cluster; they
// are used here only so the sanity query runs the server as the console runs it. db.test.ts checks that a store opened
// from the template and one made by initdb have the same settings, roles and databases.
//
//   node scripts/pglite-template.mjs [--force] [OUT_FILE]     default out/pglite-template.tar.gz
// Skips the work (a few seconds) when OUT_FILE was made by this same script and PGlite version (OUT_FILE.key), as on
// every `npm start` after the first; --force builds it anyway.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the build puts the template (electron-builder.yml ships it as an extra resource of the same name). */
export const TEMPLATE_FILE = join(root, 'out', 'pglite-template.tar.gz');

/** Keep in step with PGLITE_SHARED_BUFFERS in src/main/market/db.ts. */
const SHARED_BUFFERS = '16MB';

/**
 * Initialises an empty cluster in memory, dumps it as a gzipped tarball to `outFile` (written whole, then renamed, so
 * a crashed build never leaves half a template) and returns its size in bytes.
 */
export async function buildPgliteTemplate(outFile = TEMPLATE_FILE) {
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = await PGlite.create({
    relaxedDurability: false,
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
  });
  let bytes;
  try {
    const { rows } = await pg.query("SELECT current_setting('server_version_num') AS v");
    if (!rows[0]?.v) throw new Error('the new cluster did not answer a query');
    // A clean shutdown checkpoint first would be ideal, but dumpDataDir needs the server running; a CHECKPOINT makes
    // the dumped pages and pg_control agree, so the copy starts without crash recovery.
    await pg.exec('CHECKPOINT');
    const tarball = await pg.dumpDataDir('gzip');
    bytes = new Uint8Array(await tarball.arrayBuffer());
  } finally {
    await pg.close();
  }
  const target = resolve(outFile);
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  writeFileSync(partial, bytes);
  // An empty cluster holds no secret (its pg_hba.conf is PGlite's trust default, as initdb writes it): readable is fine.
  chmodSync(partial, 0o644);
  renameSync(partial, target);
  return bytes.length;
}

/** What the template depends on: the installed PGlite's version and this script's text (its options). */
function templateKey() {
  const pgliteDir = dirname(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))));
  const { version } = JSON.parse(readFileSync(join(pgliteDir, 'package.json'), 'utf8'));
  const script = readFileSync(fileURLToPath(import.meta.url));
  return `pglite ${version} script ${createHash('sha256').update(script).digest('hex').slice(0, 16)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const out = resolve(args.find((a) => a !== '--force') ?? TEMPLATE_FILE);
  const keyFile = `${out}.key`;
  const key = templateKey();
  if (!force && existsSync(out) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) {
    process.stdout.write(`pglite template: ${out} is up to date (${key})\n`);
  } else {
    const started = Date.now();
    const size = await buildPgliteTemplate(out);
    writeFileSync(keyFile, key);
    process.stdout.write(`pglite template: ${out} (${(size / 1024).toFixed(0)} KiB, ${Date.now() - started} ms, ${key})\n`);
  }
}
