import * as vscode from 'vscode';
import type { CloudSmithClient, DeploymentView } from '@cloudsmith/client';
import type { Deployments } from './deployments';
import { gitApi, repositoryAt, type GitBranch, type GitRepository } from './gitApi';
import type { LogChannel } from './logs';
import {
  detectPush,
  lastUpdate,
  upstreamReflogPath,
  type GitSnapshot,
  type UpstreamUpdate,
} from './model/pushDetection';
import type { PushSetting } from './model/repoExtras';
import { shortSha } from './model/status';
import { workspaceRepo } from './workspace';

const KEY = 'cloudsmith.deployOnPush:';
/** How long `follow` mode waits for the webhook's deployment of a pushed commit before deploying itself. */
const WEBHOOK_GRACE_MS = 45_000;

/**
 * Deploy on Push for the workspace's repository: watches the Git extension's state of the workspace folder and,
 * after a successful `git push` of the tracked branch (from the Source Control view, a terminal or any tool),
 * deploys exactly the pushed commit, or follows the deployment the platform's webhook started for it.
 */
export class DeployOnPush implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private watching: vscode.Disposable | undefined;
  /** Bumped by every start(): a start() that finds a newer one began while it awaited gives way. */
  private generation = 0;
  /** Commits already deployed or followed: a state change seen twice deploys once. */
  private readonly handled = new Set<string>();
  /** Set by start(): the workspace's GitHub repo, the only one the toggle applies to. */
  workspaceRepo: string | undefined;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly client: CloudSmithClient,
    private readonly deployments: Deployments,
    private readonly logs: LogChannel,
    private readonly githubApiUrl: () => string,
  ) {}

  setting(repo: string): PushSetting | undefined {
    const value = this.memento.get<unknown>(KEY + repo.toLowerCase());
    if (!value || typeof value !== 'object') return undefined;
    const { branch, mode } = value as Partial<PushSetting>;
    return typeof branch === 'string' && (mode === 'deploy' || mode === 'follow') ? { branch, mode } : undefined;
  }

  async set(repo: string, setting: PushSetting | undefined): Promise<void> {
    await this.memento.update(KEY + repo.toLowerCase(), setting);
    this.changed.fire();
    await this.start();
  }

  /** (Re)starts watching according to the workspace repo's setting. */
  async start(): Promise<void> {
    const generation = ++this.generation;
    this.watching?.dispose();
    this.watching = undefined;
    const local = await workspaceRepo(this.githubApiUrl());
    if (this.workspaceRepo !== local?.repo) {
      this.workspaceRepo = local?.repo;
      this.changed.fire();
    }
    const setting = local ? this.setting(local.repo) : undefined;
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!local || !setting || !folder) return;
    const api = await gitApi();
    if (!api) {
      this.logs.info('Deploy on push needs the built-in Git extension (vscode.git), which is disabled or missing.');
      return;
    }
    const repository = await repositoryAt(api, folder.uri);
    if (!repository) {
      this.logs.info(`Deploy on push: the Git extension did not open the repository at ${folder.uri.fsPath}.`);
      return;
    }
    if (generation !== this.generation) return;
    this.watching = this.watch(local.repo, setting, repository);
    this.logs.info(
      `Deploy on push is on for ${local.repo}: a push of ${setting.branch} ${setting.mode === 'follow' ? "is deployed by the platform's webhook; its log streams here" : 'deploys that commit'}.`,
    );
  }

  private watch(repo: string, setting: PushSetting, repository: GitRepository): vscode.Disposable {
    let prev = snapshot(repository.state.HEAD);
    // Verdicts in order: each state change is judged against the one before it.
    let queue = Promise.resolve();
    return repository.state.onDidChange(() => {
      const before = prev;
      const next = snapshot(repository.state.HEAD);
      prev = next;
      queue = queue.then(async () => {
        const moved = next.upstream?.commit && next.upstream.commit !== before.upstream?.commit;
        if (!moved) return;
        const verdict = detectPush(before, next, setting.branch, await this.upstreamUpdate(repository, next));
        if (!verdict.pushed) {
          if (next.branch === setting.branch) this.logs.info(`Deploy on push: not deploying (${verdict.reason}).`);
          return;
        }
        if (this.handled.has(verdict.commit)) return;
        this.handled.add(verdict.commit);
        await this.onPush(repo, setting, verdict.commit, verdict.forced).catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          this.logs.info(`Deploy on push of ${repo} at ${shortSha(verdict.commit)} failed: ${message}`);
          void vscode.window.showErrorMessage(`CloudSmith: deploy on push of ${repo} failed: ${message}`);
        });
      });
    });
  }

  private async onPush(repo: string, setting: PushSetting, commit: string, forced: boolean): Promise<void> {
    const what = `${setting.branch} at ${shortSha(commit)}${forced ? ' (force push)' : ''}`;
    if (setting.mode === 'follow') {
      this.logs.info(`Pushed ${what}: waiting for the deployment the webhook starts for ${repo}`);
      const started = await this.deploymentOf(repo, commit, WEBHOOK_GRACE_MS);
      if (started) {
        void this.deployments.follow(started, { progress: true });
        return;
      }
      this.logs.info(`No deployment of ${shortSha(commit)} came from the webhook: deploying from VS Code`);
    } else {
      this.logs.info(`Pushed ${what}: deploying ${repo}`);
      const existing = await this.deploymentOf(repo, commit, 0);
      if (existing) {
        this.logs.info(`A deployment of ${shortSha(commit)} is already running (${existing.id}): following it`);
        void this.deployments.follow(existing, { progress: true });
        return;
      }
    }
    await this.deployments.deploy({ repo, ref: setting.branch, commitSha: commit });
  }

  /** A recent deployment of exactly this commit, polled for up to `waitMs`. */
  private async deploymentOf(repo: string, commit: string, waitMs: number): Promise<DeploymentView | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const found = (await this.client.listDeployments(repo, 10)).find(
        (d) => d.commitSha === commit && d.status !== 'cancelled' && d.status !== 'failed',
      );
      if (found || Date.now() >= deadline) return found;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }

  /** Who moved the upstream ref, from its reflog in the repository's .git directory. */
  private async upstreamUpdate(repository: GitRepository, next: GitSnapshot): Promise<UpstreamUpdate> {
    const path = next.upstream ? upstreamReflogPath(next.upstream) : undefined;
    if (!path) return { by: 'unknown' };
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(repository.rootUri, '.git', path));
      return lastUpdate(new TextDecoder().decode(bytes));
    } catch {
      // A worktree (.git is a file) or reflogs turned off: the state alone decides.
      return { by: 'unknown' };
    }
  }

  dispose(): void {
    this.watching?.dispose();
    this.changed.dispose();
  }
}

function snapshot(head: GitBranch | undefined): GitSnapshot {
  return {
    branch: head?.name,
    head: head?.commit,
    upstream: head?.upstream && { ...head.upstream },
    ahead: head?.ahead,
    behind: head?.behind,
  };
}
