import { join } from 'node:path';
import type { Config } from '../config';
import { DockerBuilder } from '../adapters/builder/docker/dockerBuilder';
import { DockerCli } from '../adapters/docker/cli';
import { DockerRuntime } from '../adapters/runtime/docker/dockerRuntime';
import type { RouteTable } from '../proxy/routes';

/**
 * The Docker builder as CLOUDSMITH_DOCKER_HOST / CLOUDSMITH_REGISTRY / CLOUDSMITH_BASE_IMAGE ... configure it; its
 * caps on the engine are the build cache's (CLOUDSMITH_BUILD_CACHE*) and CLOUDSMITH_DOCKER_KEEP_IMAGES.
 */
export function dockerBuilderFromConfig(config: Config, options: { push?: boolean } = {}): DockerBuilder {
  return new DockerBuilder({
    ...options,
    docker: new DockerCli({ host: config.docker.host, ...(config.docker.cli ? { bin: config.docker.cli } : {}) }),
    registry: config.docker.registry,
    baseImage: config.docker.baseImage,
    images: { python: config.docker.pythonImage, go: config.docker.goImage },
    useRepoDockerfile: config.docker.useRepoDockerfile,
    limits: config.build,
    workDir: join(config.dataDir, 'work', 'docker-builder'),
    buildKit: config.docker.buildKit,
    ...(config.buildCache.enabled
      ? {
          cache: {
            keepReleases: config.docker.keepImages,
            maxAppBytes: config.buildCache.maxAppMb * 1024 * 1024,
            maxTotalBytes: config.buildCache.maxTotalMb * 1024 * 1024,
          },
        }
      : {}),
  });
}

/** The Docker runtime with the configured engine and per-app limits. */
export function dockerRuntimeFromConfig(
  config: Config,
  deps: { routes: RouteTable; urlFor(app: string): string },
): DockerRuntime {
  return new DockerRuntime({
    docker: new DockerCli({ host: config.docker.host, ...(config.docker.cli ? { bin: config.docker.cli } : {}) }),
    routes: deps.routes,
    urlFor: (app) => deps.urlFor(app),
    healthTimeoutMs: config.deploy.healthTimeoutMs,
    memoryMb: config.docker.memoryMb,
    cpus: config.docker.cpus,
    pidsLimit: config.docker.pidsLimit,
  });
}
