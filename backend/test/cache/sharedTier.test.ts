import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ArtifactStore } from '../../src/adapters/artifacts/s3/s3ArtifactStore';
import { BuildCache } from '../../src/cache/buildCache';
import { SharedCacheTier } from '../../src/cache/sharedTier';
import type { CacheSpec } from '../../src/cache/stacks';
import { awsSettings, requireMoto, uniqueName } from '../aws/motoEnv';

const MiB = 1024 * 1024;

const spec: CacheSpec = {
  lockfiles: ['deps.lock'],
  toolchain: 'tool 1.0',
  commands: 'install: x\nbuild: y',
  dirs: [{ path: 'deps', exact: true }],
  installReusable: true,
  storeEnv: (store) => ({ STORE: store }),
};

/**
 * Two Buildrelay replicas, each with its own disk, sharing one S3 bucket (moto): what one saved, the other
 * restores; a corrupt shared copy is discarded and the build goes on cold; deleting the app deletes its copy.
 */
describe('build cache: the shared tier in S3 (moto)', function () {
  this.timeout(60_000);
  let endpoint = '';
  let base: string;
  let store: S3ArtifactStore;
  let trees = 0;
  const bucket = uniqueName('cs-cache-');

  before(function () {
    endpoint = requireMoto(this);
  });
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'cloudsmith-shared-cache-'));
    store = new S3ArtifactStore({ ...awsSettings(endpoint), bucket, createBucket: true });
  });
  afterEach(() => {
    store.client.destroy();
    rmSync(base, { recursive: true, force: true });
  });

  function replica(name: string): BuildCache {
    const dir = join(base, name);
    return new BuildCache({
      dir,
      maxAppBytes: 100 * MiB,
      maxTotalBytes: 1000 * MiB,
      // Derived from the platform key: the same on every replica.
      salt: Buffer.alloc(32, 7),
      shared: new SharedCacheTier(store, join(dir, 'tmp')),
    });
  }

  function tree(): string {
    const root = join(base, `tree-${++trees}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'deps.lock'), 'v1');
    return root;
  }

  /** One build on `cache`: what it logged, and whether its install was skipped. */
  async function buildOn(cache: BuildCache, app: string): Promise<{ lines: string[]; skipped: boolean; root: string }> {
    const root = tree();
    const lines: string[] = [];
    const lease = await cache.open(app, spec, root, {}, (l) => lines.push(l));
    if (!lease.installRestored) {
      mkdirSync(join(root, 'deps', 'pkg'), { recursive: true });
      writeFileSync(join(root, 'deps', 'pkg', 'index.js'), 'installed');
      mkdirSync(lease.mounts[0], { recursive: true });
      writeFileSync(join(lease.mounts[0], 'tarball'), 'downloaded');
    }
    await lease.save((l) => lines.push(l));
    await cache.flush();
    return { lines, skipped: lease.installRestored, root };
  }

  it('a replica with an empty disk restores what another one saved, package store included', async () => {
    const app = uniqueName('web-');
    const first = await buildOn(replica('a'), app);
    assert.equal(first.skipped, false);
    const b = replica('b');
    const second = await buildOn(b, app);
    assert.equal(second.skipped, true, second.lines.join('\n'));
    assert.match(second.lines[0], /^cache fetched from the shared store \(\d+\.\d MB, \d+\.\d\d s\)$/);
    assert.match(second.lines[1], /^cache restored \(\d+\.\d MB, \d+\.\d\d s\): deps, package store$/);
    assert.equal(readFileSync(join(b.storeDir(app), 'tarball'), 'utf8'), 'downloaded');
  });

  it('a corrupt shared copy is discarded and the build goes on cold', async () => {
    const app = uniqueName('web-');
    await buildOn(replica('a'), app);
    // Replaced behind the platform's back: the record's sha256 no longer matches.
    await store.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `cache/${app}/buildrelay.tar.gz`, Body: 'not a tarball' }),
    );
    const cold = await buildOn(replica('b'), app);
    assert.equal(cold.skipped, false);
    assert.match(cold.lines[0], /^cache not restored: no cache yet; the shared copy was discarded: /);
  });

  it('an app never built anywhere says so; deleting an app deletes its shared copy', async () => {
    const app = uniqueName('web-');
    const none = await buildOn(replica('a'), app);
    assert.equal(none.lines[0], 'cache not restored: no cache yet; none in the shared store either');
    await replica('a').remove(app);
    assert.equal(await store.exists(`cache/${app}/buildrelay.json`), false);
    const again = await buildOn(replica('b'), app);
    assert.equal(again.skipped, false);
  });
});
