import { join } from 'node:path';
import type { Config } from '../config';
import { dataPath } from '../config';
import type { ArtifactStore } from '../ports/artifacts';
import type { LayerHandoff } from '../archive/layers';
import type { Builder } from '../ports/builder';
import type { DockerBuilder } from '../adapters/builder/docker/dockerBuilder';
import type { DockerfileBuilder } from '../adapters/builder/local/localBuilder';
import type { EventBus } from '../ports/bus';
import type { Runtime } from '../ports/runtime';
import type { RepoWrites } from '../ports/repoWrites';
import type { SourceHost } from '../ports/source';
import type { Store } from '../ports/store';
import type { RouteTable } from '../proxy/routes';
import type { Sandbox } from '../sandbox/sandbox';
import type { Sealer } from '../security/sealer';
import type { Logger } from '../lib/logger';
import { MemoryBus } from '../adapters/bus/memory/memoryBus';
import { buildCacheFromConfig } from '../cache/fromConfig';
import { BUILD_CACHE_SALT } from '../cache/key';
import { GitHubRepoWrites } from '../adapters/github/githubRepoWrites';
import { GitHubRest } from '../adapters/github/githubRest';

/*
 * The only place adapters are chosen. Every adapter with weight (a native module, an SDK, a client) is required
 * on demand, the embedded ones included: `npm start` never loads the AWS SDK, kafkajs or the Docker client, and
 * the artifact-uploaded Lambda (compose/lambda.ts) never loads better-sqlite3's native module or the local builder.
 * `require`, not `import()`: the factories stay synchronous for their callers.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- on-demand loading, see above */

export function createStore(config: Config): Store {
  switch (config.store) {
    case 'sqlite': {
      const { SqliteStore } =
        require('../adapters/store/sqlite/sqliteStore') as typeof import('../adapters/store/sqlite/sqliteStore');
      return new SqliteStore(dataPath(config, 'cloudsmith.db'));
    }
    case 'dynamodb': {
      const { DynamoStore } =
        require('../adapters/store/dynamodb/dynamoStore') as typeof import('../adapters/store/dynamodb/dynamoStore');
      return new DynamoStore({
        region: config.aws.region,
        endpoint: config.aws.endpoint,
        tablePrefix: config.aws.tablePrefix,
      });
    }
  }
}

export function createBus(config: Config, logger: Logger): EventBus {
  switch (config.bus) {
    case 'memory':
      return new MemoryBus();
    case 'kafka': {
      const { KafkaBus } = require('../adapters/bus/kafka/kafkaBus') as typeof import('../adapters/bus/kafka/kafkaBus');
      return new KafkaBus({ ...config.kafka, logger });
    }
  }
}

export function createArtifacts(config: Config): ArtifactStore {
  switch (config.artifacts) {
    case 'fs': {
      const { FsArtifactStore } =
        require('../adapters/artifacts/fs/fsArtifactStore') as typeof import('../adapters/artifacts/fs/fsArtifactStore');
      return new FsArtifactStore(dataPath(config, 'artifacts'));
    }
    case 's3': {
      const { S3ArtifactStore } =
        require('../adapters/artifacts/s3/s3ArtifactStore') as typeof import('../adapters/artifacts/s3/s3ArtifactStore');
      return new S3ArtifactStore({
        region: config.aws.region,
        endpoint: config.aws.endpoint,
        bucket: config.aws.bucket,
        createBucket: !!config.aws.endpoint,
      });
    }
  }
}

export function createSource(config: Config): SourceHost {
  return new GitHubRest({ apiUrl: config.githubApiUrl, cacheMs: config.tokenCacheMs });
}

export function createRepoWrites(config: Config): RepoWrites {
  return new GitHubRepoWrites({ apiUrl: config.githubApiUrl });
}

export interface BuilderDeps {
  artifacts: ArtifactStore;
  sealer: Sealer;
  workDir: string;
  /** Where the local builder runs build steps (see sandbox/startup.ts). */
  sandbox?: Sandbox;
}

