import type { App, Deployment, DeploymentStatus, LogLine, Stage } from '../domain/deployment';
import type { NewRuntimeLogLine, RuntimeLogLine } from '../domain/runtimeLog';

export interface NewLogLine {
  ts: string;
  stage: Stage;
  text: string;
}

export interface DeploymentQuery {
  ownerId: string;
  repo?: string;
  app?: string;
  limit?: number;
}

export type DeploymentPatch = Partial<Omit<Deployment, 'id' | 'status' | 'createdAt' | 'ownerId'>>;

/** Platform state. Status moves are conditional writes: `transition` refuses to go backwards. */
export interface Store {
  init(): Promise<void>;
  close(): Promise<void>;

  putApp(app: App): Promise<void>;
  getApp(name: string): Promise<App | undefined>;
  listApps(ownerId: string): Promise<App[]>;
  /** Apps with a live release, for restarting them at boot. */
  listLiveApps(): Promise<App[]>;
  deleteApp(name: string): Promise<void>;
  /**
   * Claims an app name for one owner's repo, atomically: true when the name is now (or already was) theirs for that
   * repo, false when someone else holds it. Claims outlive the app, so a name is never handed to another owner.
   */
  claimAppName(name: string, ownerId: string, repo: string): Promise<boolean>;

  createDeployment(deployment: Deployment): Promise<void>;
  getDeployment(id: string): Promise<Deployment | undefined>;
  /** Newest first. */
  listDeployments(query: DeploymentQuery): Promise<Deployment[]>;
  /** Deployments in a non-final, non-live status (for "interrupted" recovery at boot). */
  listInFlight(): Promise<Deployment[]>;
  /** Moves status only from an allowed predecessor; returns the updated deployment, or undefined when refused. */
  transition(id: string, to: DeploymentStatus, patch?: DeploymentPatch): Promise<Deployment | undefined>;
  /** Updates fields other than status. */
  updateDeployment(id: string, patch: DeploymentPatch): Promise<Deployment | undefined>;

  /** Assigns consecutive seq numbers per deployment, starting at 1. */
  appendLogs(deploymentId: string, lines: NewLogLine[]): Promise<LogLine[]>;
  readLogs(deploymentId: string, sinceSeq: number, limit?: number): Promise<LogLine[]>;
  /** Drops a deployment's stored log (retention); its seq numbers are not reused. */
  deleteLogs(deploymentId: string): Promise<void>;

  /**
   * Appends to an app's runtime log (seq per app, consecutive from 1) and drops its oldest chunks once the lines kept
   * cost more than `keepBytes` (runtimeLineBytes each): a log flood costs bounded storage.
   */
  appendRuntimeLogs(app: string, lines: NewRuntimeLogLine[], keepBytes: number): Promise<RuntimeLogLine[]>;
  readRuntimeLogs(app: string, sinceSeq: number, limit?: number): Promise<RuntimeLogLine[]>;
  /** Drops an app's runtime log (the app is deleted); its seq numbers are not reused. */
  deleteRuntimeLogs(app: string): Promise<void>;

  /** App env, already sealed (encrypted) by the caller. */
  getEnv(app: string): Promise<Record<string, string>>;
  putEnv(app: string, sealed: Record<string, string>): Promise<void>;
  /**
   * Sets the given entries of the app's env (a null value removes the entry) in one atomic write: entries another
   * writer sets or removes at the same time are kept, so concurrent patches of one map never lose each other.
   */
  patchEnv(app: string, changes: Record<string, string | null>): Promise<void>;

  /** Records that `consumer` handled `eventId`; false when it already had (a redelivery). */
  markProcessed(consumer: string, eventId: string): Promise<boolean>;
}
