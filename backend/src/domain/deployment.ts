import {
  IN_FLIGHT_STATUSES,
  STATUSES,
  TERMINAL_STATUSES,
  type DeploymentStatus,
  type PreviewOf,
} from '@cloudsmith/client';

/**
 * The status vocabulary is part of the API's contract, so it is written once in @cloudsmith/client (imported by
 * both sides of the wire) and re-exported here for the backend. The store refuses moves that go backwards, so a
 * late or redelivered event can never undo progress.
 */
export { IN_FLIGHT_STATUSES, STATUSES, TERMINAL_STATUSES, type DeploymentStatus };

/** Ends a deployment cannot move on from (live still can: a newer deploy supersedes it). */
export const FINAL_STATUSES: readonly DeploymentStatus[] = ['failed', 'cancelled', 'superseded'];

const ORDER: Record<DeploymentStatus, number> = {
  queued: 0,
  fetching: 1,
  building: 2,
  deploying: 3,
  live: 4,
  crashed: 5,
  failed: 9,
  cancelled: 9,
  superseded: 9,
};

/** Which statuses may move to `to`; used as the store's conditional write. */
export function allowedPredecessors(to: DeploymentStatus): DeploymentStatus[] {
  switch (to) {
    case 'failed':
    case 'cancelled':
      return [...IN_FLIGHT_STATUSES];
    // A newer release replaced it; or, still deploying, it lost to a newer deployment that went live first.
    case 'superseded':
      return ['live', 'crashed', 'deploying'];
    // Only a live release can crash, and a crashed one that answers again is live again.
    case 'crashed':
      return ['live'];
    case 'live':
      return [...IN_FLIGHT_STATUSES, 'crashed'];
    default:
      return STATUSES.filter((s) => !FINAL_STATUSES.includes(s) && s !== 'live' && ORDER[s] < ORDER[to]);
  }
}

export function canMove(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return allowedPredecessors(to).includes(from);
}

/**
 * Whether a stage whose in-progress status is `inProgress` may (re)run for a deployment now in `current`:
 * a redelivered event runs again only while the deployment has not moved past that stage.
 */
export function stageMayRun(current: DeploymentStatus, inProgress: DeploymentStatus): boolean {
  return !FINAL_STATUSES.includes(current) && current !== 'live' && ORDER[current] <= ORDER[inProgress];
}

export type Stage = 'fetch' | 'build' | 'deploy' | 'runtime' | 'system';

export interface Overrides {
  rootDir?: string;
  installCommand?: string;
  buildCommand?: string;
  startCommand?: string;
  outputDir?: string;
  healthPath?: string;
  dockerfile?: boolean;
}

/** What the builder produced: a tarball in the artifact store, or an image in a registry. */
export type ArtifactRef =
  { kind: 'tarball'; key: string; sha256: string; size: number } | { kind: 'image'; image: string; digest?: string };

/** How to run a build's output. `static` is served by the platform's own static server with SPA fallback. */
export interface RunPlan {
  kind: 'node' | 'static' | 'next' | 'python' | 'go' | 'process';
  /** argv run in the release directory; static plans use the bundled static server. */
  start: string[];
  /** directory inside the artifact to serve (static) or run from (node). */
  workdir: string;
  spaFallback?: boolean;
  healthPath: string;
  port?: number;
  /** argv run once in the release directory before it takes traffic (Procfile `release:`); failing fails the deploy. */
  release?: string[];
  /** Host directories the app must be able to read (a toolchain outside /usr the artifact links to). */
  toolDirs?: string[];
}

export interface StageTimings {
  fetchMs?: number;
  buildMs?: number;
  deployMs?: number;
  totalMs?: number;
}

export interface Deployment {
  id: string;
  app: string;
  ownerId: string;
  repo: string;
  ref: string;
  commitSha?: string;
  status: DeploymentStatus;
  url?: string;
  error?: string;
  overrides: Overrides;
  artifact?: ArtifactRef;
  plan?: RunPlan;
  /** Set when this deployment re-releases another one's artifact (rollback) or rebuilds its commit (redeploy). */
  sourceDeploymentId?: string;
  timings: StageTimings;
  createdAt: string;
  updatedAt: string;
}

export interface App {
  name: string;
  ownerId: string;
  ownerLogin: string;
  repo: string;
  liveDeploymentId?: string;
  url?: string;
  createdAt: string;
  /** Set on a preview app (read from the preview registry, not stored with the app). */
  preview?: PreviewOf;
}

export interface LogLine {
  seq: number;
  ts: string;
  stage: Stage;
  text: string;
}
