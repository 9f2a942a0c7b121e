import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BAKED_ARTIFACT, writeSingleFileLayer } from '../../src/adapters/runtime/ecs/images';
import { RegistryClient } from '../../src/adapters/runtime/ecs/registry';
import { requireDocker } from '../docker/helpers';

const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** The entries of an uncompressed ustar archive: name, type and content. */
function entries(tar: Buffer): { name: string; type: string; content: Buffer }[] {
  const out = [];
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('ascii').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, ''), 8);
    const type = String.fromCharCode(header[156]);
    out.push({ name, type, content: tar.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/**
 * The artifact layer the ECS image builder adds to the runner image, made and pushed without holding the artifact
 * in memory: written in one streaming pass with both of its digests, and pushed to the real registry (the one
 * scripts/docker.sh provisions) in chunks. The whole image path runs in awsPath.e2e.test.ts.
 */
describe('ECS image layer: streamed to a file, pushed in chunks', function () {
  this.timeout(120_000);
  let dir: string;
  const artifact = randomBytes(2_500_000 + 123);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'image-layer-'));
    writeFileSync(join(dir, 'artifact.tar.gz'), artifact);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the artifact at its baked path, and names the tar (diff_id) and the gzip (digest) by their sha256', async () => {
    const layer = await writeSingleFileLayer(BAKED_ARTIFACT, join(dir, 'artifact.tar.gz'), join(dir, 'layer'));
    const gz = readFileSync(join(dir, 'layer'));
    const tar = gunzipSync(gz);
    assert.equal(layer.digest, sha(gz));
    assert.equal(layer.size, gz.length);
    assert.equal(layer.diffId, sha(tar));
    const listed = entries(tar);
    assert.deepEqual(
      listed.map((e) => `${e.type} ${e.name}`),
      ['5 opt/', '5 opt/cloudsmith/', '0 opt/cloudsmith/artifact.tar.gz'],
    );
    assert.ok(listed[2].content.equals(artifact), 'the artifact, byte for byte');
    // The same artifact makes the same layer: a rollback's image is the same blob.
    const again = await writeSingleFileLayer(BAKED_ARTIFACT, join(dir, 'artifact.tar.gz'), join(dir, 'layer2'));
    assert.deepEqual(again, layer);
  });

  it('a file goes up in chunks at their offsets and reads back whole; pushing it again finds it there', async function () {
    const docker = requireDocker(this);
    const file = join(dir, 'artifact.tar.gz');
    // 1 MiB chunks: three of them, the last one short.
    const client = new RegistryClient(docker.registry, undefined, 1024 * 1024);
    const repo = `cloudsmith-test/chunks-${randomBytes(4).toString('hex')}`;
    const digest = sha(artifact);
    await client.pushBlobFile(repo, file, digest);
    assert.ok((await client.blob(repo, digest)).equals(artifact));
    await client.pushBlobFile(repo, file, digest);
    // A wrong digest is refused by the registry at the closing PUT, and the error says which request failed.
    await assert.rejects(client.pushBlobFile(repo, file, sha(Buffer.from('other'))), /PUT .* 400/);
  });
});
