import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DockerBuilder } from '../../src/adapters/builder/docker/dockerBuilder';
import { DockerCli } from '../../src/adapters/docker/cli';
import { appFilter } from '../../src/adapters/docker/names';
import type { BuildResult } from '../../src/ports/builder';
import { createReverseProxy } from '../../src/proxy/reverseProxy';
import { fetchApp } from '../helpers/appFetch';
import { requirePeer } from '../peers';
import type { RouteTable } from '../../src/proxy/routes';

/** The engine, registry and base image scripts/docker.sh provisions; undefined when it did not run. */
export interface DockerTestEnv {
  host: string;
  registry: string;
  baseImage: string;
}

export function dockerTestEnv(): DockerTestEnv | undefined {
  const host = process.env.CLOUDSMITH_TEST_DOCKER;
  const registry = process.env.CLOUDSMITH_TEST_REGISTRY;
  const baseImage = process.env.CLOUDSMITH_TEST_BASE_IMAGE;
  if (!host || !registry || !baseImage) return undefined;
  return { host, registry, baseImage };
}

export const SKIP_MESSAGE =
  'CLOUDSMITH_TEST_DOCKER/REGISTRY/BASE_IMAGE are unset: run `eval "$(scripts/docker.sh env)"` after `scripts/docker.sh up`';

/** `before` hook body: the engine; without one the suite fails, or skips when docker is in CLOUDSMITH_TEST_SKIP. */
export function requireDocker(ctx: Mocha.Context): DockerTestEnv {
  return requirePeer(ctx, 'docker', dockerTestEnv(), SKIP_MESSAGE);
}

export const TEST_LIMITS = { timeoutMs: 300_000, maxOutputBytes: 8 * 1024 * 1024, maxMemoryMb: 1024 };

export function testBuilder(
  env: DockerTestEnv,
  options: Partial<ConstructorParameters<typeof DockerBuilder>[0]> = {},
): DockerBuilder {
  return new DockerBuilder({
    docker: new DockerCli({ host: env.host }),
    registry: env.registry,
    baseImage: env.baseImage,
    useRepoDockerfile: 'auto',
    limits: TEST_LIMITS,
    ...options,
  });
}

/** Containers, then images, of apps a test made (by the label every one of them carries). */
export async function removeApps(docker: DockerCli, apps: Iterable<string>): Promise<void> {
  for (const app of apps) {
    const containers = (await docker.output(['ps', '--all', '--quiet', ...appFilter(app)])).split('\n').filter(Boolean);
    if (containers.length) await docker.run(['rm', '--force', ...containers]).catch(() => undefined);
    const images = (await docker.output(['image', 'ls', '--all', '--quiet', ...appFilter(app)]))
      .split('\n')
      .filter(Boolean);
    if (images.length) await docker.run(['image', 'rm', '--force', ...new Set(images)]).catch(() => undefined);
  }
}

/** Writes `files` into a new directory and builds it as `app`. */
export async function buildFiles(
  builder: DockerBuilder,
  app: string,
  files: Record<string, string>,
  log: string[] = [],
): Promise<BuildResult> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudsmith-docker-src-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  try {
    return await builder.build(
      {
        deploymentId: randomUUID(),
        app,
        repo: `test/${app}`,
        commitSha: randomUUID().replace(/-/g, ''),
        sourceDir: dir,
        cloneUrl: '',
        sealedToken: '',
        overrides: {},
        env: {},
      },
      { signal: new AbortController().signal, log: (line) => log.push(line) },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A reverse proxy on a loopback port in front of `routes`, as the platform runs it. */
export async function startProxy(routes: RouteTable): Promise<{
  port: number;
  fetchApp(app: string, path?: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}> {
  const proxy = createReverseProxy({ routes, appDomain: 'localhost' });
  const server = http.createServer((req, res) => {
    const app = proxy.appFor(req.headers.host);
    if (app) proxy.web(req, res, app);
    else res.writeHead(421).end('not an app host');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    fetchApp: (app, path = '/') => fetchApp(`http://${app}.localhost:${port}`, path),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
