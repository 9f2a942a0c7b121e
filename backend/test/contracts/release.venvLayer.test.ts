import assert from 'node:assert/strict';
import { lstat, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findPython } from '../../src/detect/toolchains';
import { oneDisk, type OneDisk } from './oneDisk';

/**
 * A Python app's venv as a dependency layer (archive/layers.ts): it leaves the artifact, is packed to the same
 * bytes by a cold rebuild, is reused without packing when the build cache gives it back untouched, and runs
 * from the layer through the release's symlink, at another path than it was built at.
 */
describe('Dependency layers: a Python venv (local builder + process runtime, one disk)', function () {
  this.timeout(600_000);
  const app = 'venv-layered';
  // Unset when the host has no Python (the suite is skipped).
  let h: OneDisk | undefined;
  let dir: string;

  before(async function () {
    if (!findPython()) this.skip();
    h = await oneDisk(app);
    dir = h.dir;
  });
  after(async function () {
    await h?.close();
  });

  const disk = (): OneDisk => {
    assert.ok(h, 'the harness is up');
    return h;
  };
  const build = (logs: string[]) => disk().build('python-flask', logs);
  const release: OneDisk['release'] = (id, result, logs) => disk().release(id, result, logs);
  const served = () => disk().served();
  const listing: OneDisk['listing'] = (result) => disk().listing(result);

  function layerSha(logs: string[]): string {
    const line = logs.find((l) => l.startsWith('Dependency layer .venv '));
    const sha = /sha256 ([0-9a-f]{12})/.exec(line ?? '')?.[1];
    assert.ok(sha, logs.join('\n'));
    return sha;
  }

  it('ships .venv once, packs it to the same bytes when rebuilt cold, and serves from the linked layer', async function () {
    const firstLogs: string[] = [];
    const first = await build(firstLogs);
    assert.ok(
      firstLogs.some((l) => /^Dependency layer \.venv .*: stored$/.test(l)),
      firstLogs.join('\n'),
    );
    assert.ok(!listing(first.result).some((entry) => entry.startsWith('./.venv/')), 'the artifact has no .venv');

    // Restored untouched from the build cache: the install is skipped and the layer is not even packed.
    const warmLogs: string[] = [];
    const warm = await build(warmLogs);
    assert.ok(
      warmLogs.some((l) => l.startsWith('install skipped')),
      warmLogs.join('\n'),
    );
    assert.ok(
      warmLogs.some((l) => /^Dependency layer \.venv .*: tree unchanged, reused without packing$/.test(l)),
      warmLogs.join('\n'),
    );

    // Cold again (no cache, no index of packed trees): pip installs anew and the layer has the same sha256.
    await rm(join(dir, 'cache'), { recursive: true, force: true });
    await rm(join(dir, 'work', 'layer-index'), { recursive: true, force: true });
    const coldLogs: string[] = [];
    await build(coldLogs);
    assert.ok(!coldLogs.some((l) => l.startsWith('install skipped')), coldLogs.join('\n'));
    assert.ok(
      coldLogs.some((l) => /^Dependency layer \.venv .*: unchanged, reused$/.test(l)),
      coldLogs.join('\n'),
    );
    assert.equal(layerSha(coldLogs), layerSha(firstLogs));

    const releaseLogs: string[] = [];
    await release(first.id, first.result, releaseLogs);
    assert.equal(await served(), 'hello from python-flask');
    const venv = join(dir, 'data', 'releases', app, first.id, '.venv');
    assert.ok((await lstat(venv)).isSymbolicLink(), 'the release links the layer');
    assert.match(await readlink(venv), new RegExp(`/layers/${app}/[0-9a-f]{64}/\\.venv$`));
    // Its scripts name no build path: they find the venv's python through PATH.
    assert.equal((await readFile(join(venv, 'bin', 'gunicorn'), 'utf8')).split('\n')[0], '#!/usr/bin/env python3');

    const redeployLogs: string[] = [];
    await release(warm.id, warm.result, redeployLogs);
    assert.equal(await served(), 'hello from python-flask');
    assert.ok(
      redeployLogs.some((l) => /^Dependency layer \.venv .* already on disk: linked$/.test(l)),
      redeployLogs.join('\n'),
    );
  });
});
