import { join, resolve } from 'node:path';

/** Every setting, its environment variable and its default, in one place. README's configuration table mirrors this. */
export interface Config {
  mode: 'embedded' | 'distributed';
  /** API, WebSocket and reverse proxy port. */
  port: number;
  /** Where a Docksage process without the API serves its reverse proxy (distributed mode, local runtimes). */
  proxyPort: number;
  host: string;
  /** Base domain apps are served under: http://<app>.<appDomain>:<port>. */
  appDomain: string;
  /** The scheme and port apps' URLs are given with (differs from `port` behind a load balancer). */
  publicUrlTemplate?: string;
  githubApiUrl: string;
  dataDir: string;
  /** Key that seals secrets and tokens at rest (32+ chars); generated into dataDir when unset. */
  secretKey?: string;
  /** Secrets Manager secret holding the platform key, read at start instead of CLOUDSMITH_SECRET_KEY (the Lambda's env stays free of it). */
  secretKeyArn?: string;
  tokenCacheMs: number;

  bus: 'memory' | 'kafka';
  store: 'sqlite' | 'dynamodb';
  artifacts: 'fs' | 's3';
  builder: 'local' | 'docker' | 'jenkins';
  runtime: 'process' | 'docker' | 'ecs';
  /** Who releases an artifact uploaded to S3: Docksage on build.completed, or the artifact-uploaded Lambda (compose/releaseOwner.ts). */
  releaseOwner: 'docksage' | 'lambda';

  build: { timeoutMs: number; maxOutputBytes: number; maxMemoryMb: number; cpus: number; pids: number };
  /** Limits of each live app of the process runtime (cgroups; the Docker runtime has its own under `docker`). */
  app: { memoryMb: number; cpus: number; pids: number };
  /**
   * Per-app build caches of the local builder (dependency dirs, package-manager stores, framework caches) in
   * <dataDir>/cache; an app's cache over maxAppMb is trimmed, and least recently used apps go when all pass maxTotalMb.
   */
  buildCache: { enabled: boolean; maxAppMb: number; maxTotalMb: number };
  /**
   * Run builds and apps without the sandbox where bubblewrap cannot work (a single-user laptop). Off by
   * default: without isolation any user's build could read every other user's secrets.
   */
  allowUnsandboxed: boolean;
  /** Preview apps (pull requests, branches) kept per production app; one more removes the oldest. */
  previews: { maxPerApp: number };
  deploy: {
    healthTimeoutMs: number;
    /** How often a live app (process runtime) is checked; 3 unanswered checks in a row mark it crashed and restart it. */
    livenessIntervalMs: number;
  };

  kafka: {
    brokers: string[];
    clientId: string;
    partitions: number;
    replicationFactor: number;
    topicPrefix: string;
    /** How long a consumer group waits for a silent member (a killed process) before handing its work on. */
    sessionTimeoutMs: number;
  };
  aws: {
    region: string;
    endpoint?: string;
    bucket: string;
    tablePrefix: string;
    ecs: {
      cluster: string;
      subnets: string[];
      securityGroups: string[];
      listenerArn?: string;
      vpcId?: string;
      executionRoleArn?: string;
      /** Role the app's tasks run as (the runner image reads its tarball from S3 with it). */
      taskRoleArn?: string;
      /** Image that runs a tarball artifact (downloads it from S3, then runs the plan's start command); image artifacts run as they are. */
      runnerImage?: string;
      logGroup: string;
      cpu: number;
      memory: number;
      minTasks: number;
      maxTasks: number;
      appDomain: string;
      /** ECR repository app images are pushed to (the runner image plus the artifact as one layer); unset: tasks download the tarball from S3. */
      appRepository?: string;
      /** Registry host to push app images to instead of the one ECR's token names (tests: the local registry as ECR's data plane). */
      registry?: string;
      /** Default capacity for app services: FARGATE, FARGATE_SPOT or the name of an EC2 Auto Scaling group capacity provider. */
      capacity: string;
      /** Per-app capacity, overriding the default (CLOUDSMITH_ECS_APP_CAPACITY=app=FARGATE_SPOT,other=<ec2 provider>). */
      appCapacity: Record<string, string>;
    };
  };
  docker: {
    /** The engine the Docker builder/runtime talk to (DOCKER_HOST syntax); the docker CLI's default when unset. */
    host?: string;
    registry: string;
    baseImage: string;
    /** FROM of generated Dockerfiles for Python apps (build and run) and Go apps (build; they run on baseImage). */
    pythonImage: string;
    goImage: string;
    memoryMb: number;
    cpus: number;
    pidsLimit: number;
    useRepoDockerfile: 'auto' | 'always' | 'never';
    /** The docker client binary (BuildKit needs one that has it: Debian's 20.10, or a newer one with buildx). */
    cli?: string;
    /** Docker builds with BuildKit and per-app cache mounts (build steps then run without the memory limit). */
    buildKit: boolean;
    /** Release images of an app the Docker builder keeps on its engine (rollback targets); older ones go. */
    keepImages: number;
  };
  jenkins: { url?: string; user?: string; apiToken?: string; job: string; pollMs: number; artifactBucket?: string };
}

