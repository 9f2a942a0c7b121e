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
  /** The live release's health (see AppMetrics.health); absent when the API has no reading for the app. */
  health?: AppHealth;
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
  /** Deploys exactly this commit (full sha), recorded under `ref`: what Deploy on Push sends after a push. */
  commitSha?: string;
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

/** Which output a runtime log line came from; "event" lines are the runtime's own (started, crashed, restarted, stopped). */
export type RuntimeLogStream = 'stdout' | 'stderr' | 'event';

/** One line of an app's own output (GET /api/apps/:app/runtime-logs, and the stream WebSocket). */
export interface RuntimeLogLine {
  /** Per app, increasing; resume with `since=<seq>`. Old lines are dropped (bounded retention), so seqs may start above 1. */
  seq: number;
  at: string;
  deploymentId: string;
  stream: RuntimeLogStream;
  text: string;
}

export type AppHealthState = 'healthy' | 'crashing' | 'erroring' | 'stopped' | 'unknown';

export interface AppHealth {
  state: AppHealthState;
  reason?: string;
}

/** One minute of an app's traffic and runtime readings. */
export interface MetricsBucket {
  /** The bucket's start. */
  at: string;
  requests: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  p50Ms: number | null;
  p95Ms: number | null;
  memoryMb: number | null;
  restarts: number;
}

/** GET /api/apps/:app/metrics: the last hour, oldest bucket first. */
export interface AppMetrics {
  app: string;
  windowSeconds: number;
  bucketSeconds: number;
  buckets: MetricsBucket[];
  health: AppHealth;
}

/** The API's error body: `{ "error": { "code": "...", "message": "..." } }`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Where a client finds the API and the caller's GitHub token (a function, so a refreshed session is picked up). */
export type TokenSource = () => Promise<string> | string;
