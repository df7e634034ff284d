// The build's empty PGlite cluster (scripts/pglite-template.mjs) unpacked into a new market store directory.
//
// PGlite can load such a tarball itself (`loadDataDir`), but it holds the archive in memory three times over (the
// file, the gunzipped tar, the untarred entries) inside the console process; the memory stays resident after the
// start (bench:memory: ~85 MB more steady RSS than a restart). Streaming it to disk here keeps the first start at a
// restart's cost: PGlite then opens an existing cluster. It also makes the first start atomic: the cluster is unpacked
// beside the directory and renamed into place whole, so a crash mid-way never leaves half a cluster with a PG_VERSION.
//
// The archive is read by node-tar (`tar`), not by hand: its `strict` mode turns every warning (a bad checksum, a
// truncated archive, an entry with `..` or an absolute path, an unsupported type) into an error, so a damaged or
// hostile archive is refused whole rather than unpacked with entries quietly skipped.
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Unpack, type ReadEntry } from 'tar';

/** The staging directories of `dir` (a previous start that crashed mid-unpack leaves one). */
const stagingPrefix = (dir: string) => `${basename(dir)}.unpacking-`;

/** node-tar's codes for a stream that is not a whole gzip file (minizlib passes zlib's codes through). */
const GZIP_CODES = new Set(['Z_BUF_ERROR', 'Z_DATA_ERROR', 'Z_STREAM_ERROR', 'Z_NEED_DICT', 'Z_MEM_ERROR']);

/** Why an entry may not be unpacked into the market store, or null when it may (a plain file or directory, inside). */
function refusal(path: string, entry: ReadEntry): string | null {
  if (entry.type !== 'File' && entry.type !== 'Directory') return `entry ${path} is neither a file nor a directory (type ${entry.type})`;
  // node-tar refuses these too (strict: '..' and absolute paths are errors); said here in the trade's words first.
  if (path === '' || isAbsolute(path) || path.split(/[\\/]/).includes('..')) return `entry ${path} leaves the directory`;
  return null;
}

/**
 * Unpacks `template` (a tar.gz) into the empty directory `root`: directories 0700, regular files 0600 (the market
 * store's private modes from the start, whatever the archive says), nothing else accepted, no path outside `root`.
 * Resolves with the number of entries once every file is written and closed.
 */
function unpackInto(template: string, root: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let entries = 0;
    let settled = false;
    const source = createReadStream(template);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      source.destroy();
      unpack.abort(err);
      reject(err);
    };
    const unpack = new Unpack({
      cwd: root,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      noMtime: true,
      dmode: 0o700,
      fmode: 0o600,
      filter: (path, stat) => {
        const entry = stat as ReadEntry; // an Unpack's filter is given the archive's entries
        // PGlite's dumpDataDir names every entry from the cluster's root ("/pg_wal/..."): that root is `root`.
        // node-tar would strip the slash with a warning, which strict mode makes an error; the rooted name is the
        // format here, so it is made relative first, and what is left must stay inside.
        entry.path = path.replace(/^\/+/, '');
        if (entry.path === '' && entry.type === 'Directory') return false; // the root itself: the staging directory
        const why = refusal(entry.path, entry);
        if (why) {
          fail(new Error(`the PGlite template ${template} is not a usable cluster archive: ${why}`));
          return false;
        }
        // The archive's own modes are not trusted: the store is private from the first byte written.
        entry.mode = entry.type === 'Directory' ? 0o700 : 0o600;
        entries++;
        return true;
      },
    });
    unpack.on('error', (err: Error & { code?: string; tarCode?: string }) => {
      if (GZIP_CODES.has(err.code ?? '')) fail(new Error(`the PGlite template ${template} is not a whole gzip file: ${err.message}`, { cause: err }));
      else if (err.message.includes(template)) fail(err);
      else fail(new Error(`the PGlite template ${template} is not a usable cluster archive: ${err.message}`, { cause: err }));
    });
    // 'close' comes after the last entry's file is written and closed (not at the end of the input).
    unpack.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(entries);
    });
    source.on('error', (err) => fail(new Error(`the PGlite template ${template} could not be read: ${err.message}`, { cause: err })));
    source.pipe(unpack);
  });
}

/**
 * Unpacks the template into `dir`, which must be missing or empty (a first start): into a staging directory beside it,
 * then renamed into place. On any error nothing is left at `dir` but what was there (nothing) and the error names the
 * template. Returns the number of entries.
 */
export async function unpackPgliteTemplate(template: string, dir: string): Promise<number> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(parent)) if (name.startsWith(stagingPrefix(dir))) rmSync(join(parent, name), { recursive: true, force: true });
  const staging = join(parent, `${stagingPrefix(dir)}${process.pid}`);
  mkdirSync(staging, { mode: 0o700 });
  try {
    const entries = await unpackInto(template, staging);
    if (!existsSync(join(staging, 'PG_VERSION'))) throw new Error(`the PGlite template ${template} holds no cluster (no PG_VERSION)`);
    if (existsSync(dir)) {
      if (readdirSync(dir).length > 0) throw new Error(`the market store directory ${dir} is no longer empty`);
      rmdirSync(dir);
    }
    renameSync(staging, dir);
    return entries;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
