import type { ArtifactRef, RunPlan } from '../domain/deployment';
import type { LogFn } from './builder';

export interface Release {
  app: string;
  deploymentId: string;
  artifact: ArtifactRef;
  plan: RunPlan;
  /** The app's env, decrypted. PORT is set by the runtime. */
  env: Record<string, string>;
}

/** How a live release is doing, as the runtime sees it. */
export type HealthReport = { healthy: false; reason: string; lastLines: string[] } | { healthy: true };

export interface ReleaseContext {
  signal: AbortSignal;
  log: LogFn;
  /** Told, for as long as the release is live, when its app stops serving (crash loop, no answer) and when it serves again. */
  onHealth?: (report: HealthReport) => void;
  /** The release's own output, from its start until it is stopped, and the runtime's events about it. */
  onOutput?: (line: RuntimeOutput) => void;
}

/** What the runtime says about a release's process, each as a line of its own in the app's runtime log. */
export type RuntimeEvent = 'started' | 'crashed' | 'restarted' | 'gave-up' | 'stopped';

export type RuntimeOutput =
  { stream: 'stdout' | 'stderr'; text: string } | { stream: 'event'; event: RuntimeEvent; text: string };

/**
 * Runs releases. `release` starts the new release, waits until it is healthy, switches traffic to it and
 * only then retires the previous one; if it never gets healthy the previous release keeps serving and
 * `release` throws with the reason and the app's last log lines.
 */
export interface Runtime {
  readonly name: string;
  release(release: Release, ctx: ReleaseContext): Promise<{ url: string }>;
  /** Restores a live release after a platform restart, at the same URL. */
  restore(release: Release, ctx: ReleaseContext): Promise<{ url: string }>;
  /** The URL an app is (or would be) served at. */
  urlFor(app: string): string;
  /** Recent runtime output of the app's current release. */
  logs(app: string): Promise<string[]>;
  /** Memory in use by each app this runtime serves from this process, in bytes, where it can be read. */
  usage?(): Promise<Array<{ app: string; memoryBytes: number }>>;
  /** Stops the app and removes everything the runtime made for it. */
  remove(app: string): Promise<void>;
  /** Stops all releases this process started (embedded shutdown). */
  close(): Promise<void>;
}
