import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { LocalBuilder } from '../../src/adapters/builder/local/localBuilder';
import { BuildCache } from '../../src/cache/buildCache';
import { ProcessRuntime } from '../../src/adapters/runtime/process/processRuntime';
import type { BuildResult } from '../../src/ports/builder';
import type { ReleaseContext } from '../../src/ports/runtime';
import { RouteTable } from '../../src/proxy/routes';
import { FIXTURES_DIR } from './builder.contract';

/**
 * The release path on one disk: node_modules ships as a content-addressed layer the process runtime unpacks
 * once and links into each release, a rollback reuses the kept unpacked release, and a layer whose bytes do
 * not match the sha256 its artifact pins is refused.
 */
describe('Dependency layers and kept releases (local builder + process runtime, one disk)', function () {
  this.timeout(600_000);
  const app = 'layered';
  let dir: string;
  let artifacts: FsArtifactStore;
  let builder: LocalBuilder;
  let routes: RouteTable;
  let runtime: ProcessRuntime;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'release-layers-'));
    artifacts = new FsArtifactStore(join(dir, 'artifacts'));
    builder = new LocalBuilder({
      artifacts,
      workDir: join(dir, 'work'),
      homeDir: join(dir, 'home'),
      limits: { timeoutMs: 300_000, maxOutputBytes: 10 * 1024 * 1024, maxMemoryMb: 2048 },
      dependencyLayers: true,
      // As embedded: node_modules comes back from the app's build cache, untouched, on the next build.
      cache: new BuildCache({
        dir: join(dir, 'cache'),
        maxAppBytes: 1024 ** 3,
        maxTotalBytes: 1024 ** 3,
        salt: Buffer.alloc(32, 7),
      }),
    });
    routes = new RouteTable();
    runtime = new ProcessRuntime({
      dataDir: join(dir, 'data'),
      artifacts,
      routes,
      urlFor: (name) => `http://${name}.localhost`,
      healthTimeoutMs: 60_000,
      stopGraceMs: 2000,
    });
  });
  after(async function () {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function build(logs: string[]): Promise<{ id: string; result: BuildResult }> {
    const id = randomUUID();
    const sourceDir = join(dir, `src-${id}`);
    await cp(join(FIXTURES_DIR, 'node-express'), sourceDir, { recursive: true });
    const result = await builder.build(
      {
        deploymentId: id,
        app,
        repo: 'fixtures/node-express',
        commitSha: 'c0ffee'.padEnd(40, '0'),
        sourceDir,
        cloneUrl: '',
        sealedToken: '',
        overrides: {},
        env: {},
      },
      { signal: new AbortController().signal, log: (line) => logs.push(line) },
    );
    return { id, result };
  }

  async function release(id: string, result: BuildResult, logs: string[]): Promise<void> {
    const ctx: ReleaseContext = { signal: new AbortController().signal, log: (line) => logs.push(line) };
    await runtime.release({ app, deploymentId: id, artifact: result.artifact, plan: result.plan, env: {} }, ctx);
  }

  async function served(): Promise<string> {
    const target = routes.get(app);
    assert.ok(target, 'the app has a route');
    return (await fetch(`http://${target.host}:${target.port}/`)).text();
  }

  function listing(result: BuildResult): string[] {
    assert.equal(result.artifact.kind, 'tarball');
    const file = join(dir, 'artifacts', 'blobs', ...result.artifact.key.split('/'));
    return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n');
  }

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
