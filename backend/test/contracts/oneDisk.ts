import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { LocalBuilder } from '../../src/adapters/builder/local/localBuilder';
import { ProcessRuntime } from '../../src/adapters/runtime/process/processRuntime';
import { ReleaseLayers } from '../../src/adapters/runtime/process/releaseLayers';
import { BuildCache } from '../../src/cache/buildCache';
import type { BuildResult } from '../../src/ports/builder';
import { RouteTable } from '../../src/proxy/routes';
import { FIXTURES_DIR } from './builder.contract';

/**
 * The embedded release path on one disk, as `npm start` wires it: the local builder packing dependency layers
 * (with an app build cache), fs artifacts, and the process runtime that links them. One app per harness.
 */
export interface OneDisk {
  dir: string;
  routes: RouteTable;
  runtime: ProcessRuntime;
  /** Builds a copy of `fixture`, after `prepare` has changed the copy if given. */
  build(
    fixture: string,
    logs: string[],
    prepare?: (sourceDir: string) => Promise<void>,
  ): Promise<{ id: string; result: BuildResult }>;
  release(id: string, result: BuildResult, logs: string[]): Promise<void>;
  /** What the live release answers on `path`. */
  served(path?: string): Promise<string>;
  /** The artifact's members, as tar lists them. */
  listing(result: BuildResult): string[];
  close(): Promise<void>;
}

/**
 * `handoff`: the builder hands new layers' trees to the runtime's layers, as embedded (`npm start`) does; without it
 * the runtime unpacks every layer from its tarball, as a Docksage on another disk does.
 */
export async function oneDisk(app: string, opts: { handoff?: boolean } = {}): Promise<OneDisk> {
  const dir = await mkdtemp(join(tmpdir(), `release-${app}-`));
  const artifacts = new FsArtifactStore(join(dir, 'artifacts'));
  const cache = new BuildCache({
    dir: join(dir, 'cache'),
    maxAppBytes: 1024 ** 3,
    maxTotalBytes: 1024 ** 3,
    salt: Buffer.alloc(32, 7),
  });
  const builder = new LocalBuilder({
    artifacts,
    workDir: join(dir, 'work'),
    homeDir: join(dir, 'home'),
    limits: { timeoutMs: 300_000, maxOutputBytes: 10 * 1024 * 1024, maxMemoryMb: 2048 },
    dependencyLayers: true,
    // As embedded: dependencies come back from the app's build cache, untouched, on the next build.
    cache,
    layerHandoff: opts.handoff ? new ReleaseLayers(join(dir, 'data'), artifacts) : undefined,
  });
  const routes = new RouteTable();
  const runtime = new ProcessRuntime({
    dataDir: join(dir, 'data'),
    artifacts,
    routes,
    urlFor: (name) => `http://${name}.localhost`,
    healthTimeoutMs: 60_000,
    stopGraceMs: 2000,
  });
  return {
    dir,
    routes,
    runtime,
    async build(fixture, logs, prepare) {
      const id = randomUUID();
      const sourceDir = join(dir, `src-${id}`);
      await cp(join(FIXTURES_DIR, fixture), sourceDir, { recursive: true });
      await prepare?.(sourceDir);
      const result = await builder.build(
        {
          deploymentId: id,
          app,
          repo: `fixtures/${fixture}`,
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
    },
    async release(id, result, logs) {
      await runtime.release(
        { app, deploymentId: id, artifact: result.artifact, plan: result.plan, env: {} },
        { signal: new AbortController().signal, log: (line) => logs.push(line) },
      );
    },
    async served(path = '/') {
      const target = routes.get(app);
      assert.ok(target, 'the app has a route');
      return (await fetch(`http://${target.host}:${target.port}${path}`)).text();
    },
    listing(result) {
      assert.equal(result.artifact.kind, 'tarball');
      const file = join(dir, 'artifacts', 'blobs', ...result.artifact.key.split('/'));
      return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n');
    },
    async close() {
      await cache.flush();
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
