import { isInFlight, type DeploymentStatus, type DeploymentView } from '@cloudsmith/client';

/** Codicons per status, shared by the tree, the status bar and the webview timeline. */
export const STATUS_ICON: Record<DeploymentStatus, string> = {
  queued: 'clock',
  fetching: 'cloud-download',
  building: 'tools',
  deploying: 'rocket',
  live: 'pass-filled',
  failed: 'error',
  cancelled: 'circle-slash',
  superseded: 'history',
};

export function inProgress(status: DeploymentStatus): boolean {
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

export type StatusBarState =
  | { kind: 'hidden' }
  | { kind: 'signedOut' }
  | { kind: 'deployment'; deployment: Pick<DeploymentView, 'id' | 'repo' | 'status' | 'url' | 'error'> };

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** What clicking does. */
  action: 'signIn' | 'openUrl' | 'showLogs' | 'none';
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
    case 'deployment': {
      const d = state.deployment;
      if (inProgress(d.status)) {
        return {
          text: `$(sync~spin) CloudSmith: ${d.status} ${d.repo}`,
          tooltip: `Deployment ${d.id.slice(0, 8)} of ${d.repo} is ${d.status}. Click to show its logs.`,
          action: 'showLogs',
          severity: 'normal',
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
      return {
        text: `$(circle-slash) CloudSmith: ${d.repo} ${d.status}`,
        tooltip: `Deployment ${d.id.slice(0, 8)} of ${d.repo} was ${d.status}. Click to show its logs.`,
        action: 'showLogs',
        severity: 'warning',
      };
    }
  }
}
