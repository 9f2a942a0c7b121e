import {
  stageMayRun,
  type Deployment,
  type DeploymentStatus,
  type Stage,
  type StageTimings,
} from '../../domain/deployment';
import { errorMessage, UserFacingError } from '../../domain/errors';
import type { EventBase } from '../../domain/events';
import type { EventBus } from '../../ports/bus';
import type { Store } from '../../ports/store';
import type { Cancellations } from './cancellations';
import type { DeploymentLog } from './deploymentLog';
import type { Logger } from '../../lib/logger';

export interface StageDeps {
  store: Store;
  bus: EventBus;
  log: DeploymentLog;
  logger: Logger;
  cancellations: Cancellations;
}

export interface StageSpec {
  /** Consumer name recorded with processed event ids. */
  consumer: string;
  inProgress: DeploymentStatus;
  stage: Stage;
  timing: keyof StageTimings;
  work(deployment: Deployment, signal: AbortSignal): Promise<void>;
}

/** Each stage's consumer, the status it runs under and where its duration goes: one table for the three services. */
export const STAGES = {
  fetch: { consumer: 'gitpulse', inProgress: 'fetching', stage: 'fetch', timing: 'fetchMs' },
  build: { consumer: 'buildrelay', inProgress: 'building', stage: 'build', timing: 'buildMs' },
  deploy: { consumer: 'docksage', inProgress: 'deploying', stage: 'deploy', timing: 'deployMs' },
} as const satisfies Record<'fetch' | 'build' | 'deploy', Omit<StageSpec, 'work'>>;

/**
 * The shape every stage handler shares: skip what is already done (events are redelivered), move to the
 * stage's status, do the work under a cancellable signal, and turn a failure into a clear deployment error.
 * Infrastructure errors (store, bus) escape so the bus retries the event.
 */
export async function runStage(deps: StageDeps, event: EventBase, spec: StageSpec): Promise<void> {
  const deployment = await deps.store.getDeployment(event.deploymentId);
  if (!deployment || !stageMayRun(deployment.status, spec.inProgress)) return;
  if (deployment.status !== spec.inProgress) {
    const moved = await deps.log.moveTo(deployment.id, spec.inProgress);
    if (!moved) return;
  }
  const signal = deps.cancellations.begin(deployment.id);
  const started = Date.now();
  try {
    await spec.work(deployment, signal);
    await deps.store.markProcessed(spec.consumer, event.eventId);
  } catch (err) {
    const current = await deps.store.getDeployment(deployment.id);
    if (current?.status === 'cancelled' || signal.aborted) {
      deps.log.write(deployment.id, spec.stage, signal.reason instanceof Error ? signal.reason.message : 'cancelled');
      await deps.log.flush(deployment.id);
      return;
    }
    const reason =
      err instanceof UserFacingError ? err.message : `internal error in ${spec.stage}: ${errorMessage(err)}`;
    if (!(err instanceof UserFacingError))
      deps.logger.error('stage failed', { deploymentId: deployment.id, stage: spec.stage, error: errorMessage(err) });
    deps.log.write(deployment.id, spec.stage, `error: ${reason}`);
    await deps.log.moveTo(deployment.id, 'failed', {
      error: reason,
      timings: withTiming(current ?? deployment, spec.timing, started),
    });
    await deps.store.markProcessed(spec.consumer, event.eventId);
  } finally {
    deps.cancellations.end(deployment.id, signal);
  }
}

export function withTiming(d: Deployment, key: keyof StageTimings, startedAt: number): StageTimings {
  return { ...d.timings, [key]: Date.now() - startedAt };
}
