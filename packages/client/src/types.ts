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
  /** Set on a preview app: which production app it previews, and for which pull request or branch. */
  preview?: PreviewOf;
}

export interface PreviewOf {
  /** The production app's name. */
  of: string;
  kind: 'pr' | 'branch';
  /** The branch the preview deploys (a pull request's head branch). */
  ref: string;
  pr?: number;
}

/** Auto-deploy settings of an app's GitHub hook (`GET`/`PUT /api/apps/:app/hooks`). */
export interface HookSettingsView {
  /** The payload URL GitHub delivers to. */
  url: string;
  contentType: 'application/json';
  events: string[];
  /** The production branch (also as `branch`, the name older clients read). */
  branch: string;
  productionBranch: string;
  /** A push to the production branch deploys it. */
  deployOnPush: boolean;
  /** Pull requests and other branches get preview apps. */
  previews: boolean;
  /** Live previews kept per app; beyond it the oldest is removed. */
  maxPreviews: number;
  /** The hook's id on the GitHub repo, once the platform registered it there. */
  hookId: number | null;
  /** Only in the answer to enabling the hook (POST): the signing secret, shown once. */
  secret?: string;
}

export interface HookSettingsUpdate {
  deployOnPush?: boolean;
  previews?: boolean;
  productionBranch?: string;
}

/** `POST /api/apps/:app/hooks/register`: registered on the repo, or what to enter by hand in its settings. */
export type HookRegistration =
  | { registered: true; hookId: number }
  | {
      registered: false;
      reason: string;
      manual: { payloadUrl: string; contentType: 'application/json'; secret: string; events: string[] };
    };

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
