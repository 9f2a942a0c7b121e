import type { AppHealth, DeploymentView, DeployRequest, LogLineMessage } from '@cloudsmith/client';
import type { Chart } from '../model/health';

/** Messages between the Launchboard webview and the extension: typed on both sides, validated on receipt. */
export type ToWebview =
  | {
      type: 'repos';
      /** `app`: the app a repo already deploys to, named beside Deploy. */
      repos: Array<{ fullName: string; defaultBranch: string; app?: string }>;
      selected?: string;
    }
  | { type: 'branches'; repo: string; branches: string[]; defaultBranch: string }
  | { type: 'env'; repo: string; env: Record<string, string> }
  | { type: 'deployment'; deployment: DeploymentView; cause?: string; lastStage?: DeploymentView['status'] }
  | { type: 'log'; deploymentId: string; line: LogLineMessage }
  /** The repository's app's last hour, drawn as sparklines (the series are computed by the extension). */
  | { type: 'health'; repo: string; app: string; charts: Chart[]; health: AppHealth }
  | { type: 'error'; message: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'selectRepo'; repo: string }
  | { type: 'deploy'; request: DeployRequest }
  | { type: 'cancel'; deploymentId: string }
  | { type: 'openUrl'; url: string }
  | { type: 'showLogs'; deploymentId: string };

/** What the webview keeps with setState, so hiding and showing the panel loses nothing. */
export interface LaunchboardState {
  repo?: string;
  ref?: string;
  rootDir?: string;
  installCommand?: string;
  buildCommand?: string;
  startCommand?: string;
  /** Names only: values stay in the form (the panel keeps its page while hidden) and are never persisted. */
  envKeys?: string[];
  /** The repository the env rows were typed for (they are cleared when another one is selected). */
  envRepo?: string;
  deployment?: DeploymentView;
  /** The first error line of a failed deployment, and the stage it was last seen in. */
  cause?: string;
  lastStage?: DeploymentView['status'];
  lines?: string[];
}

export function isFromWebview(value: unknown): value is FromWebview {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return true;
    case 'selectRepo':
      return typeof m.repo === 'string';
    case 'deploy': {
      const r = m.request as Record<string, unknown> | null | undefined;
      return typeof r === 'object' && r !== null && typeof r.repo === 'string';
    }
    case 'cancel':
    case 'showLogs':
      return typeof m.deploymentId === 'string';
    case 'openUrl':
      return typeof m.url === 'string' && /^https?:\/\//.test(m.url);
    default:
      return false;
  }
}
