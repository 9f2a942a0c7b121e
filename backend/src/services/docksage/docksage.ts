import type { ArtifactRef, Deployment, RunPlan } from '../../domain/deployment';
import { errorMessage } from '../../domain/errors';
import type { BuildCompleted } from '../../domain/events';
import type { Runtime } from '../../ports/runtime';
import type { Sealer } from '../../security/sealer';
import { loadAppEnv } from '../shared/appEnv';
import { runStage, STAGES, withTiming, type StageDeps } from '../shared/stage';

export interface DocksageDeps extends StageDeps {
  runtime: Runtime;
  sealer: Sealer;
}

/** Docksage: releases a built artifact with the configured runtime and makes it the app's live release. */
export function docksageHandler(deps: DocksageDeps) {
  return (event: BuildCompleted) =>
    runStage(deps, event, {
      ...STAGES.deploy,
      work: (deployment, signal) =>
        releaseDeployment(deps, deployment, { artifact: event.artifact, plan: event.plan }, signal),
    });
}

/**
 * Starts the release, waits for the runtime's health gate, then records it live and supersedes the
 * previous live deployment. Shared by the event handler, rollbacks and the AWS Lambda trigger.
 */
export async function releaseDeployment(
  deps: DocksageDeps,
  deployment: Deployment,
  build: { artifact: ArtifactRef; plan: RunPlan },
  signal: AbortSignal,
): Promise<void> {
  const started = Date.now();
  const env = await loadAppEnv(deps.store, deps.sealer, deployment.app);
  deps.log.addSecrets(deployment.id, Object.values(env));
  deps.log.write(deployment.id, 'deploy', `Releasing ${deployment.app} with the ${deps.runtime.name} runtime`);
  const { url } = await deps.runtime.release(
    { app: deployment.app, deploymentId: deployment.id, artifact: build.artifact, plan: build.plan, env },
    {
      signal,
      log: (text, stage = 'deploy') => {
        deps.log.write(deployment.id, stage, text);
      },
    },
  );
  const timings = withTiming(deployment, 'deployMs', started);
  timings.totalMs = Date.now() - Date.parse(deployment.createdAt);
  deps.log.write(deployment.id, 'deploy', `Live at ${url}`);
  const live = await deps.log.moveTo(deployment.id, 'live', {
    url,
    artifact: build.artifact,
    plan: build.plan,
    timings,
  });
  if (!live) return;
  const app = await deps.store.getApp(deployment.app);
  if (!app) return;
  const previous = app.liveDeploymentId;
  await deps.store.putApp({ ...app, liveDeploymentId: deployment.id, url });
  if (previous && previous !== deployment.id) await deps.log.moveTo(previous, 'superseded');
}

/** After a platform restart: start every live app again from its artifact, at the same URL. */
export async function restoreLiveApps(deps: DocksageDeps): Promise<void> {
  for (const app of await deps.store.listLiveApps()) {
    const deployment = app.liveDeploymentId ? await deps.store.getDeployment(app.liveDeploymentId) : undefined;
    if (!deployment?.artifact || !deployment.plan) continue;
    try {
      const env = await loadAppEnv(deps.store, deps.sealer, app.name);
      await deps.runtime.restore(
        { app: app.name, deploymentId: deployment.id, artifact: deployment.artifact, plan: deployment.plan, env },
        { signal: new AbortController().signal, log: () => undefined },
      );
      deps.logger.info('restored live app', { app: app.name, deploymentId: deployment.id });
    } catch (err) {
      deps.logger.error('could not restore live app', { app: app.name, error: errorMessage(err) });
    }
  }
}
