import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { CloudSmithClient, DeployRequest } from '@cloudsmith/client';
import type { Deployments } from '../deployments';
import type { GitHub } from '../github';
import { healthCharts } from '../model/health';
import { isFromWebview, type ToWebview } from '../webview/messages';
import type { RepositoriesTree } from './repositoriesTree';

/** How often the open board redraws the selected app's health charts. */
const HEALTH_EVERY_MS = 30_000;

/**
 * The Launchboard: a deploy form (repo, branch, root dir, commands, env), the running deployment's stage
 * timeline, last log lines and URL, and the selected app's health over the last hour. Strict CSP with a
 * per-render nonce; only the extension's own files load.
 */
export class Launchboard implements vscode.Disposable {
  static readonly viewType = 'cloudsmith.launchboard';
  private panel: vscode.WebviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pendingRepo: string | undefined;
  /** The repository the board shows, whose app's health is redrawn every HEALTH_EVERY_MS while it is open. */
  private shownRepo: string | undefined;
  private healthTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: CloudSmithClient,
    private readonly github: GitHub,
    private readonly tree: RepositoriesTree,
    private readonly deployments: Deployments,
  ) {
    this.disposables.push(
      deployments.onDidChange((e) => {
        if (e.line) this.post({ type: 'log', deploymentId: e.deployment.id, line: e.line });
        else this.post({ type: 'deployment', deployment: e.deployment, cause: e.cause, lastStage: e.lastStage });
        if (!e.line && e.deployment.status === 'live' && e.deployment.repo === this.shownRepo)
          void this.sendHealth(e.deployment.repo);
      }),
    );
  }

  show(repo?: string): void {
    this.pendingRepo = repo ?? this.pendingRepo;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Active);
      if (repo) void this.sendRepos();
      return;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel(
      Launchboard.viewType,
      'CloudSmith Launchboard',
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        localResourceRoots: [media],
        // Keeps typed env values (which are not persisted) when the tab is hidden; one small form is cheap to keep.
        retainContextWhenHidden: true,
      },
    );
    this.panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'dist', 'media', 'cloudsmith.svg');
    this.panel.webview.html = this.html(this.panel.webview, media);
    this.panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m), undefined, this.disposables);
    this.healthTimer = setInterval(() => {
      if (this.shownRepo) void this.sendHealth(this.shownRepo);
    }, HEALTH_EVERY_MS);
    this.panel.onDidDispose(
      () => {
        this.panel = undefined;
        clearInterval(this.healthTimer);
      },
      undefined,
      this.disposables,
    );
  }

  private post(message: ToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  private async receive(message: unknown): Promise<void> {
    if (!isFromWebview(message)) return;
    try {
      switch (message.type) {
        case 'ready':
          await this.sendRepos();
          if (this.deployments.last) {
            const last = this.deployments.last;
            this.post({ type: 'deployment', deployment: last, cause: this.deployments.causes.get(last.id) });
          }
          return;
        case 'selectRepo':
          await this.sendRepoDetails(message.repo);
          return;
        case 'deploy':
          await this.deploy(message.request);
          return;
        case 'cancel':
          // Through the command, so the webview's Cancel asks for the same confirmation as the palette's.
          await vscode.commands.executeCommand('cloudsmith.cancel', message.deploymentId);
          return;
        case 'openUrl':
          await vscode.env.openExternal(vscode.Uri.parse(message.url));
          return;
        case 'showLogs':
          await vscode.commands.executeCommand('cloudsmith.showLogs', message.deploymentId);
          return;
      }
    } catch (err) {
      this.post({ type: 'error', message: (err as Error).message });
    }
  }

  private async sendRepos(): Promise<void> {
    const [repos, apps] = await Promise.all([this.tree.listRepos(), this.client.listApps().catch(() => [])]);
    const appOf = new Map(apps.map((a) => [a.repo.toLowerCase(), a.name]));
    this.post({
      type: 'repos',
      repos: repos.map((r) => ({
        fullName: r.fullName,
        defaultBranch: r.defaultBranch,
        app: appOf.get(r.fullName.toLowerCase()),
      })),
      selected: this.pendingRepo,
    });
  }

  private async sendRepoDetails(repo: string): Promise<void> {
    const info = (await this.tree.listRepos()).find((r) => r.fullName === repo);
    const branches = await this.github.branches(repo);
    this.post({ type: 'branches', repo, branches, defaultBranch: info?.defaultBranch ?? branches.at(0) ?? 'main' });
    const apps = await this.client.listApps().catch(() => []);
    const app = apps.find((a) => a.repo.toLowerCase() === repo.toLowerCase());
    this.post({ type: 'env', repo, env: app ? await this.client.getEnv(app.name).catch(() => ({})) : {} });
    this.shownRepo = repo;
    if (app) void this.sendHealth(repo, app.name);
    // The board shows the selected repository's latest deployment (a failure keeps its cause and its stage).
    const latest = (await this.client.listDeployments(repo, 1).catch(() => [])).at(0);
    if (latest)
      this.post({
        type: 'deployment',
        deployment: latest,
        cause: this.deployments.causes.get(latest.id),
        lastStage: this.deployments.lastStages.get(latest.id),
      });
  }

  /** The app's last hour as chart series; nothing is drawn when the API has no metrics for it. */
  private async sendHealth(repo: string, knownApp?: string): Promise<void> {
    const app =
      knownApp ??
      (await this.client.listApps().catch(() => [])).find((a) => a.repo.toLowerCase() === repo.toLowerCase())?.name;
    if (!app) return;
    const metrics = await this.client.metrics(app).catch(() => undefined);
    if (metrics) this.post({ type: 'health', repo, app, charts: healthCharts(metrics), health: metrics.health });
  }

  private async deploy(request: DeployRequest): Promise<void> {
    const clean: DeployRequest = { repo: request.repo };
    if (request.ref) clean.ref = request.ref;
    for (const key of ['rootDir', 'installCommand', 'buildCommand', 'startCommand', 'outputDir'] as const) {
      const value = request[key]?.trim();
      if (value) clean[key] = value;
    }
    if (request.env && Object.keys(request.env).length > 0) clean.env = request.env;
    const deployment = await this.deployments.deploy(clean);
    this.post({ type: 'deployment', deployment });
  }

  private html(webview: vscode.Webview, media: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.css'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource}`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>CloudSmith Launchboard</title>
</head>
<body>
<main id="app"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    clearInterval(this.healthTimer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
