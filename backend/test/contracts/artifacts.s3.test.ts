import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ArtifactStore } from '../../src/adapters/artifacts/s3/s3ArtifactStore';
import { awsSettings, requireMoto, uniqueName } from '../aws/motoEnv';
import { describeArtifactStoreContract } from './artifacts.contract';

describe('S3ArtifactStore (moto)', function () {
  let endpoint = '';
  before(function () {
    endpoint = requireMoto(this);
  });

  // One bucket per run (created on first put); the suite's fresh keys keep tests apart.
  const bucket = uniqueName('cs-contract-');
  describeArtifactStoreContract('s3 (moto)', async () => {
    const store = new S3ArtifactStore({
      ...awsSettings(endpoint),
      bucket,
      createBucket: true,
      partSizeBytes: 5 * 1024 * 1024,
    });
    return {
      store,
      cleanup: async () => {
        store.client.destroy();
      },
    };
  });

  describe('S3ArtifactStore specifics (moto)', function () {
    this.timeout(60_000);
    let dir: string;
    let store: S3ArtifactStore;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'artifacts-s3-'));
      store = new S3ArtifactStore({ ...awsSettings(endpoint), bucket, createBucket: true });
    });
    afterEach(async () => {
      store.client.destroy();
      await rm(dir, { recursive: true, force: true });
    });

    it('leaves only the artifact behind when a stream goes up through a staging object, or nothing when it fails', async () => {
      const key = `artifacts/staging/sha/${uniqueName('id-')}.tar.gz`;
      const big = (fail: boolean) =>
        Readable.from(
          (async function* () {
            for (let i = 0; i < 10; i++) yield Buffer.alloc(1024 * 1024, i);
            if (fail) throw new Error('pack failed');
          })(),
        );
      const listed = async () =>
        (await store.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }))).Contents?.map(
          (o) => o.Key,
        ) ?? [];
      await assert.rejects(store.put(key, big(true)), /pack failed/);
      assert.deepEqual(await listed(), []);
      const stored = await store.put(key, big(false));
      assert.deepEqual(await listed(), [key]);
      assert.equal(await store.metadata(key, 'sha256'), stored.sha256);
    });

    it('detects an object replaced behind its back (sha256 metadata no longer matches)', async () => {
      const input = join(dir, 'in');
      await writeFile(input, 'original');
      const key = 'artifacts/tamper/sha/id.tar.gz';
      const stored = await store.putFile(key, input);
      await store.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'tampered', Metadata: { sha256: stored.sha256 } }),
      );
      await assert.rejects(store.getFile(key, join(dir, 'out')), /corrupt/);
      const stream = await store.open(key);
      await assert.rejects(
        (async () => {
          for await (const _chunk of stream) {
            // read to the end: the corruption surfaces as the stream's error
          }
        })(),
        /corrupt/,
      );
    });
  });
});
