import type { AppView } from '@cloudsmith/client';
import type { RepoInfo } from './tree';

/** How Deploy on Push acts for the workspace's repo (kept per repo in the workspace state). */
export interface PushSetting {
  /** The branch whose pushes deploy: the app's production branch. */
  branch: string;
  /**
   * `deploy`: VS Code starts a deployment of the pushed commit (a laptop GitHub cannot reach). `follow`: the
   * platform's webhook deploys it, VS Code streams that deployment's log and deploys only if none comes.
   */
  mode: 'deploy' | 'follow';
}

/**
 * The branch whose pushes deploy: the webhook's production branch, else the branch the app was last deployed from
 * (a deployment by commit sha says nothing), else the checked-out one.
 */
export function productionBranch(from: { hookBranch?: string; lastRef?: string; checkedOut?: string }): string {
  const lastBranch = from.lastRef && !/^[0-9a-f]{40}$/.test(from.lastRef) ? from.lastRef : undefined;
  return from.hookBranch ?? lastBranch ?? from.checkedOut ?? 'main';
}

/** The rows under a repository beside Deployments and Branches. */
export type ExtraNode =
  | { kind: 'pushToggle'; repo: RepoInfo; setting?: PushSetting }
  | { kind: 'previewsFolder'; repo: RepoInfo; app: string; count: number }
  | { kind: 'preview'; repo: RepoInfo; preview: AppView }
  | { kind: 'noPreviews'; repo: RepoInfo };

/** Production apps by repo (lowercased), and the previews of each production app by its name. */
export function splitApps(apps: readonly AppView[]): {
  production: Map<string, AppView>;
  previews: Map<string, AppView[]>;
} {
  const production = new Map<string, AppView>();
  const previews = new Map<string, AppView[]>();
  for (const app of apps) {
    if (app.preview) previews.set(app.preview.of, [...(previews.get(app.preview.of) ?? []), app]);
    else production.set(app.repo.toLowerCase(), app);
  }
  return { production, previews };
}

/** The toggle only under the workspace's repo; the Previews folder only when the app has previews. */
export function extraNodes(
  repo: RepoInfo,
  options: { workspaceRepo?: string; setting?: PushSetting; app?: AppView; previews?: readonly AppView[] },
): ExtraNode[] {
  const nodes: ExtraNode[] = [];
  if (options.workspaceRepo?.toLowerCase() === repo.fullName.toLowerCase())
    nodes.push({ kind: 'pushToggle', repo, setting: options.setting });
  const count = options.previews?.length ?? 0;
  if (options.app && count > 0) nodes.push({ kind: 'previewsFolder', repo, app: options.app.name, count });
  return nodes;
}

/** Pull requests first (newest number first), then branches by name. */
export function previewNodes(repo: RepoInfo, previews: readonly AppView[]): ExtraNode[] {
  if (previews.length === 0) return [{ kind: 'noPreviews', repo }];
  const order = (a: AppView) => (a.preview?.kind === 'pr' ? -(a.preview.pr ?? 0) : 0);
  return [...previews]
    .sort((a, b) => order(a) - order(b) || (a.preview?.ref ?? '').localeCompare(b.preview?.ref ?? ''))
    .map((preview) => ({ kind: 'preview' as const, repo, preview }));
}

export function extraNodeId(node: ExtraNode): string | undefined {
  switch (node.kind) {
    case 'pushToggle':
      return `push:${node.repo.fullName}`;
    case 'previewsFolder':
      return `previews:${node.repo.fullName}`;
    case 'preview':
      return `preview:${node.preview.name}`;
    default:
      return undefined;
  }
}

export interface ExtraView {
  label: string;
  description?: string;
  tooltip?: string;
  accessibilityLabel?: string;
  icon: string;
  contextValue: string;
  collapsible: boolean;
  command?: string;
}

export function extraNodeView(node: ExtraNode): ExtraView {
  switch (node.kind) {
    case 'pushToggle': {
      const s = node.setting;
      const state = !s ? 'off' : s.mode === 'follow' ? `on · ${s.branch} via webhook` : `on · ${s.branch}`;
      return {
        label: 'Deploy on push',
        description: state,
        tooltip: !s
          ? 'Off: click to deploy every successful `git push` of the production branch from this workspace.'
          : s.mode === 'follow'
            ? `On: the platform's GitHub webhook deploys pushes of ${s.branch}; VS Code streams their logs (and deploys if no deployment comes). Click to turn off.`
            : `On: after a successful \`git push\` of ${s.branch}, VS Code deploys that commit. Click to turn off.`,
        accessibilityLabel: `Deploy on push, ${s ? `on for ${s.branch}` : 'off'}`,
        icon: s ? 'cloud-upload' : 'circle-slash',
        contextValue: s ? 'pushToggle.on' : 'pushToggle.off',
        collapsible: false,
        command: 'cloudsmith.toggleDeployOnPush',
      };
    }
    case 'previewsFolder':
      return {
        label: 'Previews',
        description: String(node.count),
        icon: 'git-pull-request',
        contextValue: 'folder',
        collapsible: true,
      };
    case 'noPreviews':
      return { label: 'No previews', icon: 'info', contextValue: 'none', collapsible: false };
    case 'preview': {
      const p = node.preview;
      const what = p.preview?.kind === 'pr' ? `PR #${p.preview.pr ?? '?'}` : `branch ${p.preview?.ref ?? ''}`;
      const live = p.url && p.liveDeploymentId ? p.url : undefined;
      return {
        label: what,
        description: live ?? 'not live',
        tooltip: [`${what} (${p.preview?.ref ?? ''}) · app ${p.name}`, live ? `Live at ${live}` : 'Not live yet']
          .filter(Boolean)
          .join('\n'),
        accessibilityLabel: `preview ${what}, ${live ? 'live' : 'not live'}`,
        icon: live ? 'globe' : 'circle-outline',
        contextValue: live ? 'preview.live' : 'preview',
        collapsible: false,
        command: live ? 'cloudsmith.openApp' : undefined,
      };
    }
  }
}
