// The build's empty PGlite cluster (scripts/pglite-template.mjs) unpacked into a new market store directory.
//
// PGlite can load such a tarball itself (`loadDataDir`), but it holds the archive in memory three times over (the
// file, the gunzipped tar, the untarred entries) inside the console process; the memory stays resident after the
// start (bench:memory: ~85 MB more steady RSS than a restart). Streaming it to disk here keeps the first start at a
// restart's cost: PGlite then opens an existing cluster. It also makes the first start atomic: the cluster is unpacked
// beside the directory and renamed into place whole, so a crash mid-way never leaves half a cluster with a PG_VERSION.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, normalize, sep } from 'node:path';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

/** The staging directories of `dir` (a previous start that crashed mid-unpack leaves one). */
const stagingPrefix = (dir: string) => `${basename(dir)}.unpacking-`;

/** A NUL-terminated text field of a tar header. */
const text = (header: Buffer, from: number, length: number) => {
  const field = header.subarray(from, from + length);
  const end = field.indexOf(0);
  return field.toString('latin1', 0, end === -1 ? length : end);
};

const octal = (header: Buffer, from: number, length: number) => {
  const value = text(header, from, length).trim();
  return value === '' ? 0 : parseInt(value, 8);
};

/** Unsigned sum of the header with its checksum field read as spaces (POSIX ustar). */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum === octal(header, 148, 8);
}

/**
 * A Writable that unpacks a ustar stream into `root`: directories 0700, regular files 0600 (the market store's
 * private modes from the start), nothing else accepted, no path outside `root`.
 */
class TarUnpacker extends Writable {
  private pending = Buffer.alloc(0);
  private file: { fd: number; left: number; padding: number } | null = null;
  private skip = 0;
  private ended = false;
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly source: string,
  ) {
    super();
  }

  private fail(why: string): never {
    throw new Error(`the PGlite template ${this.source} is not a usable cluster archive: ${why}`);
  }

  private target(name: string): string {
    const relative = normalize(name.replace(/^\/+/, ''));
    if (relative === '.' || relative === '') return this.root;
    if (relative.split(sep).includes('..')) this.fail(`entry ${name} leaves the directory`);
    return join(this.root, relative);
  }

  private consume(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.file) {
        const n = Math.min(this.file.left, data.length);
        if (n > 0) writeSync(this.file.fd, data, 0, n);
        this.file.left -= n;
        data = data.subarray(n);
        if (this.file.left === 0) {
          closeSync(this.file.fd);
          this.skip = this.file.padding;
          this.file = null;
        }
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        continue;
      }
      if (this.ended) return; // the zero blocks and padding after the end marker
      if (data.length < BLOCK) {
        this.pending = Buffer.from(data);
        return;
      }
      const header = data.subarray(0, BLOCK);
      data = data.subarray(BLOCK);
      if (header.every((b) => b === 0)) {
        this.ended = true;
        continue;
      }
      if (text(header, 257, 5) !== 'ustar') this.fail('no ustar header');
      if (!checksumOk(header)) this.fail('a header checksum is wrong');
      const prefix = text(header, 345, 155);
      const name = prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100);
      const size = octal(header, 124, 12);
      const type = String.fromCharCode(header[156] || 0x30);
      const path = this.target(name);
      if (type === '5') {
        mkdirSync(path, { recursive: true, mode: 0o700 });
      } else if (type === '0') {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        const fd = openSync(path, 'wx', 0o600);
        const padding = (BLOCK - (size % BLOCK)) % BLOCK;
        if (size === 0) closeSync(fd);
        else this.file = { fd, left: size, padding };
      } else {
        this.fail(`entry ${name} is neither a file nor a directory (type ${type})`);
      }
      this.entries++;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.file || this.pending.length > 0 || !this.ended)
      done(new Error(`the PGlite template ${this.source} is not a usable cluster archive: it ends mid-entry`));
    else done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.file) closeSync(this.file.fd);
    this.file = null;
    done(err);
  }
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
    const unpacker = new TarUnpacker(staging, template);
    try {
      await pipeline(createReadStream(template), createGunzip(), unpacker);
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(message.includes(template) ? message : `the PGlite template ${template} is not a whole gzip file: ${message}`, { cause: err });
    }
    if (!existsSync(join(staging, 'PG_VERSION'))) throw new Error(`the PGlite template ${template} holds no cluster (no PG_VERSION)`);
    if (existsSync(dir)) {
      if (readdirSync(dir).length > 0) throw new Error(`the market store directory ${dir} is no longer empty`);
      rmdirSync(dir);
    }
    renameSync(staging, dir);
    return unpacker.entries;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
