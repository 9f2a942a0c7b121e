import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { UserFacingError } from '../domain/errors';

export interface PackOptions {
  /** Paths relative to the packed directory left out (e.g. a dependency directory shipped as its own layer). */
  exclude?: string[];
  /** Member mtimes fixed, so an unchanged tree packs to identical bytes: its sha256 can address it. */
  reproducible?: boolean;
}

export interface UnpackOptions {
  maxBytes?: number;
  maxEntries?: number;
  /** Stops the unpacking (and removes what it wrote) when aborted. */
  signal?: AbortSignal;
}

// A node app with node_modules easily reaches tens of thousands of files; these bounds only stop bombs.
const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
const DEFAULT_MAX_ENTRIES = 500_000;
const DEFAULT_LIMITS: Limits = { maxBytes: DEFAULT_MAX_BYTES, maxEntries: DEFAULT_MAX_ENTRIES };
// Symlink chains longer than this are refused, like the kernel's ELOOP.
const MAX_LINK_DEPTH = 40;

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/**
 * Packs `dir` into a gzipped tarball at `outFile`, without `.git` directories (and without `outFile` itself if it
 * lies inside). GNU tar does the work: on a node_modules tree it is several times faster than a JavaScript packer.
 * Entries are sorted and owned by root so the same tree packs to the same listing.
 */
export async function packDir(dir: string, outFile: string, opts: PackOptions = {}): Promise<void> {
  const root = resolve(dir);
  const out = resolve(outFile);
  const inside = relative(root, out);
  const flags = packFlags(opts);
  if (!inside || inside.startsWith('..')) return pack(root, out, ...flags);
  // Writing the archive into the tree being read makes tar report the tree changed (and exit 1): write beside, then move in.
  const scratch = await mkdtemp(join(tmpdir(), 'cloudsmith-pack-'));
  try {
    await pack(root, join(scratch, 'out.tar.gz'), ...flags, `--exclude=./${inside.split(sep).join('/')}`);
    await copyFile(join(scratch, 'out.tar.gz'), out);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function pack(root: string, out: string, ...flags: string[]): Promise<void> {
  return startTar(createArgs(root, out, flags), 'pack the directory', 'ignore').done;
}

/**
 * `dir` packed as packDir packs it, as a stream: a store can take the artifact while it is being made, with no
 * file in between. The stream errors instead of ending when tar fails; destroying it stops tar.
 */
export function packStream(dir: string, opts: PackOptions = {}): Readable {
  const tar = startTar(createArgs(resolve(dir), '-', packFlags(opts)), 'pack the directory', 'stdout');
  const out = new PassThrough();
  const stdout = tar.child.stdout as Readable;
  stdout.pipe(out, { end: false });
  tar.done.then(
    () => out.end(),
    (err: unknown) => out.destroy(err as Error),
  );
  // A consumer that gives up early (a failed upload) must not leave tar running; a no-op once tar has exited.
  out.on('close', () => tar.child.kill());
  return out;
}

function packFlags(opts: PackOptions): string[] {
  return [
    ...(opts.exclude ?? []).map((path) => `--exclude=./${path}`),
    // Same content, same bytes (and so the same sha256): no member or gzip timestamps.
    ...(opts.reproducible ? ['--mtime=@0'] : []),
  ];
}

function createArgs(root: string, out: string, flags: string[]): string[] {
  // Level 1: artifacts are written once per build and read once per release; speed beats size here.
  return [
    '-c',
    '-f',
    out,
    '--use-compress-program=gzip -1 -n',
    '-C',
    root,
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--exclude=.git',
    ...flags,
    '.',
  ];
}

/** Splits an archive path into components, refusing anything that could land outside the destination. */
function safeParts(path: string, what: string): string[] {
  if (path.includes('\0')) throw new UserFacingError(`archive ${what} "${path}" contains a NUL byte`);
  if (path.startsWith('/') || path.startsWith('\\') || /^[a-zA-Z]:/.test(path)) {
    throw new UserFacingError(`archive ${what} "${path}" is an absolute path`);
  }
  const parts = path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UserFacingError(`archive ${what} "${path}" contains ".."`);
  return parts;
}

/**
 * Tracks the archive's symlinks so that nothing is written through one, and so that every symlink can be
 * resolved (as the filesystem would) once the whole archive is known.
 */
class LinkMap {
  private readonly links = new Map<string, string>();

  set(path: string, target: string): void {
    this.links.set(path, target);
  }

  forget(path: string): void {
    this.links.delete(path);
  }

  has(path: string): boolean {
    return this.links.has(path);
  }

  /** The first proper ancestor of `parts` that is a symlink, if any. */
  symlinkAncestor(parts: string[]): string | undefined {
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.links.has(prefix)) return prefix;
    }
    return undefined;
  }

  /** Resolves the symlink at `path` through every archive symlink it meets; undefined when it leaves the root. */
  resolve(path: string): string[] | undefined {
    const start = path.split('/');
    const pending = [...(this.links.get(path) ?? '').split('/')];
    const out = start.slice(0, -1);
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length === 0) return undefined;
        out.pop();
        continue;
      }
      out.push(part);
      const target = this.links.get(out.join('/'));
      if (target !== undefined) {
        if (++hops > MAX_LINK_DEPTH) return undefined;
        if (target.startsWith('/')) return undefined;
        out.pop();
        pending.unshift(...target.split('/'));
      }
    }
    return out;
  }

  entries(): string[] {
    return [...this.links.keys()];
  }
}

