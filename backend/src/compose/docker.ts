import { join } from 'node:path';
import type { Config } from '../config';
import { DockerBuilder } from '../adapters/builder/docker/dockerBuilder';
import { DockerCli } from '../adapters/docker/cli';
import { DockerRuntime } from '../adapters/runtime/docker/dockerRuntime';
import type { RouteTable } from '../proxy/routes';

/** The Docker builder as CLOUDSMITH_DOCKER_HOST / CLOUDSMITH_REGISTRY / CLOUDSMITH_BASE_IMAGE ... configure it. */
export function dockerBuilderFromConfig(config: Config, options: { push?: boolean } = {}): DockerBuilder {
  return new DockerBuilder({
    ...options,
    docker: new DockerCli({ host: config.docker.host }),
    registry: config.docker.registry,
    baseImage: config.docker.baseImage,
    images: { python: config.docker.pythonImage, go: config.docker.goImage },
    useRepoDockerfile: config.docker.useRepoDockerfile,
    limits: config.build,
    workDir: join(config.dataDir, 'work', 'docker-builder'),
  });
}

/** The Docker runtime with the configured engine and per-app limits. */
export function dockerRuntimeFromConfig(
  config: Config,
  deps: { routes: RouteTable; urlFor(app: string): string },
): DockerRuntime {
  return new DockerRuntime({
    docker: new DockerCli({ host: config.docker.host }),
    routes: deps.routes,
    urlFor: (app) => deps.urlFor(app),
    healthTimeoutMs: config.deploy.healthTimeoutMs,
    memoryMb: config.docker.memoryMb,
    cpus: config.docker.cpus,
    pidsLimit: config.docker.pidsLimit,
  });
}