type Env = Record<string, string | undefined>;

/** The repository's root: this file is backend/src/config.ts, compiled to backend/dist/config.js. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name] || fallback;
  if (!allowed.includes(raw as T)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function loadConfig(env: Env = process.env): Config {
  const mode = oneOf(env, 'CLOUDSMITH_MODE', ['embedded', 'distributed'] as const, 'embedded');
  const distributed = mode === 'distributed';
  // A relative path means relative to where the user typed the command: npm runs scripts from backend/,
  // and says where it was started in INIT_CWD.
  const dataDir = env.CLOUDSMITH_DATA_DIR
    ? resolve(env.INIT_CWD || process.cwd(), env.CLOUDSMITH_DATA_DIR)
    : join(REPO_ROOT, '.cloudsmith');
  return {
    mode,
    port: int(env, 'PORT', 8080),
    proxyPort: int(env, 'CLOUDSMITH_PROXY_PORT', int(env, 'PORT', 8080)),
    host: env.HOST || '127.0.0.1',
    appDomain: env.CLOUDSMITH_APP_DOMAIN || 'localhost',
    publicUrlTemplate: env.CLOUDSMITH_PUBLIC_URL_TEMPLATE || undefined,
    githubApiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    dataDir,
    secretKey: env.CLOUDSMITH_SECRET_KEY || undefined,
    secretKeyArn: env.CLOUDSMITH_SECRET_KEY_ARN || undefined,
    tokenCacheMs: int(env, 'CLOUDSMITH_TOKEN_CACHE_MS', 60_000),

    bus: oneOf(env, 'CLOUDSMITH_BUS', ['memory', 'kafka'] as const, distributed ? 'kafka' : 'memory'),
    store: oneOf(env, 'CLOUDSMITH_STORE', ['sqlite', 'dynamodb'] as const, 'sqlite'),
    artifacts: oneOf(env, 'CLOUDSMITH_ARTIFACTS', ['fs', 's3'] as const, 'fs'),
    builder: oneOf(env, 'CLOUDSMITH_BUILDER', ['local', 'docker', 'jenkins'] as const, 'local'),
    runtime: oneOf(env, 'CLOUDSMITH_RUNTIME', ['process', 'docker', 'ecs'] as const, 'process'),
    releaseOwner: oneOf(env, 'CLOUDSMITH_RELEASE_OWNER', ['docksage', 'lambda'] as const, 'docksage'),

    build: {
      timeoutMs: int(env, 'CLOUDSMITH_BUILD_TIMEOUT_MS', 15 * 60_000),
      maxOutputBytes: int(env, 'CLOUDSMITH_BUILD_MAX_OUTPUT_BYTES', 8 * 1024 * 1024),
      maxMemoryMb: int(env, 'CLOUDSMITH_BUILD_MAX_MEMORY_MB', 2048),
      cpus: int(env, 'CLOUDSMITH_BUILD_CPUS', 1),
      pids: int(env, 'CLOUDSMITH_BUILD_PIDS', 1024),
    },
    app: {
      memoryMb: int(env, 'CLOUDSMITH_APP_MEMORY_MB', 1024),
      cpus: int(env, 'CLOUDSMITH_APP_CPUS', 1),
      pids: int(env, 'CLOUDSMITH_APP_PIDS', 512),
    },
    buildCache: {
      enabled: oneOf(env, 'CLOUDSMITH_BUILD_CACHE', ['on', 'off'] as const, 'on') === 'on',
      maxAppMb: int(env, 'CLOUDSMITH_BUILD_CACHE_APP_MB', 2048),
      maxTotalMb: int(env, 'CLOUDSMITH_BUILD_CACHE_TOTAL_MB', 20_480),
    },
    allowUnsandboxed: env.CLOUDSMITH_ALLOW_UNSANDBOXED === '1' || env.CLOUDSMITH_ALLOW_UNSANDBOXED === 'true',
    previews: { maxPerApp: int(env, 'CLOUDSMITH_MAX_PREVIEWS', 10) },
    deploy: {
      healthTimeoutMs: int(env, 'CLOUDSMITH_HEALTH_TIMEOUT_MS', 60_000),
      livenessIntervalMs: int(env, 'CLOUDSMITH_LIVENESS_INTERVAL_MS', 5000),
    },

    kafka: {
      brokers: list(env.KAFKA_BROKERS || '127.0.0.1:9092'),
      clientId: env.KAFKA_CLIENT_ID || 'cloudsmith',
      partitions: int(env, 'KAFKA_PARTITIONS', 6),
      replicationFactor: int(env, 'KAFKA_REPLICATION_FACTOR', 1),
      topicPrefix: env.KAFKA_TOPIC_PREFIX || 'cloudsmith.',
      sessionTimeoutMs: int(env, 'KAFKA_SESSION_TIMEOUT_MS', 20_000),
    },
    aws: {
      region: env.AWS_REGION || 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL || undefined,
      bucket: env.CLOUDSMITH_S3_BUCKET || 'cloudsmith-artifacts',
      tablePrefix: env.CLOUDSMITH_DYNAMODB_PREFIX || 'cloudsmith-',
      ecs: {
        cluster: env.CLOUDSMITH_ECS_CLUSTER || 'cloudsmith',
        subnets: list(env.CLOUDSMITH_ECS_SUBNETS),
        securityGroups: list(env.CLOUDSMITH_ECS_SECURITY_GROUPS),
        listenerArn: env.CLOUDSMITH_ALB_LISTENER_ARN || undefined,
        vpcId: env.CLOUDSMITH_VPC_ID || undefined,
        executionRoleArn: env.CLOUDSMITH_ECS_EXECUTION_ROLE_ARN || undefined,
        taskRoleArn: env.CLOUDSMITH_ECS_TASK_ROLE_ARN || undefined,
        runnerImage: env.CLOUDSMITH_ECS_RUNNER_IMAGE || undefined,
        logGroup: env.CLOUDSMITH_ECS_LOG_GROUP || '/cloudsmith/apps',
        cpu: int(env, 'CLOUDSMITH_ECS_CPU', 256),
        memory: int(env, 'CLOUDSMITH_ECS_MEMORY', 512),
        minTasks: int(env, 'CLOUDSMITH_ECS_MIN_TASKS', 1),
        maxTasks: int(env, 'CLOUDSMITH_ECS_MAX_TASKS', 4),
        appDomain: env.CLOUDSMITH_ECS_APP_DOMAIN || 'apps.example.com',
        appRepository: env.CLOUDSMITH_ECR_APP_REPOSITORY || undefined,
        registry: env.CLOUDSMITH_ECR_REGISTRY || undefined,
        capacity: env.CLOUDSMITH_ECS_CAPACITY || 'FARGATE',
        appCapacity: Object.fromEntries(
          list(env.CLOUDSMITH_ECS_APP_CAPACITY).map((pair) => [pair.split('=')[0], pair.split('=').slice(1).join('=')]),
        ),
      },
    },
    docker: {
      host: env.CLOUDSMITH_DOCKER_HOST || env.DOCKER_HOST || undefined,
      registry: env.CLOUDSMITH_REGISTRY || '127.0.0.1:5000',
      baseImage: env.CLOUDSMITH_BASE_IMAGE || 'node:20-slim',
      pythonImage: env.CLOUDSMITH_PYTHON_IMAGE || 'python:3.12-slim',
      goImage: env.CLOUDSMITH_GO_IMAGE || 'golang:1.23',
      memoryMb: int(env, 'CLOUDSMITH_DOCKER_MEMORY_MB', 512),
      cpus: int(env, 'CLOUDSMITH_DOCKER_CPUS', 1),
      pidsLimit: int(env, 'CLOUDSMITH_DOCKER_PIDS_LIMIT', 256),
      useRepoDockerfile: oneOf(env, 'CLOUDSMITH_REPO_DOCKERFILE', ['auto', 'always', 'never'] as const, 'auto'),
      cli: env.CLOUDSMITH_DOCKER_CLI || undefined,
      buildKit: oneOf(env, 'CLOUDSMITH_DOCKER_BUILDKIT', ['on', 'off'] as const, 'off') === 'on',
      keepImages: int(env, 'CLOUDSMITH_DOCKER_KEEP_IMAGES', 3),
    },
    jenkins: {
      url: env.JENKINS_URL || undefined,
      user: env.JENKINS_USER || undefined,
      apiToken: env.JENKINS_API_TOKEN || undefined,
      job: env.JENKINS_JOB || 'cloudsmith-build',
      pollMs: int(env, 'JENKINS_POLL_MS', 1000),
      artifactBucket: env.JENKINS_ARTIFACT_BUCKET || undefined,
    },
  };
}

export function dataPath(config: Config, ...parts: string[]): string {
  return join(config.dataDir, ...parts);
}