/** Unpacks the (gzipped) tarball `file` into `destDir`, as unpackStream does. */
export function unpackTarball(file: string, destDir: string, opts: UnpackOptions = {}): Promise<void> {
  return unpackStream(createReadStream(file), destDir, opts);
}

/**
 * Unpacks a gzipped tarball read from `body` into `destDir` (absent or empty) in one pass: gunzip, checks and GNU tar
 * run as the bytes arrive. Refuses, with a UserFacingError naming the entry, absolute paths, `..`, links leading
 * outside `destDir`, writes through symlinks, device and fifo entries, and archives over `maxEntries` entries or
 * `maxBytes` of content. Every entry is judged before tar reads it, so nothing is written outside `destDir`; when the
 * archive is refused, `body` fails (a checksum that does not match at its end) or the signal aborts, what was written
 * is removed and `destDir` is left empty.
 */
export async function unpackStream(body: Readable, destDir: string, opts: UnpackOptions = {}): Promise<void> {
  const limits = { maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES, maxEntries: opts.maxEntries ?? DEFAULT_MAX_ENTRIES };
  const cwd = resolve(destDir);
  await mkdir(cwd, { recursive: true });
  // GNU tar writes the bytes, several times faster than a JavaScript extractor on node_modules-sized trees. It is a
  // second line of defence too: it refuses `..` members and creates risky symlinks only after every file is written.
  const tar = startTar(
    ['-x', '-f', '-', '-C', cwd, '--no-same-owner', '--no-same-permissions'],
    'unpack the archive',
    'stdin',
  );
  const feed = checkedFeed(limits, tar.child.stdin as Writable);
  tar.done.catch((err: unknown) => feed.destroy(err as Error));
  // Larger output chunks than zlib's 16 KiB halve the CPU the parser and the pipe to tar spend per byte.
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  body.on('error', (err) => gunzip.destroy(err));
  body.pipe(gunzip);
  try {
    await pipeline(gunzip, feed, ...(opts.signal ? [{ signal: opts.signal }] : []));
    await tar.done;
    refuseEscapingLinks(feed.links);
  } catch (err) {
    tar.child.kill('SIGKILL');
    const cause = opts.signal?.aborted ? err : await corruption(body, err);
    await tar.done.catch(() => undefined);
    await emptyDir(cwd).catch(() => undefined);
    throw cause;
  }
  // tar gives the destination the archived "./" entry's mtime; callers order releases by when they were unpacked.
  const now = new Date();
  await utimes(cwd, now, now);
}

/**
 * A damaged download usually breaks gzip or tar before its end, where a checksumming body would have named the
 * damage: the rest is read so that it can (the body errors), else the archive's own fault stands.
 */
