import * as vscode from 'vscode';
import { ApiError, type AppView, type CloudSmithClient } from '@cloudsmith/client';
import type { Auth } from '../auth';
import type { Deployments } from '../deployments';
import type { GitHub } from '../github';
import type { ConnectionMonitor } from '../model/connection';
import {
  branchNodes,
  deploymentNodes,
  nodeId,
  nodeView,
  repoChildren,
  rootNodes,
  type RepoInfo,
  type RootState,
  type TreeNode,
} from '../model/tree';
import { extraNodes, previewNodes, splitApps, type PushSetting } from '../model/repoExtras';

/** What the tree shows of Deploy on Push: which repo is the workspace's, and its setting. */
export interface PushState {
  readonly workspaceRepo: string | undefined;
  setting(repo: string): PushSetting | undefined;
}

/** The Repositories view: the user's GitHub repos, each with its branches and recent deployments. */
export class RepositoriesTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private repos: Promise<RepoInfo[]> | undefined;
  private apps = new Map<string, AppView>();
  /** Preview apps by the name of the production app they preview. */
  private previews = new Map<string, AppView[]>();
  private filterText = '';
  /**
   * Rows the user expanded, by id: an outage replaces the rows with one Retry row, and VS Code forgets the
   * expansion of rows that disappeared, so the tree restores it itself on recovery.
   */
  private readonly expanded = new Set<string>();
  /** Deployments folders start expanded: the ones the user collapsed. */
  private readonly collapsed = new Set<string>();

  constructor(
    private readonly auth: Auth,
    private readonly client: CloudSmithClient,
    private readonly github: GitHub,
    private readonly apiUrl: () => string,
    private readonly deployments: Deployments,
    private readonly connection: ConnectionMonitor,
    private readonly push?: PushState,
  ) {}

  get filter(): string {
    return this.filterText;
  }

  setFilter(text: string): void {
    this.filterText = text;
    this.changed.fire(undefined);
  }

  /** Refetches repositories too; `soft` only redraws with fresh deployments. */
  refresh(soft = false): void {
    if (!soft) this.repos = undefined;
    this.changed.fire(undefined);
  }

  /** Wired to the TreeView's expand/collapse events. */
  remember(node: TreeNode, expanded: boolean): void {
    const id = nodeId(node);
    if (!id) return;
    if (expanded) {
      this.expanded.add(id);
      this.collapsed.delete(id);
    } else {
      this.expanded.delete(id);
      this.collapsed.add(id);
    }
  }

  appFor(repo: string): AppView | undefined {
    return this.apps.get(repo.toLowerCase());
  }

  async listRepos(): Promise<RepoInfo[]> {
    this.repos ??= this.github.repos().catch((err: unknown) => {
      this.repos = undefined;
      throw err;
    });
    return this.repos;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const view = nodeView(node);
    const id = nodeId(node);
    const item = new vscode.TreeItem(view.label, this.collapsibleState(node, view.collapsible, id));
    item.id = id;
    item.description = view.description;
    item.tooltip = view.tooltip;
    item.contextValue = view.contextValue;
    item.iconPath = new vscode.ThemeIcon(view.icon);
    if (view.accessibilityLabel) item.accessibilityInformation = { label: view.accessibilityLabel };
    if (view.command) item.command = { title: view.label, command: view.command, arguments: commandArguments(node) };
    return item;
  }

  private collapsibleState(node: TreeNode, collapsible: boolean, id: string | undefined) {
    if (!collapsible) return vscode.TreeItemCollapsibleState.None;
    const open = node.kind === 'deploymentsFolder' ? !this.collapsed.has(id ?? '') : this.expanded.has(id ?? '');
    return open ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) return rootNodes(await this.rootState());
    switch (node.kind) {
      case 'repo': {
        const app = this.appFor(node.repo.fullName);
        const workspaceRepo = this.push?.workspaceRepo;
        return [
          ...repoChildren(node.repo),
          ...extraNodes(node.repo, {
            workspaceRepo,
            setting: workspaceRepo ? this.push.setting(workspaceRepo) : undefined,
            app,
            previews: app ? this.previews.get(app.name) : undefined,
          }),
        ];
      }
      case 'previewsFolder':
        return previewNodes(
          node.repo,
          await this.client.previews(node.app).catch(() => this.previews.get(node.app) ?? []),
        );
      case 'branchesFolder':
        return branchNodes(
          node.repo,
          await this.github.branches(node.repo.fullName).catch(() => [node.repo.defaultBranch]),
        );
      case 'deploymentsFolder': {
        const deployments = await this.client.listDeployments(node.repo.fullName, 10).catch(() => []);
        return deploymentNodes(node.repo, deployments, this.appFor(node.repo.fullName)?.liveDeploymentId).map((n) =>
          n.kind === 'deployment' ? { ...n, cause: this.deployments.causes.get(n.deployment.id) } : n,
        );
      }
      default:
        return [];
    }
  }

  private async rootState(): Promise<RootState> {
    if (!this.auth.signedIn && !(await this.auth.refresh())) return { signedIn: false };
    try {
      const apps = await this.client.listApps();
      // Previews share their production app's repo: the repo's row is the production app's.
      ({ production: this.apps, previews: this.previews } = splitApps(apps));
      this.connection.reportUp();
    } catch (err) {
      if (err instanceof ApiError && (err.unreachable || err.status >= 500)) {
        this.connection.reportDown(err.message);
        return { signedIn: true, backend: 'unreachable', apiUrl: this.apiUrl(), message: err.message };
      }
      if (!(err instanceof ApiError)) return { signedIn: false };
    }
    const repos = await this.listRepos().catch((err: unknown) => ({ error: (err as Error).message }));
    return {
      signedIn: true,
      backend: 'ok',
      repos,
      filter: this.filterText,
      apps: this.apps,
      attention: this.deployments.attention,
    };
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** A deployment row passes itself (Show Logs), a live preview its URL (Open App); other rows nothing. */
function commandArguments(node: TreeNode): unknown[] {
  if (node.kind === 'deployment') return [node];
  if (node.kind === 'preview' && node.preview.url) return [node.preview.url];
  return [];
}
