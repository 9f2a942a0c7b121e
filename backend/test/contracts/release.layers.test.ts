import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lstat, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { oneDisk, type OneDisk } from './oneDisk';

/**
 * The release path on one disk: node_modules ships as a content-addressed layer the process runtime unpacks
 * once and links into each release, a rollback reuses the kept unpacked release, and a layer whose bytes do
 * not match the sha256 its artifact pins is refused.
 */
describe('Dependency layers and kept releases (local builder + process runtime, one disk)', function () {
  this.timeout(600_000);
  const app = 'layered';
  let h: OneDisk;
  let dir: string;

  before(async function () {
    h = await oneDisk(app);
    dir = h.dir;
  });
  after(async function () {
    await h.close();
  });

  const build = (logs: string[]) => h.build('node-express', logs);
  const release: OneDisk['release'] = (id, result, logs) => h.release(id, result, logs);
  const served = () => h.served();
  const listing: OneDisk['listing'] = (result) => h.listing(result);

  it('ships node_modules once, links it into each release, and rolls back to the kept unpacked release', async function () {
    const buildLogs: string[] = [];
    const first = await build(buildLogs);
    assert.ok(
      buildLogs.some((l) => /^Dependency layer node_modules .*: stored$/.test(l)),
      buildLogs.join('\n'),
    );
    assert.ok(
      !listing(first.result).some((entry) => entry.startsWith('./node_modules/')),
      'the artifact has no node_modules',
    );
    assert.ok(listing(first.result).includes('./.cloudsmith/layers.json'));

    const secondLogs: string[] = [];
    const second = await build(secondLogs);
    assert.ok(
      secondLogs.some((l) => /^Dependency layer node_modules .*: tree unchanged, reused without packing$/.test(l)),
      secondLogs.join('\n'),
    );

    const releaseLogs: string[] = [];
    await release(first.id, first.result, releaseLogs);
    assert.equal(await served(), 'hello from node-express');
    assert.ok(
      releaseLogs.some((l) => /^Dependency layer node_modules .* unpacked in/.test(l)),
      releaseLogs.join('\n'),
    );
    const linked = await lstat(join(dir, 'data', 'releases', app, first.id, 'node_modules'));
    assert.ok(linked.isSymbolicLink(), 'the release links the layer');

    const redeployLogs: string[] = [];
    await release(second.id, second.result, redeployLogs);
    assert.equal(await served(), 'hello from node-express');
    assert.ok(
      redeployLogs.some((l) => /already on disk: linked$/.test(l)),
      redeployLogs.join('\n'),
    );
    assert.ok(!redeployLogs.some((l) => /unpacked in/.test(l)));

    // As the API rolls back: a new deployment of the first one's artifact.
    const rollbackLogs: string[] = [];
    await release(randomUUID(), first.result, rollbackLogs);
    assert.equal(await served(), 'hello from node-express');
    assert.ok(
      rollbackLogs.some((l) => l.startsWith('Reusing the kept unpacked release')),
      rollbackLogs.join('\n'),
    );
    assert.ok(!rollbackLogs.includes('Downloading the artifact'));
    assert.equal((await readdir(join(dir, 'data', 'layers', app))).length, 1, 'one layer serves all three releases');
  });

  it('refuses a layer whose bytes do not match the sha256 the artifact pins', async function () {
    const logs: string[] = [];
    const { id, result } = await build(logs);
    // A fresh disk for the runtime (nothing unpacked yet), and a tampered layer in the store.
    await rm(join(dir, 'data', 'layers'), { recursive: true, force: true });
    const layerLine = logs.find((l) => l.startsWith('Dependency layer node_modules'));
    assert.ok(layerLine);
    const layersDir = join(dir, 'artifacts', 'blobs', 'artifacts', app, 'layers');
    for (const name of await readdir(layersDir)) await writeFile(join(layersDir, name), 'not the layer');
    const releaseLogs: string[] = [];
    await assert.rejects(release(id, result, releaseLogs), /corrupt/);
    // The release that was live keeps serving.
    assert.equal(await served(), 'hello from node-express');
  });
});
