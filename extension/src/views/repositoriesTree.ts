import * as vscode from 'vscode';
import { ApiError, type CloudSmithClient } from '@cloudsmith/client';
import type { AppView } from '@cloudsmith/client';
import type { Auth } from '../auth';
import type { GitHub } from '../github';
import {
  branchNodes,
  deploymentNodes,
  nodeView,
  repoChildren,
  rootNodes,
  type RepoInfo,
  type RootState,
  type TreeNode,
} from '../model/tree';

/** The Repositories view: the user's GitHub repos, each with its branches and recent deployments. */
export class RepositoriesTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private repos: Promise<RepoInfo[]> | undefined;
  private apps = new Map<string, AppView>();
  private filterText = '';

  constructor(
    private readonly auth: Auth,
    private readonly client: CloudSmithClient,
    private readonly github: GitHub,
    private readonly apiUrl: () => string,
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
    const item = new vscode.TreeItem(
      view.label,
      view.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.description = view.description;
    item.tooltip = view.tooltip;
    item.contextValue = view.contextValue;
    item.iconPath = new vscode.ThemeIcon(view.icon);
    if (node.kind === 'repo') item.id = `repo:${node.repo.fullName}`;
    if (node.kind === 'deploymentsFolder') item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
    if (view.command)
      item.command = { title: view.label, command: view.command, arguments: node.kind === 'deployment' ? [node] : [] };
    return item;
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) return rootNodes(await this.rootState());
    switch (node.kind) {
      case 'repo':
        return repoChildren(node.repo);
      case 'branchesFolder':
        return branchNodes(
          node.repo,
          await this.github.branches(node.repo.fullName).catch(() => [node.repo.defaultBranch]),
        );
      case 'deploymentsFolder': {
        const deployments = await this.client.listDeployments(node.repo.fullName, 10).catch(() => []);
        return deploymentNodes(node.repo, deployments, this.appFor(node.repo.fullName)?.liveDeploymentId);
      }
      default:
        return [];
    }
  }

  private async rootState(): Promise<RootState> {
    if (!this.auth.signedIn && !(await this.auth.refresh())) return { signedIn: false };
    try {
      const apps = await this.client.listApps();
      this.apps = new Map(apps.map((a) => [a.repo.toLowerCase(), a]));
    } catch (err) {
      if (err instanceof ApiError && (err.unreachable || err.status >= 500)) {
        return { signedIn: true, backend: 'unreachable', apiUrl: this.apiUrl(), message: err.message };
      }
      if (!(err instanceof ApiError)) return { signedIn: false };
    }
    const repos = await this.listRepos().catch((err: unknown) => ({ error: (err as Error).message }));
    return { signedIn: true, backend: 'ok', repos, filter: this.filterText, apps: this.apps };
  }

  dispose(): void {
    this.changed.dispose();
  }
}