export function createBuilder(config: Config, deps: BuilderDeps): Builder {
  const limits = config.build;
  switch (config.builder) {
    case 'local': {
      const { LocalBuilder } =
        require('../adapters/builder/local/localBuilder') as typeof import('../adapters/builder/local/localBuilder');
      return new LocalBuilder({
        artifacts: deps.artifacts,
        workDir: join(deps.workDir, 'local-builder'),
        limits,
        sandbox: deps.sandbox,
        stepLimits: { cpus: limits.cpus, pids: limits.pids },
        dockerfileBuilder: dockerfileOnlyBuilder(config),
        cache: buildCacheFromConfig(config, deps.artifacts, deps.sealer.derive(BUILD_CACHE_SALT)),
        // node_modules as a layer the process runtime links; an ECS image build needs it inside the one tarball.
        dependencyLayers: config.runtime === 'process',
        layerHandoff: layerHandoff(config, deps.artifacts),
      });
    }
    case 'docker': {
      const { dockerBuilderFromConfig } = require('./docker') as typeof import('./docker');
      return dockerBuilderFromConfig(config);
    }
    case 'jenkins': {
      const { jenkinsBuilderFromConfig } = require('./jenkins') as typeof import('./jenkins');
      return jenkinsBuilderFromConfig(config, {
        artifacts: deps.artifacts,
        openToken: (sealed: string) => deps.sealer.open(sealed),
        cacheSalt: deps.sealer.derive(BUILD_CACHE_SALT),
      });
    }
  }
}

/**
 * Embedded, the process runtime that releases this builder's layers runs in this process on this data dir: a layer's
 * tree can move there as built. Distributed, another Docksage may release it, on another disk.
 */
function layerHandoff(config: Config, artifacts: ArtifactStore): LayerHandoff | undefined {
  if (config.mode !== 'embedded' || config.runtime !== 'process') return undefined;
  const { ReleaseLayers } =
    require('../adapters/runtime/process/releaseLayers') as typeof import('../adapters/runtime/process/releaseLayers');
  return new ReleaseLayers(config.dataDir, artifacts);
}

/**
 * Repos with only a Dockerfile, in the local builder: the Docker builder, loaded when such a repo comes. Embedded,
 * the image stays on the engine that built it (the process runtime hands it to the Docker runtime there);
 * distributed, it is pushed so the Docksage that releases it can pull it.
 */
function dockerfileOnlyBuilder(config: Config): DockerfileBuilder {
  let builder: DockerBuilder | undefined;
  const docker = (): DockerBuilder => {
    const { dockerBuilderFromConfig } = require('./docker') as typeof import('./docker');
    builder ??= dockerBuilderFromConfig(config, { push: config.mode === 'distributed' });
    return builder;
  };
  return {
    name: 'docker',
    build: (job, ctx) => docker().build(job, ctx),
    engineUnavailable: (signal) => docker().engineUnavailable(signal),
  };
}

export interface RuntimeDeps {
  artifacts: ArtifactStore;
  routes: RouteTable;
  urlFor(app: string): string;
  /** Where the process runtime runs apps (see sandbox/startup.ts). */
  sandbox?: Sandbox;
}

export function createRuntime(config: Config, deps: RuntimeDeps): Runtime {
  switch (config.runtime) {
    case 'process': {
      const { ProcessRuntime } =
        require('../adapters/runtime/process/processRuntime') as typeof import('../adapters/runtime/process/processRuntime');
      const { ByArtifactRuntime } =
        require('../adapters/runtime/byArtifact/byArtifactRuntime') as typeof import('../adapters/runtime/byArtifact/byArtifactRuntime');
      const processes = new ProcessRuntime({
        dataDir: config.dataDir,
        artifacts: deps.artifacts,
        routes: deps.routes,
        urlFor: (app) => deps.urlFor(app),
        healthTimeoutMs: config.deploy.healthTimeoutMs,
        liveness: { intervalMs: config.deploy.livenessIntervalMs, timeoutMs: 3000, failures: 3 },
        sandbox: deps.sandbox,
        appLimits: config.app,
      });
      // Images (Dockerfile-only repos, see dockerfileOnlyBuilder) run on the Docker runtime behind the same proxy.
      return new ByArtifactRuntime({
        tarballs: processes,
        images: () => {
          const { dockerRuntimeFromConfig } = require('./docker') as typeof import('./docker');
          return dockerRuntimeFromConfig(config, { routes: deps.routes, urlFor: (app) => deps.urlFor(app) });
        },
      });
    }
    case 'docker': {
      const { dockerRuntimeFromConfig } = require('./docker') as typeof import('./docker');
      return dockerRuntimeFromConfig(config, { routes: deps.routes, urlFor: (app) => deps.urlFor(app) });
    }
    case 'ecs': {
      const { ecsRuntimeFromConfig } = require('./ecs') as typeof import('./ecs');
      return ecsRuntimeFromConfig(config, deps.artifacts);
    }
  }
}
