import { S3ArtifactStore } from '../adapters/artifacts/s3/s3ArtifactStore';
import { KafkaBus } from '../adapters/bus/kafka/kafkaBus';
import { MemoryBus } from '../adapters/bus/memory/memoryBus';
import { ecsRuntimeFromConfig } from '../compose/ecs';
import { DynamoStore } from '../adapters/store/dynamodb/dynamoStore';
import { loadConfig, type Config } from '../config';
import type { RunPlan } from '../domain/deployment';
import { errorMessage } from '../domain/errors';
import type { EventBus } from '../ports/bus';
import { now, stageEventId } from '../domain/events';
import { Sealer } from '../security/sealer';
import { docksageHandler, type DocksageDeps } from '../services/docksage/docksage';
import { Cancellations } from '../services/shared/cancellations';
import { DeploymentLog } from '../services/shared/deploymentLog';
import { consoleLogger } from '../lib/logger';

/** The parts of an S3 event notification this handler reads (the full shape is AWS's `S3Event`). */
export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number } };
}
export interface S3Event {
  Records: S3EventRecord[];
}

export interface ArtifactUploadedDeps extends DocksageDeps {
  artifacts: S3ArtifactStore;
}

export interface ArtifactUploadedResult {
  /** Deployment ids handed to Docksage. */
  released: string[];
  /** Records that are not artifacts of a known deployment, with why. */
  ignored: Array<{ key: string; reason: string }>;
}

/** `artifacts/<app>/<commit>/<deploymentId>.tar.gz`, as ports/artifacts.ts builds it. */
const ARTIFACT_KEY = /^artifacts\/([^/]+)\/([^/]+)\/([^/]+)\.tar\.gz$/;
/** Object metadata a pipeline that uploads the artifact itself (Jenkins) sets to say how to run it. */
export const PLAN_METADATA = 'cloudsmith-plan';

/** S3 event keys are URL-encoded with `+` for spaces. */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

export function parseArtifactKey(key: string): { app: string; commitSha: string; deploymentId: string } | undefined {
  const m = ARTIFACT_KEY.exec(key);
  return m ? { app: m[1], commitSha: m[2], deploymentId: m[3] } : undefined;
}

/**
 * Turns "artifact uploaded" S3 events into Docksage's release step: the same handler the build.completed event runs,
 * with the same event id Buildrelay would publish, so an artifact released by both paths is released once.
 */
export function createArtifactUploadedHandler(deps: ArtifactUploadedDeps) {
  const release = docksageHandler(deps);
  return async (event: S3Event): Promise<ArtifactUploadedResult> => {
    const result: ArtifactUploadedResult = { released: [], ignored: [] };
    for (const record of event.Records ?? []) {
      const key = decodeS3Key(record.s3.object.key);
      const ignore = (reason: string) => {
        result.ignored.push({ key, reason });
        deps.logger.warn('artifact event ignored', { key, reason });
      };
      if (!record.eventName.startsWith('ObjectCreated')) {
        ignore(`event ${record.eventName} is not an upload`);
        continue;
      }
      if (record.s3.bucket.name !== deps.artifacts.bucket) {
        ignore(`bucket ${record.s3.bucket.name} is not the artifact bucket`);
        continue;
      }
      const parsed = parseArtifactKey(key);
      if (!parsed) {
        ignore('not an artifact key');
        continue;
      }
      const deployment = await deps.store.getDeployment(parsed.deploymentId);
      if (!deployment || deployment.app !== parsed.app) {
        ignore(`no deployment ${parsed.deploymentId} of app ${parsed.app}`);
        continue;
      }
      const stored = await deps.artifacts.describe(key);
      if (!stored) {
        ignore('the object is gone');
        continue;
      }
      const plan = (await planFor(deps.artifacts, key)) ?? deployment.plan;
      if (!plan) {
        deps.log.write(
          deployment.id,
          'deploy',
          `error: artifact ${key} arrived without a run plan (object metadata ${PLAN_METADATA})`,
        );
        await deps.log.moveTo(deployment.id, 'failed', { error: 'the uploaded artifact carries no run plan' });
        ignore('no run plan');
        continue;
      }
      await release({
        eventId: stageEventId('build.completed', deployment.id),
        deploymentId: deployment.id,
        at: now(),
        artifact: { kind: 'tarball', key, sha256: stored.sha256, size: stored.size },
        plan,
      });
      // The Lambda may be frozen right after returning: every line must be stored and published first.
      await deps.log.flush(deployment.id);
      result.released.push(deployment.id);
    }
    return result;
  };
}

async function planFor(artifacts: S3ArtifactStore, key: string): Promise<RunPlan | undefined> {
  const raw = await artifacts.metadata(key, PLAN_METADATA);
  if (!raw) return undefined;
  try {
    const plan = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as RunPlan;
    return Array.isArray(plan.start) && typeof plan.workdir === 'string' ? plan : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Everything the Lambda needs, from its environment (Terraform sets it): DynamoDB, S3, ECS and the bus for log fan-out.
 * The adapters are built here rather than through compose/adapters, which loads the embedded ones (better-sqlite3's
 * native module among them) and would break the one-file Lambda bundle.
 */
export function depsFromConfig(config: Config): ArtifactUploadedDeps {
  if (!config.secretKey) throw new Error('CLOUDSMITH_SECRET_KEY is required: app env is sealed with the platform key');
  if (config.store !== 'dynamodb' || config.artifacts !== 's3') {
    throw new Error('the artifact-uploaded Lambda runs with CLOUDSMITH_STORE=dynamodb and CLOUDSMITH_ARTIFACTS=s3');
  }
  const logger = consoleLogger('lambda:artifact-uploaded');
  const store = new DynamoStore({
    region: config.aws.region,
    endpoint: config.aws.endpoint,
    tablePrefix: config.aws.tablePrefix,
  });
  // Without Kafka the lines are still stored; only live fan-out to WebSocket clients needs the bus.
  const bus: EventBus = config.bus === 'kafka' ? new KafkaBus({ ...config.kafka, logger }) : new MemoryBus();
  return {
    store,
    bus,
    log: new DeploymentLog(store, bus),
    logger,
    cancellations: new Cancellations(),
    runtime: ecsRuntimeFromConfig(config),
    sealer: new Sealer(config.secretKey),
    artifacts: new S3ArtifactStore({
      region: config.aws.region,
      endpoint: config.aws.endpoint,
      bucket: config.aws.bucket,
    }),
  };
}

let warm: Promise<(event: S3Event) => Promise<ArtifactUploadedResult>> | undefined;

/** The Lambda entry point; the wiring is built once per container and reused while it stays warm. */
export async function handler(event: S3Event): Promise<ArtifactUploadedResult> {
  warm ??= (async () => {
    const deps = depsFromConfig(loadConfig(process.env));
    await deps.store.init();
    return createArtifactUploadedHandler(deps);
  })().catch((err: unknown) => {
    warm = undefined;
    throw new Error(`artifact-uploaded: setup failed: ${errorMessage(err)}`);
  });
  return (await warm)(event);
}
