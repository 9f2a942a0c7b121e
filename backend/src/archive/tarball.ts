import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createReadStream } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
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
}

// A node app with node_modules easily reaches tens of thousands of files; these bounds only stop bombs.
const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
const DEFAULT_MAX_ENTRIES = 500_000;
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
  const flags = [
    ...(opts.exclude ?? []).map((path) => `--exclude=./${path}`),
    // Same content, same bytes (and so the same sha256): no member or gzip timestamps.
    ...(opts.reproducible ? ['--mtime=@0'] : []),
  ];
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
  // Level 1: artifacts are written once per build and read once per release; speed beats size here.
  return runTar(
    [
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
    ],
    'pack the directory',
  );
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

/**
 * Unpacks a (gzipped) tarball into `destDir`. Refuses, with a UserFacingError naming the entry, absolute
 * paths, `..`, links leading outside `destDir`, writes through symlinks, device and fifo entries, and
 * archives over `maxEntries` entries or `maxBytes` of content. Nothing is written outside `destDir`, and
 * nothing at all when the archive is refused.
 */
export async function unpackTarball(file: string, destDir: string, opts: UnpackOptions = {}): Promise<void> {
  const limits = { maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES, maxEntries: opts.maxEntries ?? DEFAULT_MAX_ENTRIES };
  const cwd = resolve(destDir);
  // The first pass writes nothing: the whole archive is judged before a single file lands.
  refuseEscapingLinks(await listArchive(file, limits));
  await mkdir(cwd, { recursive: true });
  await extractWithGnuTar(file, cwd);
  // tar gives the destination the archived "./" entry's mtime; callers order releases by when they were unpacked.
  const now = new Date();
  await utimes(cwd, now, now);
}

/**
 * The archive was judged entry by entry above; the bytes are written by GNU tar, several times faster than a
 * JavaScript extractor on node_modules-sized trees. It is a second line of defence too: it refuses `..`
 * members and creates symlinks only after every file is written, so nothing lands through one.
 */
function extractWithGnuTar(file: string, cwd: string): Promise<void> {
  return runTar(['-x', '-z', '-f', file, '-C', cwd, '--no-same-owner', '--no-same-permissions'], 'unpack the archive');
}

function runTar(args: string[], what: string): Promise<void> {
  return new Promise((done, reject) => {
    const tar = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    tar.on('error', (err) => {
      reject(new Error(`could not run tar: ${err.message}`));
    });
    tar.on('close', (code) => {
      if (code === 0) done();
      else reject(new UserFacingError(`could not ${what}: ${stderr.trim() || `tar exited with ${code}`}`));
    });
  });
}

/** A symlink that was fine when read can escape once a later entry turns one of its components into a symlink. */
function refuseEscapingLinks(links: LinkMap): void {
  const escaping = links.entries().find((link) => links.resolve(link) === undefined);
  if (escaping !== undefined) throw new UserFacingError(`archive symlink "${escaping}" points outside the destination`);
}

/** Streams the archive through tar's parser without writing anything, checking every entry; stops at the first bad one. */
async function listArchive(file: string, limits: { maxBytes: number; maxEntries: number }): Promise<LinkMap> {
  const parser = new Parser({ strict: true });
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
  const input = createReadStream(file);
  try {
    await new Promise<void>((done, reject) => {
      parser.on('error', (err: Error) => {
        reject(failure ?? err);
      });
      parser.on('end', () => {
        done();
      });
      input.on('error', reject);
      input.pipe(parser);
    });
  } finally {
    input.destroy();
  }
  if (failure) throw failure;
  return check.links;
}

function entryChecker(limits: {
  maxBytes: number;
  maxEntries: number;
}): ((entry: ReadEntry) => void) & { links: LinkMap } {
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
