import type { ArtifactRef, Deployment, RunPlan } from '../../domain/deployment';
import { errorMessage } from '../../domain/errors';
import type { BuildCompleted } from '../../domain/events';
import type { HealthReport, Runtime } from '../../ports/runtime';
import { KeyedQueue } from '../../lib/keyedQueue';
import type { Sealer } from '../../security/sealer';
import { budgetMiB } from '../../logs/logIntake';
import { guardOutput } from '../../logs/outputGuard';
import { loadAppEnv } from '../shared/appEnv';
import { runStage, STAGES, withTiming, type StageDeps } from '../shared/stage';
import { pruneLogs } from '../../logs/retention';
import type { AppTelemetry } from '../../runtimeLogs/telemetry';

export interface DocksageDeps extends StageDeps {
  runtime: Runtime;
  sealer: Sealer;
  /** Live apps' runtime logs and metrics. */
  telemetry?: AppTelemetry;
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

/** Docksage's releases of one app run one at a time, so "is a newer deployment already live?" stays true until it acts. */
const releasesPerApp = new KeyedQueue();

/**
 * Starts the release, waits for the runtime's health gate, then records it live and supersedes the
 * previous live deployment. Shared by the event handler, rollbacks and the AWS Lambda trigger.
 * The newest requested deployment wins: one whose app already runs a deployment requested after it is
 * superseded instead of released, however late its build finished.
 */
export function releaseDeployment(
  deps: DocksageDeps,
  deployment: Deployment,
  build: { artifact: ArtifactRef; plan: RunPlan },
  signal: AbortSignal,
): Promise<void> {
  return releasesPerApp.run(deployment.app, async () => {
    const newer = await newerLiveDeployment(deps, deployment);
    if (newer) {
      deps.log.write(
        deployment.id,
        'deploy',
        `Not released: deployment ${newer.id}, requested after this one, is already live`,
      );
      await deps.log.moveTo(deployment.id, 'superseded', {
        error: `superseded by deployment ${newer.id}, which was requested later and went live first`,
      });
      return;
    }
    await release(deps, deployment, build, signal);
  });
}

async function newerLiveDeployment(deps: DocksageDeps, deployment: Deployment): Promise<Deployment | undefined> {
  const app = await deps.store.getApp(deployment.app);
  if (!app?.liveDeploymentId || app.liveDeploymentId === deployment.id) return undefined;
  const live = await deps.store.getDeployment(app.liveDeploymentId);
  return live && isNewer(live, deployment) ? live : undefined;
}

function isNewer(a: Deployment, b: Deployment): boolean {
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
}

async function release(
  deps: DocksageDeps,
  deployment: Deployment,
  build: { artifact: ArtifactRef; plan: RunPlan },
  signal: AbortSignal,
): Promise<void> {
  const started = Date.now();
  const env = await loadAppEnv(deps.store, deps.sealer, deployment.app);
  deps.log.addSecrets(deployment.id, Object.values(env));
  deps.log.write(deployment.id, 'deploy', `Releasing ${deployment.app} with the ${deps.runtime.name} runtime`);
  const output = guardOutput(
    signal,
    (text, stage) => deps.log.write(deployment.id, stage, text),
    `the app printed more than its log may keep (${budgetMiB('runtime')} MiB) before it became healthy; it was stopped`,
  );
  const { url } = await deps.runtime
    .release(
      { app: deployment.app, deploymentId: deployment.id, artifact: build.artifact, plan: build.plan, env },
      {
        signal: output.signal,
        log: (text, stage = 'deploy') => {
          output.log(text, stage);
        },
        onHealth: healthReporter(deps, deployment.app, deployment.id, env),
        onOutput: deps.telemetry?.output(deployment.app, deployment.id, Object.values(env)),
      },
    )
    .catch((err: unknown) => output.rethrow(err));
  deps.telemetry?.released(deployment.app);
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
  await pruneLogs(deps.store, app);
}

/**
 * Turns the runtime's view of a live release into its status: `crashed` with the reason and the app's last output
 * (masked like every field that leaves the platform), `live` again when it serves again.
 */
function healthReporter(deps: DocksageDeps, app: string, deploymentId: string, env: Record<string, string>) {
  const report = async (health: HealthReport) => {
    deps.telemetry?.health(app, health);
    deps.log.addSecrets(deploymentId, Object.values(env));
    if (health.healthy) {
      deps.log.write(deploymentId, 'runtime', '[cloudsmith] the app answers again');
      await deps.log.moveTo(deploymentId, 'live');
      return;
    }
    const output = health.lastLines.length ? health.lastLines.join('\n') : '(the app printed nothing)';
    deps.log.write(deploymentId, 'runtime', `[cloudsmith] the app ${health.reason}`);
    await deps.log.moveTo(deploymentId, 'crashed', {
      error: `the app ${health.reason}. Last log lines:\n${output}`,
    });
  };
  return (health: HealthReport) => {
    report(health).catch((err: unknown) => {
      deps.logger.error('could not record the app’s health', { deploymentId, error: errorMessage(err) });
    });
  };
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
        {
          signal: new AbortController().signal,
          log: () => undefined,
          onHealth: healthReporter(deps, app.name, deployment.id, env),
          onOutput: deps.telemetry?.output(app.name, deployment.id, Object.values(env)),
        },
      );
      deps.logger.info('restored live app', { app: app.name, deploymentId: deployment.id });
    } catch (err) {
      deps.logger.error('could not restore live app', { app: app.name, error: errorMessage(err) });
    }
  }
}
