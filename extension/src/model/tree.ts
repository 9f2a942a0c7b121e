import type { AppView, DeploymentView } from '@cloudsmith/client';
import { failureSummary } from './failure';
import { healthText, unhealthy } from './health';
import { extraNodeId, extraNodeView, type ExtraNode } from './repoExtras';
import { age, inProgress, shortSha, STATUS_ICON } from './status';

export interface RepoInfo {
  fullName: string;
  defaultBranch: string;
  private: boolean;
  description?: string | null;
}

/** What a tree row is; the VS Code adapter maps it 1:1 onto a TreeItem. */
export type TreeNode =
  | { kind: 'unreachable'; apiUrl: string; message: string }
  | { kind: 'empty'; filtered: boolean }
  | { kind: 'error'; message: string }
  | { kind: 'repo'; repo: RepoInfo; app?: AppView; attention?: RepoAttention }
  | { kind: 'branchesFolder'; repo: RepoInfo }
  | { kind: 'deploymentsFolder'; repo: RepoInfo }
  | { kind: 'branch'; repo: RepoInfo; name: string; isDefault: boolean }
  | { kind: 'deployment'; repo: RepoInfo; deployment: DeploymentView; isLive: boolean; cause?: string }
  | { kind: 'noDeployments'; repo: RepoInfo }
  | ExtraNode;

export interface NodeView {
  label: string;
  description?: string;
  tooltip?: string;
  /** What a screen reader says for the row: the short name first, never an id. */
  accessibilityLabel?: string;
  icon: string;
  /** Drives the context menus in package.json (`viewItem == ...`). */
  contextValue: string;
  collapsible: boolean;
  /** A command run on click, by id. */
  command?: string;
}

/** The latest deployment's outcome per repo, when it needs the user's attention. */
export interface RepoAttention {
  status: 'failed' | 'crashed';
  cause?: string;
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
      /** Keyed by lowercased repo name. */
      attention?: Map<string, RepoAttention>;
    };

/**
 * The top level: nothing while signed out (so VS Code shows the view's declared welcome content with its Sign In
 * button), Retry when the backend is unreachable, an empty or error row, else the repos.
 */
export function rootNodes(state: RootState): TreeNode[] {
  if (!state.signedIn) return [];
  if (state.backend === 'unreachable') return [{ kind: 'unreachable', apiUrl: state.apiUrl, message: state.message }];
  if (!Array.isArray(state.repos)) return [{ kind: 'error', message: state.repos.error }];
  const filter = state.filter?.trim().toLowerCase();
  const repos = filter ? state.repos.filter((r) => r.fullName.toLowerCase().includes(filter)) : state.repos;
  if (repos.length === 0) return [{ kind: 'empty', filtered: !!filter }];
  return [...repos]
    .sort((a, b) => a.fullName.localeCompare(b.fullName))
    .map((repo) => {
      const key = repo.fullName.toLowerCase();
      const node: TreeNode = { kind: 'repo', repo, app: state.apps.get(key) };
      const attention = state.attention?.get(key);
      return attention ? { ...node, attention } : node;
    });
}

/** A stable id per row, so VS Code keeps selection and expansion across refreshes. */
export function nodeId(node: TreeNode): string | undefined {
  switch (node.kind) {
    case 'repo':
      return `repo:${node.repo.fullName}`;
    case 'deploymentsFolder':
      return `deployments:${node.repo.fullName}`;
    case 'branchesFolder':
      return `branches:${node.repo.fullName}`;
    case 'branch':
      return `branch:${node.repo.fullName}:${node.name}`;
    case 'deployment':
      return `deployment:${node.deployment.id}`;
    case 'pushToggle':
    case 'previewsFolder':
    case 'preview':
      return extraNodeId(node);
    default:
      return undefined;
  }
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
      const attention = node.attention;
      const name = node.repo.fullName.split('/')[1] ?? node.repo.fullName;
      // A live app that keeps crashing or answers 5xx is flagged from the app list's health, between deploys too.
      const sick = live ? unhealthy(node.app?.health) : undefined;
      const flag =
        attention?.status === 'failed'
          ? 'last deploy failed'
          : attention
            ? 'app crashed'
            : sick
              ? `app ${sick.state}`
              : undefined;
      return {
        label: node.repo.fullName,
        description:
          [flag, live ?? (node.repo.private ? 'private' : undefined)].filter(Boolean).join(' · ') || undefined,
        tooltip: [
          node.repo.fullName,
          node.repo.description,
          attention ? `${flag}${attention.cause ? `: ${attention.cause}` : ''}` : undefined,
          !attention && sick ? `The live app is ${healthText(sick)}` : undefined,
          live ? `Live at ${live}` : 'Not live',
        ]
          .filter(Boolean)
          .join('\n'),
        accessibilityLabel: [name, flag, live ? 'live' : undefined, `repository ${node.repo.fullName}`]
          .filter(Boolean)
          .join(', '),
        icon:
          attention?.status === 'failed'
            ? 'error'
            : attention || sick
              ? 'warning'
              : live
                ? 'globe'
                : node.repo.private
                  ? 'lock'
                  : 'repo',
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
      const status = d.status + (node.isLive ? ' (serving)' : '');
      const when = age(d.createdAt, now);
      const sha = shortSha(d.commitSha);
      const contextValue = inProgress(d.status)
        ? 'deployment.running'
        : node.isLive
          ? 'deployment.live'
          : d.url || d.status === 'superseded'
            ? 'deployment.past'
            : 'deployment.done';
      const error = d.status === 'failed' ? failureSummary(d.error, node.cause) : d.error;
      return {
        label: d.ref,
        description: [status, when, sha].filter(Boolean).join(' · '),
        // The short name and the outcome first; the deployment's id last, for support requests.
        tooltip: [
          `${d.ref} · ${status}${d.rollbackOf ? ' (rollback)' : ''}`,
          `${d.repo}${sha ? ` at ${sha}` : ''}, ${when}`,
          d.url ? `URL: ${d.url}` : '',
          error ? `Error: ${error}` : '',
          `Deployment ${d.id}`,
        ]
          .filter(Boolean)
          .join('\n'),
        accessibilityLabel: [d.ref, status, when, sha ? `commit ${sha}` : ''].filter(Boolean).join(', '),
        icon: inProgress(d.status) ? 'sync~spin' : STATUS_ICON[d.status],
        contextValue,
        collapsible: false,
        command: 'cloudsmith.showLogs',
      };
    }
    default:
      return extraNodeView(node);
  }
}
