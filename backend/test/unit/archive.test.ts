import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { sha256File } from '../../src/archive/checksum';
import { packDir, packStream, unpackStream, unpackTarball } from '../../src/archive/tarball';
import { UserFacingError } from '../../src/domain/errors';

interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO' | 'BlockDevice';
  body?: string;
  linkpath?: string;
  size?: number;
}

/** Builds a tarball byte by byte, so entries can carry paths and types that no well-behaved packer would write. */
function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const header = new Header({
      path: e.path,
      type,
      mode: type === 'Directory' ? 0o755 : 0o644,
      size: e.size ?? (type === 'File' ? body.length : 0),
      linkpath: e.linkpath,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe('archive', () => {
  let base: string;
  let outside: string;
  let dest: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'archive-test-'));
    outside = join(base, 'outside');
    dest = join(base, 'nest', 'dest');
    await mkdir(outside, { recursive: true });
    await mkdir(dest, { recursive: true });
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  async function tarball(entries: RawEntry[]): Promise<string> {
    const file = join(base, `t-${Math.random().toString(36).slice(2)}.tar.gz`);
    await writeFile(file, rawTar(entries));
    return file;
  }

  async function expectRefused(
    entries: RawEntry[],
    messagePart: RegExp,
    opts?: { maxBytes?: number; maxEntries?: number },
  ) {
    const file = await tarball(entries);
    await assert.rejects(unpackTarball(file, dest, opts), (err: unknown) => {
      assert.ok(err instanceof UserFacingError, `expected UserFacingError, got ${String(err)}`);
      assert.match(err.message, messagePart);
      return true;
    });
    assert.deepEqual(await readdir(outside), [], 'nothing may be written outside dest');
    assert.deepEqual(await readdir(dest), [], 'a refused archive writes nothing at all');
    assert.equal(existsSync(join(base, 'nest', 'evil.txt')), false);
    assert.equal(existsSync(join(base, 'evil.txt')), false);
  }

  it('packs a directory without .git and unpacks it identically, links included', async () => {
    const src = join(base, 'src');
    await mkdir(join(src, '.git', 'objects'), { recursive: true });
    await writeFile(join(src, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await mkdir(join(src, 'node_modules', 'pkg', 'bin'), { recursive: true });
    await mkdir(join(src, 'node_modules', '.bin'), { recursive: true });
    await writeFile(join(src, 'node_modules', 'pkg', 'bin', 'cli.js'), '#!/usr/bin/env node\n', { mode: 0o755 });
    await symlink('../pkg/bin/cli.js', join(src, 'node_modules', '.bin', 'cli'));
    await writeFile(join(src, 'index.html'), '<h1>hi</h1>');
    const out = join(src, 'self.tar.gz');
    await packDir(src, out);
    await unpackTarball(out, dest);
    assert.equal(readFileSync(join(dest, 'index.html'), 'utf8'), '<h1>hi</h1>');
    assert.equal(existsSync(join(dest, '.git')), false);
    assert.equal(existsSync(join(dest, 'self.tar.gz')), false);
    assert.equal(readlinkSync(join(dest, 'node_modules', '.bin', 'cli')), '../pkg/bin/cli.js');
    assert.ok(lstatSync(join(dest, 'node_modules', 'pkg', 'bin', 'cli.js')).mode & 0o100);
  });

  it('computes sha256 of a file', async () => {
    const f = join(base, 'f');
    await writeFile(f, 'abc');
    assert.equal(await sha256File(f), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses absolute paths', () => expectRefused([{ path: '/tmp/evil.txt', body: 'x' }], /absolute/));

  it('refuses .. in paths', () => expectRefused([{ path: '../evil.txt', body: 'x' }], /"\.\.\/evil\.txt".*\.\./));

  it('refuses .. hidden mid-path', () => expectRefused([{ path: 'a/../../evil.txt', body: 'x' }], /contains "\.\."/));

  it('refuses a symlink pointing outside', () =>
    expectRefused(
      [{ path: 'link', type: 'SymbolicLink', linkpath: '../../outside' }],
      /symlink "link" points outside/,
    ));

  it('refuses an absolute symlink', () =>
    expectRefused([{ path: 'link', type: 'SymbolicLink', linkpath: '/etc' }], /absolute/));

  it('refuses writing through a symlink, even one pointing inside', () =>
    expectRefused(
      [
        { path: 'sub', type: 'Directory' },
        { path: 'link', type: 'SymbolicLink', linkpath: 'sub' },
        { path: 'link/file.txt', body: 'x' },
      ],
      /written through the symlink "link"/,
    ));

  it('refuses a symlink that escapes only once a later symlink exists', () =>
    expectRefused(
      [
        { path: 'c', type: 'SymbolicLink', linkpath: 'a/..' },
        { path: 'a', type: 'SymbolicLink', linkpath: '.' },
      ],
      /symlink "c" points outside/,
    ));

  it('refuses a hard link to a path outside', () =>
    expectRefused([{ path: 'hl', type: 'Link', linkpath: '../../outside/x' }], /hard link "hl" target.*\.\./));

  it('refuses a hard link to a symlink', () =>
    expectRefused(
      [
        { path: 'a', type: 'Directory' },
        { path: 'a/l', type: 'SymbolicLink', linkpath: '../x' },
        { path: 'deep/er/hl', type: 'Link', linkpath: 'a/l' },
      ],
      /hard link "deep\/er\/hl" goes through the symlink "a\/l"/,
    ));

  it('refuses device and fifo entries', async () => {
    await expectRefused([{ path: 'null', type: 'CharacterDevice' }], /"null" is a CharacterDevice/);
    await expectRefused([{ path: 'pipe', type: 'FIFO' }], /"pipe" is a FIFO/);
  });

  it('refuses too many entries', () =>
    expectRefused(
      Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, body: 'x' })),
      /more than 10 entries \(at "f10"\)/,
      { maxEntries: 10 },
    ));

  it('refuses too many bytes', () =>
    expectRefused([{ path: 'big', body: 'x'.repeat(5000) }], /more than 4096 bytes \(at "big"\)/, { maxBytes: 4096 }));

  describe('streaming', () => {
    /** Incompressible files, so the archive spans many chunks before the entries that follow them. */
    function bulk(files: number): RawEntry[] {
      return Array.from({ length: files }, (_, i) => ({
        path: `bulk/f${i}`,
        body: randomBytes(256 * 1024).toString('base64'),
      }));
    }

    async function expectStreamRefused(body: Readable, messagePart: RegExp, opts?: { signal?: AbortSignal }) {
      await assert.rejects(unpackStream(body, dest, opts), messagePart);
      assert.deepEqual(await readdir(dest), [], 'what was written is removed');
      assert.deepEqual(await readdir(outside), [], 'nothing may be written outside dest');
    }

    it('packs a tree as a stream and unpacks it from one, links included', async () => {
      const src = join(base, 'src');
      await mkdir(join(src, 'node_modules', '.bin'), { recursive: true });
      await writeFile(join(src, 'index.js'), 'x');
      await symlink('../../index.js', join(src, 'node_modules', '.bin', 'x'));
      await unpackStream(packStream(src), dest);
      assert.equal(readFileSync(join(dest, 'index.js'), 'utf8'), 'x');
      assert.equal(readlinkSync(join(dest, 'node_modules', '.bin', 'x')), '../../index.js');
    });

    it('fails the stream of a directory that cannot be packed', async () => {
      await assert.rejects(unpackStream(packStream(join(base, 'missing')), dest), /could not pack the directory/);
    });

    it('refuses a bad entry far into the stream and removes what came before it', () =>
      expectStreamRefused(Readable.from([rawTar([...bulk(40), { path: 'pipe', type: 'FIFO' }])]), /"pipe" is a FIFO/));

    it('removes everything when the body fails at its end (a checksum that does not match)', () => {
      const archive = rawTar(bulk(8));
      return expectStreamRefused(
        Readable.from(
          (async function* () {
            yield archive;
            throw new Error('artifact x is corrupt: its sha256 is a, expected b');
          })(),
        ),
        /corrupt/,
      );
    });

    it('refuses an archive compressed twice (its parser and GNU tar must read the same bytes)', async () => {
      await expectStreamRefused(Readable.from([gzipSync(rawTar([{ path: 'a', body: 'x' }]))]), /compressed twice/);
      // Stored (level 0) and fed a byte at a time, the inner gzip magic arrives split over chunks.
      const outer = gzipSync(gzipSync(rawTar([{ path: 'a', body: 'x' }])), { level: 0 });
      await expectStreamRefused(Readable.from([...outer].map((b) => Buffer.from([b]))), /compressed twice/);
    });

    it('stops and cleans up when aborted', () => {
      const archive = rawTar(bulk(8));
      const controller = new AbortController();
      return expectStreamRefused(
        Readable.from(
          (async function* () {
            yield archive.subarray(0, 100_000);
            controller.abort();
            await new Promise((next) => setTimeout(next, 10));
            yield archive.subarray(100_000);
          })(),
        ),
        /abort/i,
        { signal: controller.signal },
      );
    });
  });

  it('rejects garbage that is not a tarball', async () => {
    const f = join(base, 'junk.tar.gz');
    await writeFile(f, gzipSync(Buffer.from('definitely not a tar archive')));
    await assert.rejects(unpackTarball(f, dest));
  });
});
