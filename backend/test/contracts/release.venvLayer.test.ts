import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { LocalBuilder } from '../../src/adapters/builder/local/localBuilder';
import { ProcessRuntime } from '../../src/adapters/runtime/process/processRuntime';
import { BuildCache } from '../../src/cache/buildCache';
import { findPython } from '../../src/detect/toolchains';
import type { BuildResult } from '../../src/ports/builder';
import type { ReleaseContext } from '../../src/ports/runtime';
import { RouteTable } from '../../src/proxy/routes';
import { FIXTURES_DIR } from './builder.contract';

/**
 * A Python app's venv as a dependency layer (archive/layers.ts): it leaves the artifact, is packed to the same
 * bytes by a cold rebuild, is reused without packing when the build cache gives it back untouched, and runs
 * from the layer through the release's symlink, at another path than it was built at.
 */
describe('Dependency layers: a Python venv (local builder + process runtime, one disk)', function () {
  this.timeout(600_000);
  const app = 'venv-layered';
  let dir: string;
  let artifacts: FsArtifactStore;
  let builder: LocalBuilder;
  let routes: RouteTable;
  let runtime: ProcessRuntime;

  before(function () {
    if (!findPython()) this.skip();
  });
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'release-venv-'));
    artifacts = new FsArtifactStore(join(dir, 'artifacts'));
    builder = new LocalBuilder({
      artifacts,
      workDir: join(dir, 'work'),
      homeDir: join(dir, 'home'),
      limits: { timeoutMs: 300_000, maxOutputBytes: 10 * 1024 * 1024, maxMemoryMb: 2048 },
      dependencyLayers: true,
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
    await cp(join(FIXTURES_DIR, 'python-flask'), sourceDir, { recursive: true });
    const result = await builder.build(
      {
        deploymentId: id,
        app,
        repo: 'fixtures/python-flask',
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
