import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintTree } from '../../src/archive/treeFingerprint';

describe('fingerprintTree', function () {
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
    const before = await fingerprintTree(join(dir, 'tree'));
    await rename(join(dir, 'tree'), join(dir, 'moved'));
    assert.equal(await fingerprintTree(join(dir, 'moved')), before);
  });

  it('changes when a file is written, added, or its time changes', async function () {
    const tree = join(dir, 'tree');
    const fingerprints = [await fingerprintTree(tree)];
    await writeFile(join(tree, 'pkg', 'lib', 'a.js'), 'b\nb\n');
    fingerprints.push(await fingerprintTree(tree));
    await writeFile(join(tree, 'pkg', 'new.js'), '');
    fingerprints.push(await fingerprintTree(tree));
    await utimes(join(tree, 'pkg', 'index.js'), new Date(0), new Date(0));
    fingerprints.push(await fingerprintTree(tree));
    assert.equal(new Set(fingerprints).size, fingerprints.length);
  });
});
