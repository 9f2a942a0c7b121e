import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { describeArtifactStoreContract } from './artifacts.contract';

describeArtifactStoreContract('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'artifacts-fs-'));
  return { store: new FsArtifactStore(join(dir, 'store')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('FsArtifactStore specifics', function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'artifacts-fs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('detects content changed on disk after it was stored', async function () {
    const store = new FsArtifactStore(join(dir, 'store'));
    const input = join(dir, 'in');
    await writeFile(input, 'original');
    await store.putFile('artifacts/app/sha/id.tar.gz', input);
    await writeFile(join(dir, 'store', 'blobs', 'artifacts', 'app', 'sha', 'id.tar.gz'), 'tampered');
    await assert.rejects(store.getFile('artifacts/app/sha/id.tar.gz', join(dir, 'out')), /corrupt/);
    assert.equal(existsSync(join(dir, 'out')), false);
  });

  it('leaves no temporary files behind and writes nothing outside its root for a hostile key', async function () {
    const store = new FsArtifactStore(join(dir, 'store'));
    const input = join(dir, 'in');
    await writeFile(input, 'x');
    await store.putFile('artifacts/app/sha/id.tar.gz', input);
    await assert.rejects(store.putFile('../outside', input));
    assert.deepEqual((await readdir(join(dir, 'store', 'blobs', 'artifacts', 'app', 'sha'))).sort(), ['id.tar.gz']);
    assert.deepEqual((await readdir(dir)).sort(), ['in', 'store']);
  });
});
