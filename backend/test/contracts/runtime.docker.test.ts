import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { DockerCli } from '../../src/adapters/docker/cli';
import { DockerRuntime } from '../../src/adapters/runtime/docker/dockerRuntime';
import type { BuildResult } from '../../src/ports/builder';
import { RouteTable } from '../../src/proxy/routes';
import { buildFiles, removeApps, requireDocker, startProxy, testBuilder } from '../docker/helpers';
import { describeRuntimeContract, type RuntimeFixture, type RuntimeHarness } from './runtime.contract';

// Inside a container the app must listen on all interfaces: the engine forwards the published port to the container's address.
const FIXTURES: Record<RuntimeFixture, Record<string, string>> = {
  node: {
    'package.json': JSON.stringify({ name: 'node-fixture', version: '1.0.0', scripts: { start: 'node server.js' } }),
    'server.js': `
      const http = require('node:http');
      console.log('node fixture: starting');
      http.createServer((req, res) => res.end('hello from the node fixture ' + (process.env.GREETING || ''))).listen(Number(process.env.PORT));
    `,
  },
  static: {
    'index.html': '<!doctype html><title>fixture</title><p>hello from the static fixture</p>\n',
  },
  'never-healthy': {
    'package.json': JSON.stringify({
      name: 'never-healthy-fixture',
      version: '1.0.0',
      scripts: { start: 'node server.js' },
    }),
    'server.js': `
      const http = require('node:http');
      console.log('never-healthy fixture: starting');
      http.createServer((req, res) => { res.statusCode = 500; res.end('database unreachable'); }).listen(Number(process.env.PORT));
    `,
  },
};

describeRuntimeContract('docker', async (suite) => {
  const env = requireDocker(suite);
  const docker = new DockerCli({ host: env.host });
  const builder = testBuilder(env);
  const root = await mkdtemp(join(tmpdir(), 'cloudsmith-runtime-docker-'));
  const routes = new RouteTable();
  const proxy = await startProxy(routes);
  const runtime = new DockerRuntime({
    docker,
    routes,
    urlFor: (app) => `http://${app}.localhost:${proxy.port}`,
    healthTimeoutMs: 10_000,
    memoryMb: 256,
    cpus: 1,
    pidsLimit: 128,
  });
  // Each fixture image is built once (under one image app name) and released under many app names.
  const imageApp = `rtfx-${randomUUID().slice(0, 6)}`;
  const built = new Map<RuntimeFixture, Promise<BuildResult>>();
  const harness: RuntimeHarness = {
    runtime,
    artifacts: new FsArtifactStore(join(root, 'artifacts')),
    fetchApp: (app, path) => proxy.fetchApp(app, path),
    makeArtifact(fixture) {
      const cached = built.get(fixture);
      if (cached) return cached;
      const build = buildFiles(builder, `${imageApp}-${fixture}`, FIXTURES[fixture]);
      built.set(fixture, build);
      return build;
    },
    async cleanup() {
      await runtime.close();
      await proxy.close();
      await removeApps(
        docker,
        [...built.keys()].map((f) => `${imageApp}-${f}`),
      );
      await rm(root, { recursive: true, force: true });
    },
  };
  return harness;
});
