import type { AppView, DeploymentView } from '@cloudsmith/client';
import { age, inProgress, shortSha, STATUS_ICON } from './status';

export interface RepoInfo {
  fullName: string;
  defaultBranch: string;
  private: boolean;
  description?: string | null;
}

/** What a tree row is; the VS Code adapter maps it 1:1 onto a TreeItem. */
export type TreeNode =
  | { kind: 'signIn' }
  | { kind: 'unreachable'; apiUrl: string; message: string }
  | { kind: 'empty'; filtered: boolean }
  | { kind: 'error'; message: string }
  | { kind: 'repo'; repo: RepoInfo; app?: AppView }
  | { kind: 'branchesFolder'; repo: RepoInfo }
  | { kind: 'deploymentsFolder'; repo: RepoInfo }
  | { kind: 'branch'; repo: RepoInfo; name: string; isDefault: boolean }
  | { kind: 'deployment'; repo: RepoInfo; deployment: DeploymentView; isLive: boolean }
  | { kind: 'noDeployments'; repo: RepoInfo };

export interface NodeView {
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  /** Drives the context menus in package.json (`viewItem == ...`). */
  contextValue: string;
  collapsible: boolean;
  /** A command run on click, by id. */
  command?: string;
}

export type RootState =
  | { signedIn: false }
  | { signedIn: true; backend: 'unreachable'; apiUrl: string; message: string }
  | {
      signedIn: true;
      backend: 'ok';
      repos: RepoInfo[] | { error: string };
      filter?: string;
      apps: Map<string, AppView>;
    };

/** The top level: the states the issue asks for (not signed in, backend unreachable, no repositories), else repos. */
export function rootNodes(state: RootState): TreeNode[] {
  if (!state.signedIn) return [{ kind: 'signIn' }];
  if (state.backend === 'unreachable') return [{ kind: 'unreachable', apiUrl: state.apiUrl, message: state.message }];
  if (!Array.isArray(state.repos)) return [{ kind: 'error', message: state.repos.error }];
  const filter = state.filter?.trim().toLowerCase();
  const repos = filter ? state.repos.filter((r) => r.fullName.toLowerCase().includes(filter)) : state.repos;
  if (repos.length === 0) return [{ kind: 'empty', filtered: !!filter }];
  return [...repos]
    .sort((a, b) => a.fullName.localeCompare(b.fullName))
    .map((repo) => ({ kind: 'repo' as const, repo, app: state.apps.get(repo.fullName.toLowerCase()) }));
}

export function repoChildren(repo: RepoInfo): TreeNode[] {
  return [
    { kind: 'deploymentsFolder', repo },
    { kind: 'branchesFolder', repo },
  ];
}

export function branchNodes(repo: RepoInfo, branches: string[]): TreeNode[] {
  const sorted = [...branches].sort((a, b) =>
    a === repo.defaultBranch ? -1 : b === repo.defaultBranch ? 1 : a.localeCompare(b),
  );
  return sorted.map((name) => ({ kind: 'branch' as const, repo, name, isDefault: name === repo.defaultBranch }));
}

/** Newest first (as the API returns them), at most `limit`; marks the one that serves the app now. */
export function deploymentNodes(
  repo: RepoInfo,
  deployments: DeploymentView[],
  liveId: string | null | undefined,
  limit = 10,
): TreeNode[] {
  if (deployments.length === 0) return [{ kind: 'noDeployments', repo }];
  return deployments
    .slice(0, limit)
    .map((deployment) => ({ kind: 'deployment' as const, repo, deployment, isLive: deployment.id === liveId }));
}

export function nodeView(node: TreeNode, now: number = Date.now()): NodeView {
  switch (node.kind) {
    case 'signIn':
      return {
        label: 'Sign in with GitHub to see your repositories',
        icon: 'account',
        contextValue: 'signIn',
        collapsible: false,
        command: 'cloudsmith.signIn',
      };
    case 'unreachable':
      return {
        label: 'CloudSmith backend unreachable — Retry',
        description: node.apiUrl,
        tooltip: `${node.message}\nCheck the cloudsmith.apiUrl setting, then click to retry.`,
        icon: 'debug-disconnect',
        contextValue: 'unreachable',
        collapsible: false,
        command: 'cloudsmith.refresh',
      };
    case 'error':
      return {
        label: 'Could not list repositories — Retry',
        tooltip: node.message,
        icon: 'warning',
        contextValue: 'error',
        collapsible: false,
        command: 'cloudsmith.refresh',
      };
    case 'empty':
      return node.filtered
        ? {
            label: 'No repositories match the filter',
            icon: 'filter',
            contextValue: 'empty',
            collapsible: false,
            command: 'cloudsmith.filterRepositories',
          }
        : { label: 'No repositories found for this account', icon: 'info', contextValue: 'empty', collapsible: false };
    case 'repo': {
      const live = node.app?.url && node.app.liveDeploymentId ? node.app.url : undefined;
      return {
        label: node.repo.fullName,
        description: live ?? (node.repo.private ? 'private' : undefined),
        tooltip: [node.repo.fullName, node.repo.description, live ? `Live at ${live}` : 'Not live']
          .filter(Boolean)
          .join('\n'),
        icon: live ? 'globe' : node.repo.private ? 'lock' : 'repo',
        contextValue: live ? 'repo.live' : 'repo',
        collapsible: true,
      };
    }
    case 'deploymentsFolder':
      return { label: 'Deployments', icon: 'history', contextValue: 'folder', collapsible: true };
    case 'branchesFolder':
      return { label: 'Branches', icon: 'git-branch', contextValue: 'folder', collapsible: true };
    case 'branch':
      return {
        label: node.name,
        description: node.isDefault ? 'default' : undefined,
        icon: 'git-branch',
        contextValue: 'branch',
        collapsible: false,
      };
    case 'noDeployments':
      return { label: 'No deployments yet', icon: 'info', contextValue: 'none', collapsible: false };
    case 'deployment': {
      const d = node.deployment;
      const parts = [d.status + (node.isLive ? ' (serving)' : ''), age(d.createdAt, now), shortSha(d.commitSha)].filter(
        Boolean,
      );
      const contextValue = inProgress(d.status)
        ? 'deployment.running'
        : node.isLive
          ? 'deployment.live'
          : d.url || d.status === 'superseded'
            ? 'deployment.past'
            : 'deployment.done';
      return {
        label: `${d.ref}`,
        description: parts.join(' · '),
        tooltip: [
          `Deployment ${d.id}`,
          `${d.repo}@${d.ref} ${shortSha(d.commitSha)}`,
          `Status: ${d.status}`,
          d.url ? `URL: ${d.url}` : '',
          d.error ? `Error: ${d.error}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
        icon: inProgress(d.status) ? 'sync~spin' : STATUS_ICON[d.status],
        contextValue,
        collapsible: false,
        command: 'cloudsmith.showLogs',
      };
    }
  }
}
