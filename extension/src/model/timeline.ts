import { PIPELINE, type DeploymentStatus, type DeploymentView } from '@cloudsmith/client';
import type { AnyStatus } from './status';

/** The stages a deployment passes through, in order: the Launchboard's timeline. */
export const STAGES = PIPELINE;
export type Stage = DeploymentStatus;

export type StageState = 'pending' | 'current' | 'done' | 'failed' | 'cancelled' | 'skipped' | 'notNeeded' | 'crashed';

export interface StageView {
  stage: Stage;
  label: string;
  state: StageState;
  /** Said after the label, so the state never depends on colour alone ("Building: failed"). */
  text: string;
  /** The one step a screen reader announces as current (aria-current="step"). */
  current: boolean;
}

const label = (stage: Stage) => stage.charAt(0).toUpperCase() + stage.slice(1);

const TEXT: Record<StageState, string> = {
  pending: 'waiting',
  current: 'in progress',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'not reached',
  notNeeded: 'not needed (rollback)',
  crashed: 'crashed',
};

/** A rollback re-releases an earlier artifact: nothing is fetched or built. */
const NOT_BUILT: ReadonlySet<Stage> = new Set(['fetching', 'building']);

type TimelineDeployment = Pick<DeploymentView, 'timings' | 'rollbackOf'> & { status: AnyStatus };

/**
 * Each stage's state for a deployment. `lastStage` is the last in-progress status the viewer saw: where a
 * failure or cancel happened. Without it the timings tell (a stage's duration is recorded once it finished).
 */
export function timeline(d: TimelineDeployment | undefined, lastStage?: AnyStatus): StageView[] {
  const rollback = !!d?.rollbackOf;
  const stopped = d ? stoppedAt(d, lastStage) : undefined;
  const reached = d ? reachedIndex(d.status, stopped) : -1;
  return STAGES.map((stage, i) => {
    let state: StageState;
    if (!d) state = 'pending';
    else if (rollback && NOT_BUILT.has(stage)) state = 'notNeeded';
    else if (stopped !== undefined && i === reached) state = d.status === 'cancelled' ? 'cancelled' : 'failed';
    else if (stopped !== undefined) state = i < reached ? 'done' : 'skipped';
    else if (d.status === 'crashed' && stage === 'live') state = 'crashed';
    else if (i < reached || (i === reached && stage === 'live')) state = 'done';
    else if (i === reached) state = 'current';
    else state = 'pending';
    const current = i === reached && state !== 'notNeeded';
    return { stage, label: label(stage), state, text: TEXT[state], current };
  });
}

/** The stage a failed or cancelled deployment stopped in; undefined while it runs or once it succeeded. */
export function stoppedAt(d: TimelineDeployment, lastStage?: AnyStatus): Stage | undefined {
  if (d.status !== 'failed' && d.status !== 'cancelled') return undefined;
  if (lastStage && lastStage !== 'queued' && isStage(lastStage) && lastStage !== 'live') return lastStage;
  if (d.rollbackOf) return 'deploying';
  if (d.timings.fetchMs === undefined)
    return lastStage === 'queued' && d.status === 'cancelled' ? 'queued' : 'fetching';
  if (d.timings.buildMs === undefined) return 'building';
  return 'deploying';
}

function reachedIndex(status: AnyStatus, stopped: Stage | undefined): number {
  if (stopped) return STAGES.indexOf(stopped);
  if (status === 'superseded' || status === 'crashed') return STAGES.indexOf('live');
  return isStage(status) ? STAGES.indexOf(status) : -1;
}

function isStage(status: AnyStatus): status is Stage {
  return (STAGES as readonly string[]).includes(status);
}

/** One short sentence for the live region: what a screen reader says when the deployment moves on. */
export function statusLine(
  d: (Pick<DeploymentView, 'repo' | 'ref' | 'url'> & { status: AnyStatus }) | undefined,
  cause?: string,
): string {
  if (!d) return '';
  switch (d.status) {
    case 'live':
      return `${d.repo}@${d.ref} is live${d.url ? ` at ${d.url}` : ''}.`;
    case 'failed':
      return `Deploy of ${d.repo}@${d.ref} failed${cause ? `: ${cause}` : '.'}`;
    case 'cancelled':
      return `Deploy of ${d.repo}@${d.ref} was cancelled.`;
    case 'crashed':
      return `The app of ${d.repo} crashed.`;
    case 'superseded':
      return `${d.repo}@${d.ref} was replaced by a newer deployment.`;
    default:
      return `${d.repo}@${d.ref}: ${d.status}…`;
  }
}
