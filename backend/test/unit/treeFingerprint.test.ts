import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanTree } from '../../src/archive/treeFingerprint';

describe('scanTree', function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'fingerprint-'));
    await mkdir(join(dir, 'tree', 'pkg', 'lib'), { recursive: true });
    await writeFile(join(dir, 'tree', 'pkg', 'index.js'), 'module.exports = 1;\n');
    await writeFile(join(dir, 'tree', 'pkg', 'lib', 'a.js'), 'a\n');
    await symlink('../pkg/index.js', join(dir, 'tree', 'pkg', 'lib', 'link.js'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('is the same for the same tree, also after the tree was moved (a cache restore is a rename)', async function () {
    const before = await scanTree(join(dir, 'tree'));
    await rename(join(dir, 'tree'), join(dir, 'moved'));
    assert.deepEqual(await scanTree(join(dir, 'moved')), before);
    // The build cache's copy of a tree handed to the runtime is made with cp -a.
    execFileSync('cp', ['-a', join(dir, 'moved'), join(dir, 'copied')]);
    assert.deepEqual(await scanTree(join(dir, 'copied')), before);
    assert.equal(before.unlikeArchive, undefined);
    // index.js and a.js; a symlink's own size is not a file's.
    assert.equal(before.bytes, 'module.exports = 1;\n'.length + 'a\n'.length);
  });

  it('says why an archive of the tree would not unpack to the same tree', async function () {
    const tree = join(dir, 'tree');
    const unlike = async () => (await scanTree(tree)).unlikeArchive;
    await mkdir(join(tree, 'pkg', '.git'));
    assert.match((await unlike()) ?? '', /"pkg\/\.git" is left out of the archive/);
    await rm(join(tree, 'pkg', '.git'), { recursive: true });
    await symlink('/etc/passwd', join(tree, 'pkg', 'abs'));
    assert.match((await unlike()) ?? '', /symlink "pkg\/abs" points to the absolute path/);
    await rm(join(tree, 'pkg', 'abs'));
    await symlink('../../..', join(tree, 'pkg', 'up'));
    assert.match((await unlike()) ?? '', /symlink "pkg\/up" points outside the tree/);
    await rm(join(tree, 'pkg', 'up'));
    execFileSync('mkfifo', [join(tree, 'pkg', 'fifo')]);
    assert.match((await unlike()) ?? '', /"pkg\/fifo" is neither a file, a directory nor a symlink/);
    await rm(join(tree, 'pkg', 'fifo'));
    assert.equal(await unlike(), undefined);
  });

  it('changes when a file is written, added, or its time changes', async function () {
    const tree = join(dir, 'tree');
    const fingerprint = async () => (await scanTree(tree)).fingerprint;
    const fingerprints = [await fingerprint()];
    await writeFile(join(tree, 'pkg', 'lib', 'a.js'), 'b\nb\n');
    fingerprints.push(await fingerprint());
    await writeFile(join(tree, 'pkg', 'new.js'), '');
    fingerprints.push(await fingerprint());
    await utimes(join(tree, 'pkg', 'index.js'), new Date(0), new Date(0));
    fingerprints.push(await fingerprint());
    assert.equal(new Set(fingerprints).size, fingerprints.length);
  });
});
