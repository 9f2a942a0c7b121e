import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { LocalBuilder } from '../../src/adapters/builder/local/localBuilder';
import { ProcessRuntime } from '../../src/adapters/runtime/process/processRuntime';
import type { BuildResult } from '../../src/ports/builder';
import { RouteTable } from '../../src/proxy/routes';
import { FIXTURES_DIR } from './builder.contract';

/**
 * A Next.js standalone server runs from its own directory with the node_modules Next traced into it: the
 * release holds that directory alone (with .next/static and public/ copied in), not the root's node_modules,
 * not even as a dependency layer.
 */
describe('Next.js standalone release (local builder + process runtime, one disk)', function () {
  this.timeout(300_000);
  const app = 'standalone';
  let dir: string;
  let runtime: ProcessRuntime;
  let routes: RouteTable;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'release-standalone-'));
    routes = new RouteTable();
    runtime = new ProcessRuntime({
      dataDir: join(dir, 'data'),
      artifacts: new FsArtifactStore(join(dir, 'artifacts')),
      routes,
      urlFor: (name) => `http://${name}.localhost`,
      healthTimeoutMs: 60_000,
      stopGraceMs: 2000,
    });
  });
  after(async () => {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ships only .next/standalone and serves from it', async () => {
    const id = randomUUID();
    const sourceDir = join(dir, `src-${id}`);
    // The stub writes what `output: "standalone"` writes; the root's installed packages stand beside it.
    await cp(join(FIXTURES_DIR, 'next-output-stub'), sourceDir, { recursive: true });
    await mkdir(join(sourceDir, 'node_modules', 'next'), { recursive: true });
    await writeFile(join(sourceDir, 'node_modules', 'next', 'package.json'), '{"name":"next"}');
    const builder = new LocalBuilder({
      artifacts: new FsArtifactStore(join(dir, 'artifacts')),
      workDir: join(dir, 'work'),
      homeDir: join(dir, 'home'),
      limits: { timeoutMs: 120_000, maxOutputBytes: 10 * 1024 * 1024, maxMemoryMb: 2048 },
      dependencyLayers: true,
    });
    const logs: string[] = [];
    const signal = new AbortController().signal;
    const result: BuildResult = await builder.build(
      {
        deploymentId: id,
        app,
        repo: 'fixtures/next-output-stub',
        commitSha: 'c0ffee'.padEnd(40, '0'),
        sourceDir,
        cloneUrl: '',
        sealedToken: '',
        overrides: {},
        env: {},
      },
      { signal, log: (line) => logs.push(line) },
    );
    assert.ok(
      logs.some((l) => l.startsWith('Shipping only .next/standalone')),
      logs.join('\n'),
    );
    assert.ok(!logs.some((l) => l.startsWith('Dependency layer')), logs.join('\n'));
    assert.equal(result.plan.workdir, '.next/standalone');

    assert.equal(result.artifact.kind, 'tarball');
    const tarball = join(dir, 'artifacts', 'blobs', ...result.artifact.key.split('/'));
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !l.endsWith('/'));
    assert.deepEqual(files.sort(), [
      './.next/standalone/.next/static/chunks/main.js',
      './.next/standalone/public/robots.txt',
      './.next/standalone/server.js',
    ]);

    await runtime.release(
      { app, deploymentId: id, artifact: result.artifact, plan: result.plan, env: {} },
      { signal, log: () => undefined },
    );
    const target = routes.get(app);
    assert.ok(target, 'the app has a route');
    const base = `http://${target.host}:${target.port}`;
    assert.equal(await (await fetch(`${base}/`)).text(), 'hello from next-output-stub');
    assert.match(await (await fetch(`${base}/robots.txt`)).text(), /next-output-stub public file/);
  });
});