async function corruption(body: Readable, fault: unknown): Promise<unknown> {
  body.unpipe();
  try {
    await finished(body.resume());
    return fault;
  } catch (err) {
    return err;
  } finally {
    body.destroy();
  }
}

async function emptyDir(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

/**
 * The archive's bytes on their way to GNU tar. Each chunk goes through tar's parser first, which judges every entry
 * whose header the chunk completes before write() returns; only then does the chunk go on to GNU tar. So GNU tar
 * never reads an entry that was not judged, and the first bad one stops the stream.
 */
function checkedFeed(limits: Limits, sink: Writable): Writable & { links: LinkMap } {
  // No zstd sniffing; a gzip magic is refused below: the parser must read exactly the bytes GNU tar reads.
  const parser = new Parser({ strict: true, zstd: false });
  const check = entryChecker(limits);
  let failure: Error | undefined;
  parser.filter = (_path, entry) => {
    if (failure) return false;
    try {
      check(entry as ReadEntry);
      return true;
    } catch (err) {
      failure = err as Error;
      parser.abort(failure);
      return false;
    }
  };
  parser.on('entry', (entry: ReadEntry) => {
    entry.resume();
  });
  parser.on('error', (err: Error) => {
    failure ??= err;
  });
  const parsed = new Promise<void>((done) => {
    parser.on('end', done);
    parser.on('error', () => {
      done();
    });
  });
  // GNU tar stops reading at the archive's end marker, so a write may meet a closed pipe; its exit status tells.
  sink.on('error', () => undefined);
  // Headers, padding and the end records around `maxBytes` of content: well below this unless the input is a bomb.
  const maxStream = limits.maxBytes + limits.maxEntries * 2048 + 64 * 1024 * 1024;
  let streamed = 0;
  // The first bytes are held until there are two of them, the length of the gzip magic.
  let head: Buffer | undefined = Buffer.alloc(0);
  const feed = new Writable({
    write(data: Buffer, _enc, done) {
      let chunk = data;
      if (head) {
        chunk = Buffer.concat([head, data]);
        if (chunk.length < 2) {
          head = chunk;
          done();
          return;
        }
        head = undefined;
        if (chunk[0] === 0x1f && chunk[1] === 0x8b) {
          done(new UserFacingError('archive is compressed twice'));
          return;
        }
      }
      streamed += chunk.length;
      if (streamed > maxStream) {
        done(new UserFacingError(`archive expands to more than ${maxStream} bytes`));
        return;
      }
      parser.write(chunk);
      if (failure) {
        done(failure);
        return;
      }
      if (sink.destroyed || sink.write(chunk)) {
        done();
        return;
      }
      const go = (): void => {
        sink.off('drain', go).off('close', go);
        done();
      };
      sink.on('drain', go).on('close', go);
    },
    final(done) {
      // Under two bytes: not an archive, and the parser says so.
      if (head?.length) parser.write(head);
      parser.end();
      void parsed.then(() => {
        if (failure) {
          done(failure);
          return;
        }
        sink.end();
        done();
      });
    },
  });
  return Object.assign(feed, { links: check.links });
}

/** GNU tar with its stderr kept for the error; `stream` is the end of the archive the caller reads or writes. */
function startTar(
  args: string[],
  what: string,
  stream: 'stdin' | 'stdout' | 'ignore',
): { child: ChildProcess; done: Promise<void> } {
  const tar = spawn('tar', args, {
    stdio: [stream === 'stdin' ? 'pipe' : 'ignore', stream === 'stdout' ? 'pipe' : 'ignore', 'pipe'],
  });
  const done = new Promise<void>((resolveDone, reject) => {
    let stderr = '';
    tar.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    tar.on('error', (err) => {
      reject(new Error(`could not run tar: ${err.message}`));
    });
    tar.on('close', (code, signal) => {
      if (code === 0) resolveDone();
      else reject(new UserFacingError(`could not ${what}: ${stderr.trim() || `tar exited with ${code ?? signal}`}`));
    });
  });
  // Callers await it later; a failure before then is theirs to see, not an unhandled rejection.
  done.catch(() => undefined);
  return { child: tar, done };
}

/**
 * unpackStream's rules applied to a directory tree, entry by entry and in any order: what an archive packed from the
 * tree (see packDir) would be refused for, and what packing leaves out (`.git`). A tree with no offence holds exactly
 * what its archive unpacks to, so it can be handed on as is and meet the same policy.
 */
export class TreeJudge {
  private readonly links = new LinkMap();
  private entries = 0;
  private bytes = 0;
  private offence?: string;

  constructor(private readonly limits: Limits = DEFAULT_LIMITS) {}

  entry(path: string, kind: 'file' | 'dir' | 'symlink' | 'other', size: number, target = ''): void {
    if (this.offence !== undefined) return;
    if (path.split('/').includes('.git')) this.offence = `"${path}" is left out of the archive`;
    else if (++this.entries > this.limits.maxEntries) this.offence = `more than ${this.limits.maxEntries} entries`;
    else if (kind === 'other') this.offence = `"${path}" is neither a file, a directory nor a symlink`;
    else if (kind === 'file' && (this.bytes += size) > this.limits.maxBytes)
      this.offence = `more than ${this.limits.maxBytes} bytes`;
    else if (kind === 'symlink' && target.startsWith('/'))
      this.offence = `symlink "${path}" points to the absolute path "${target}"`;
    else if (kind === 'symlink') this.links.set(path, target);
  }

  /** The first offence seen, or a symlink that leads outside the tree; undefined when there is none. */
  why(): string | undefined {
    if (this.offence !== undefined) return this.offence;
    const escaping = this.links.entries().find((link) => this.links.resolve(link) === undefined);
    return escaping === undefined ? undefined : `symlink "${escaping}" points outside the tree`;
  }
}

/** A symlink that was fine when read can escape once a later entry turns one of its components into a symlink. */
function refuseEscapingLinks(links: LinkMap): void {
  const escaping = links.entries().find((link) => links.resolve(link) === undefined);
  if (escaping !== undefined) throw new UserFacingError(`archive symlink "${escaping}" points outside the destination`);
}

interface Limits {
  maxBytes: number;
  maxEntries: number;
}

function entryChecker(limits: Limits): ((entry: ReadEntry) => void) & { links: LinkMap } {
  const links = new LinkMap();
  let entries = 0;
  let bytes = 0;
  const check = (entry: ReadEntry): void => {
    const path = entry.path;
    entries++;
    if (entries > limits.maxEntries)
      throw new UserFacingError(`archive has more than ${limits.maxEntries} entries (at "${path}")`);
    if (!ALLOWED_TYPES.has(entry.type)) {
      throw new UserFacingError(
        `archive entry "${path}" is a ${entry.type}; only files, directories and links are allowed`,
      );
    }
    bytes += entry.size;
    if (bytes > limits.maxBytes)
      throw new UserFacingError(`archive holds more than ${limits.maxBytes} bytes (at "${path}")`);
    const parts = safeParts(path, 'entry');
    const through = links.symlinkAncestor(parts);
    if (through !== undefined)
      throw new UserFacingError(`archive entry "${path}" would be written through the symlink "${through}"`);
    const key = parts.join('/');
    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (target.startsWith('/') || /^[a-zA-Z]:/.test(target)) {
        throw new UserFacingError(`archive symlink "${path}" points to the absolute path "${target}"`);
      }
      if (parts.length === 0) throw new UserFacingError(`archive symlink "${path}" replaces the destination directory`);
      links.set(key, target);
      if (links.resolve(key) === undefined)
        throw new UserFacingError(`archive symlink "${path}" points outside the destination ("${target}")`);
    } else {
      links.forget(key);
    }
    if (entry.type === 'Link') {
      const target = entry.linkpath ?? '';
      const targetParts = safeParts(target, `hard link "${path}" target`);
      const targetKey = targetParts.join('/');
      const via = links.symlinkAncestor(targetParts) ?? (links.has(targetKey) ? targetKey : undefined);
      if (via !== undefined) throw new UserFacingError(`archive hard link "${path}" goes through the symlink "${via}"`);
    }
  };
  return Object.assign(check, { links });
}
