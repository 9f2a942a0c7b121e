import type { S3ArtifactStore } from '../adapters/artifacts/s3/s3ArtifactStore';
import { decodePlan, PLAN_METADATA } from '../adapters/artifacts/planMetadata';
import { loadConfig } from '../config';
import { errorMessage } from '../domain/errors';
import { now, stageEventId } from '../domain/events';
import { docksageHandler, type DocksageDeps } from '../services/docksage/docksage';
import { decodeS3Key, parseArtifactKey, type S3Event } from './s3Event';

export { decodeS3Key, parseArtifactKey, type S3Event, type S3EventRecord } from './s3Event';
export { PLAN_METADATA } from '../adapters/artifacts/planMetadata';

export interface ArtifactUploadedDeps extends DocksageDeps {
  artifacts: S3ArtifactStore;
}

export interface ArtifactUploadedResult {
  /** Deployment ids this invocation released. */
  released: string[];
  /** Records that are not artifacts of a known deployment, or were released already, with why. */
  ignored: Array<{ key: string; reason: string }>;
}

/**
 * Turns "artifact uploaded" S3 events into Docksage's release step. This Lambda owns the release of every uploaded
 * artifact (compose/releaseOwner.ts): it claims the deployment with the store's conditional move to `deploying`, so
 * of several deliveries of one event (S3 delivers at least once; async invokes retry) exactly one releases, and a
 * late one finds it claimed or live and stands down.
 */
export function createArtifactUploadedHandler(deps: ArtifactUploadedDeps) {
  const release = docksageHandler(deps);
  return async (event: S3Event): Promise<ArtifactUploadedResult> => {
    const result: ArtifactUploadedResult = { released: [], ignored: [] };
    for (const record of event.Records) {
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
      if (deployment?.app !== parsed.app) {
        ignore(`no deployment ${parsed.deploymentId} of app ${parsed.app}`);
        continue;
      }
      const stored = await deps.artifacts.describe(key);
      if (!stored) {
        ignore('the object is gone');
        continue;
      }
      const plan = decodePlan(await deps.artifacts.metadata(key, PLAN_METADATA)) ?? deployment.plan;
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
      const claimed = await deps.log.moveTo(deployment.id, 'deploying');
      if (!claimed) {
        const current = await deps.store.getDeployment(deployment.id);
        ignore(`deployment ${deployment.id} is ${current?.status ?? 'gone'}: another delivery released it`);
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

let warm: Promise<(event: S3Event) => Promise<ArtifactUploadedResult>> | undefined;

/** The Lambda entry point; the wiring (compose/lambda.ts) is built once per container and reused while it stays warm. */
export async function handler(event: S3Event): Promise<ArtifactUploadedResult> {
  warm ??= (async () => {
    const { artifactUploadedDeps } = await import('../compose/lambda');
    const deps = await artifactUploadedDeps(loadConfig(process.env));
    await deps.store.init();
    return createArtifactUploadedHandler(deps);
  })().catch((err: unknown) => {
    warm = undefined;
    throw new Error(`artifact-uploaded: setup failed: ${errorMessage(err)}`);
  });
  return (await warm)(event);
}
