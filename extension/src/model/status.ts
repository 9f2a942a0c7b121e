import { isInFlight, type AppHealth, type DeploymentStatus, type DeploymentView } from '@cloudsmith/client';
import { healthText, unhealthy } from './health';

/**
 * Every status the extension may be shown. `crashed` (a live app whose process died) is written here too so
 * the extension shows it as a warning whether or not the API's type lists it yet.
 */
export type AnyStatus = DeploymentStatus | 'crashed';

/** Codicons per status, shared by the tree, the status bar and the webview timeline. */
export const STATUS_ICON: Record<AnyStatus, string> = {
  queued: 'clock',
  fetching: 'cloud-download',
  building: 'tools',
  deploying: 'rocket',
  live: 'pass-filled',
  failed: 'error',
  cancelled: 'circle-slash',
  superseded: 'history',
  crashed: 'warning',
};

export function inProgress(status: AnyStatus): boolean {
  return isInFlight(status);
}

/** "3s ago", "5m ago", "2h ago", "4d ago": the tree's deployment age. */
export function age(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : '';
}

type StatusBarDeployment = Pick<DeploymentView, 'id' | 'repo' | 'url' | 'error'> &
  Partial<Pick<DeploymentView, 'app'>> & { status: AnyStatus };

export type StatusBarState =
  | { kind: 'hidden' }
  | { kind: 'signedOut' }
  | {
      kind: 'deployment';
      deployment: StatusBarDeployment;
      /** The backend does not answer: a URL shown now might be stale, and a running deploy is not "building". */
      offline?: boolean;
      /** The app's health (from the app list): a live app that crashes or errors shows a warning. */
      health?: AppHealth;
    }
  | { kind: 'offline'; apiUrl: string };

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** What clicking does. */
  action: 'signIn' | 'openUrl' | 'showLogs' | 'showAppLogs' | 'retry' | 'none';
  severity: 'normal' | 'error' | 'warning';
}

/** The status bar's text for a state: pure so it is unit-tested and shared with the e2e's expectations. */
export function statusBarView(state: StatusBarState): StatusBarView | undefined {
  switch (state.kind) {
    case 'hidden':
      return undefined;
    case 'signedOut':
      return {
        text: '$(cloud) CloudSmith: Sign in',
        tooltip: 'Sign in with GitHub to deploy',
        action: 'signIn',
        severity: 'normal',
      };
    case 'offline':
      return {
        text: '$(debug-disconnect) CloudSmith: offline',
        tooltip: `The CloudSmith backend at ${state.apiUrl} does not answer; retrying. Click to retry now.`,
        action: 'retry',
        severity: 'warning',
      };
    case 'deployment':
      return state.offline ? offlineDeploymentView(state.deployment) : deploymentView(state.deployment, state.health);
  }
}

function offlineDeploymentView(d: StatusBarDeployment): StatusBarView {
  if (inProgress(d.status))
    return {
      text: `$(sync~spin) CloudSmith: reconnecting… ${d.repo}`,
      tooltip: `Lost contact with the CloudSmith backend while deploying ${d.repo}; reconnecting. Click to show its logs.`,
      action: 'showLogs',
      severity: 'warning',
    };
  return {
    text: `$(debug-disconnect) CloudSmith: offline`,
    tooltip: `The CloudSmith backend does not answer, so the state of ${d.repo} is unknown; retrying. Click to retry now.`,
    action: 'retry',
    severity: 'warning',
  };
}

function deploymentView(d: StatusBarDeployment, health: AppHealth | undefined): StatusBarView {
  if (inProgress(d.status)) {
    return {
      text: `$(sync~spin) CloudSmith: ${d.status} ${d.repo}`,
      tooltip: `Deployment ${d.id.slice(0, 8)} of ${d.repo} is ${d.status}. Click to show its logs.`,
      action: 'showLogs',
      severity: 'normal',
    };
  }
  const sick = d.status === 'live' ? unhealthy(health) : undefined;
  if (sick) {
    return {
      text: `$(warning) CloudSmith: ${d.repo} ${sick.state}`,
      tooltip: `${d.repo} is live at ${d.url ?? 'its URL'} but ${healthText(sick)}. Click to show the app's logs.`,
      action: 'showAppLogs',
      severity: 'warning',
    };
  }
  if (d.status === 'live' && d.url) {
    return {
      text: `$(globe) ${d.url}`,
      tooltip: `${d.repo} is live at ${d.url}. Click to open it.`,
      action: 'openUrl',
      severity: 'normal',
    };
  }
  if (d.status === 'failed') {
    return {
      text: `$(error) CloudSmith: ${d.repo} failed`,
      tooltip: `Deploy of ${d.repo} failed: ${d.error ?? 'unknown reason'}. Click to show the logs.`,
      action: 'showLogs',
      severity: 'error',
    };
  }
  if (d.status === 'crashed') {
    return {
      text: `$(warning) CloudSmith: ${d.repo} crashed`,
      tooltip: `The app of ${d.repo} stopped running${d.error ? `: ${d.error}` : ''}. Click to show the logs.`,
      action: 'showLogs',
      severity: 'warning',
    };
  }
  return {
    text: `$(circle-slash) CloudSmith: ${d.repo} ${d.status}`,
    tooltip: `Deployment ${d.id.slice(0, 8)} of ${d.repo} was ${d.status}. Click to show its logs.`,
    action: 'showLogs',
    severity: 'warning',
  };
}
