import { createHash, randomUUID } from 'node:crypto';
import type { ArtifactRef, DeploymentStatus, LogLine, RunPlan } from './deployment';
import type { RuntimeLogLine } from './runtimeLog';
import type { Minute } from './appMetrics';

/** Every topic, and the shape of what it carries. Message key is always the deployment id, so one deployment's events stay in order. */
export interface TopicEvents {
  'deployment.requested': DeploymentRequested;
  'source.fetched': SourceFetched;
  'build.completed': BuildCompleted;
  'deployment.logs': LogEvent;
  'deployment.cancel': CancelRequested;
  'app.removed': AppRemoved;
  'app.logs': AppLogs;
  'app.metrics': AppMetricsEvent;
}
export type Topic = keyof TopicEvents;
export const TOPICS = [
  'deployment.requested',
  'source.fetched',
  'build.completed',
  'deployment.logs',
  'deployment.cancel',
  'app.removed',
  'app.logs',
  'app.metrics',
] as const satisfies readonly Topic[];

export interface EventBase {
  eventId: string;
  deploymentId: string;
  at: string;
}

export interface DeploymentRequested extends EventBase {
  /** The caller's GitHub token, sealed with the platform key: Kafka retains messages, so it never travels in clear. */
  sealedToken: string;
  /** Rebuild this exact commit (redeploy) instead of resolving the ref. */
  commitSha?: string;
  /** Where to fetch from, as the source host told the API when it checked the caller may read the repo. */
  cloneUrl?: string;
}

export interface SourceFetched extends EventBase {
  commitSha: string;
  /** Artifact-store key of the fetched source tarball. */
  sourceKey: string;
  cloneUrl: string;
  sealedToken: string;
}

export interface BuildCompleted extends EventBase {
  artifact: ArtifactRef;
  plan: RunPlan;
}

/** Log lines (already persisted, with their seq) and status changes, in one ordered stream per deployment. */
export type LogEvent = EventBase &
  ({ kind: 'lines'; lines: LogLine[] } | { kind: 'status'; status: DeploymentStatus; url?: string; error?: string });

export type CancelRequested = EventBase;

/** Every Docksage instance stops the app and removes what its runtime made for it. Keyed by the app's last deployment. */
export interface AppRemoved extends EventBase {
  app: string;
}

/** A live app's output (already persisted, with its per-app seq), for the API's runtime log streams. */
export interface AppLogs extends EventBase {
  app: string;
  lines: RuntimeLogLine[];
}

/**
 * One process's readings of an app (proxy traffic, runtime restarts and memory) for the minutes that changed since
 * its last report, cumulative per minute: a receiver keeps the newest report per (app, minute, source) and sums the
 * sources, so a redelivered or repeated report changes nothing. Keyed by `app:<name>` (not a deployment).
 */
export interface AppMetricsEvent extends EventBase {
  app: string;
  /** The reporting process (its instance id); a restarted process is a new source. */
  source: string;
  minutes: Minute[];
  /** The runtime's current verdict on the live release in that process: a reason while it does not serve. */
  down?: string;
}

/** A stage's outgoing event id is derived from its input, so a redelivered input republishes the same id and the next stage skips it. */
export function stageEventId(topic: Topic, deploymentId: string, discriminator = ''): string {
  return createHash('sha256').update(`${topic}\0${deploymentId}\0${discriminator}`).digest('hex').slice(0, 32);
}

export function freshEventId(): string {
  return randomUUID();
}

export function now(): string {
  return new Date().toISOString();
}
