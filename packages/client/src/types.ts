/**
 * The API's wire shapes as clients see them. Kept free of backend internals (and of any runtime import) so
 * the extension can bundle this folder and the CLI can share it.
 */
import type { DeploymentStatus } from './status';

export type LogStage = 'fetch' | 'build' | 'deploy' | 'runtime' | 'system';

export interface StageTimings {
  fetchMs?: number;
  buildMs?: number;
  deployMs?: number;
  totalMs?: number;
}

export interface DeploymentOverrides {
  rootDir?: string;
  installCommand?: string;
  buildCommand?: string;
  startCommand?: string;
  outputDir?: string;
}

export interface DeploymentView {
  id: string;
  app: string;
  repo: string;
  ref: string;
  commitSha: string | null;
  status: DeploymentStatus;
  url: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  timings: StageTimings;
  overrides?: DeploymentOverrides;
  /** The deployment whose artifact this one re-released, for rollbacks. */
  rollbackOf?: string | null;
}

export interface AppView {
  name: string;
  repo: string;
  url: string | null;
  liveDeploymentId: string | null;
  createdAt?: string;
}

export interface DeployRequest extends DeploymentOverrides {
  repo: string;
  ref?: string;
  env?: Record<string, string>;
}

export interface LogLineMessage {
  type: 'log';
  seq: number;
  ts: string;
  stage: LogStage;
  text: string;
}

export interface StatusMessage {
  type: 'status';
  status: DeploymentStatus;
  url?: string;
  error?: string;
}

export interface EndMessage {
  type: 'end';
  status: DeploymentStatus;
  url?: string;
  error?: string;
}

export type LogMessage = LogLineMessage | StatusMessage | EndMessage;

/** The API's error body: `{ "error": { "code": "...", "message": "..." } }`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Where a client finds the API and the caller's GitHub token (a function, so a refreshed session is picked up). */
export type TokenSource = () => Promise<string> | string;
