import * as vscode from 'vscode';
import { CloudSmithClient, isTerminal } from '@cloudsmith/client';
import { AppLogs } from './appLogs';
import { Auth } from './auth';
import { registerCommands } from './commands';
import { apiUrl, githubApiUrl } from './config';
import { BuildDiagnostics } from './buildDiagnostics';
import { ConnectionMonitor } from './model/connection';
import { Deployments } from './deployments';
import { DeployOnPush } from './deployOnPush';
import { createGitHub } from './github';
import { HealthWatch } from './healthWatch';
import { LogChannel } from './logs';
import type { Services } from './services';
import { inProgress } from './model/status';
import { StatusBar } from './statusBar';
import type { UserInput } from './userInput';
import { VsCodeUserInput } from './vscodeUserInput';
import { Launchboard } from './views/launchboard';
import { RepositoriesTree } from './views/repositoriesTree';
import { workspaceRepo } from './workspace';

/** Set by the bundle's first line (esbuild banner), so activation time includes evaluating our own code. */
declare const __cloudsmithLoadStart: number | undefined;
const loadedAt = typeof __cloudsmithLoadStart === 'number' ? __cloudsmithLoadStart : performance.now();

/** What activate() returns to other extensions and tests: the prompt answerer can be swapped. */
export interface CloudSmithApi {
  activationMs: number;
  setUserInput(ui: UserInput): void;
}

export async function activate(context: vscode.ExtensionContext): Promise<CloudSmithApi> {
  const auth = new Auth(context.globalState);
  const token = () => auth.token();
  const client = new CloudSmithClient({ baseUrl: apiUrl(), token });
  const connection = new ConnectionMonitor({ probe: () => client.health() });
  const logs = new LogChannel(() => client.baseUrl, token);
  const appLogs = new AppLogs(client);
  const statusBar = new StatusBar();
  const deployments = new Deployments(client, logs, statusBar, connection);
  const github = createGitHub(githubApiUrl, token);
  const push = new DeployOnPush(context.workspaceState, client, deployments, logs, githubApiUrl);
  const tree = new RepositoriesTree(auth, client, github, () => client.baseUrl, deployments, connection, push);
  const diagnostics = new BuildDiagnostics(client, githubApiUrl);
  const launchboard = new Launchboard(context.extensionUri, client, github, tree, deployments);
  const services: Services = {
    context,
    auth,
    client,
    github,
    ui: new VsCodeUserInput(),
    logs,
    appLogs,
    deployments,
    push,
    tree,
    launchboard,
    connection,
    githubApiUrl,
  };

  const view = vscode.window.createTreeView('cloudsmith.repositories', {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  const health = new HealthWatch(
    client,
    () => auth.signedIn && connection.online,
    (apps, changed) => {
      statusBar.setHealth(apps);
      if (changed) tree.refresh(true);
    },
  );
  context.subscriptions.push(
    auth,
    logs,
    appLogs,
    health,
    statusBar,
    deployments,
    push,
    push.onDidChange(() => {
      tree.refresh(true);
    }),
    tree,
    launchboard,
    view,
    view.onDidExpandElement((e) => {
      tree.remember(e.element, true);
    }),
    view.onDidCollapseElement((e) => {
      tree.remember(e.element, false);
    }),
    connection.onDidChange((online) => {
      onConnectionChange(services, statusBar, online);
    }),
    {
      dispose: () => {
        connection.dispose();
      },
    },
    ...registerCommands(services),
  );
  context.subscriptions.push(
    auth.onDidChange((session) => {
      void vscode.commands.executeCommand('setContext', 'cloudsmith.signedIn', !!session);
      tree.refresh();
      if (!session) {
        statusBar.set({ kind: 'signedOut' });
        appLogs.stopAll();
      } else {
        void reflectWorkspaceApp(services, statusBar);
        void health.poll();
      }
    }),
    deployments.onDidChange((e) => {
      if (!e.line) tree.refresh(true);
    }),
    diagnostics,
    deployments.onDidChange((e) => {
      if (e.line || !isTerminal(e.deployment.status)) return;
      diagnostics.settle(e.deployment).catch((err: unknown) => {
        logs.info(`Build errors of ${e.deployment.id} could not be read: ${String(err)}`);
      });
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('cloudsmith'))
        void vscode.window
          .showInformationMessage('CloudSmith: reload the window to use the new API URL.', 'Reload')
          .then((c) => c && vscode.commands.executeCommand('workbench.action.reloadWindow'));
    }),
  );

  connection.start();
  health.start();
  void push.start();
  const activationMs = Math.round(performance.now() - loadedAt);
  logs.info(`CloudSmith activated in ${activationMs} ms (API ${client.baseUrl})`);
  // Session lookup and the workspace's app are network calls: after activation, never blocking it.
  void auth.refresh().then((session) => {
    void vscode.commands.executeCommand('setContext', 'cloudsmith.signedIn', !!session);
    if (!session) statusBar.set({ kind: 'signedOut' });
    else void reflectWorkspaceApp(services, statusBar);
  });

  return {
    activationMs,
    setUserInput: (ui) => {
      services.ui = ui;
    },
  };
}

/**
 * Offline: the status bar drops what may be stale and says so, once in the channel. Back online: the tree is
 * redrawn (it keeps its expanded rows) and the status bar shows the latest deployment's state afresh.
 */
function onConnectionChange(s: Services, statusBar: StatusBar, online: boolean): void {
  if (!online) {
    s.logs.info(`CloudSmith backend at ${s.client.baseUrl} does not answer: ${s.connection.offlineReason ?? ''}`);
    statusBar.setOffline(s.client.baseUrl);
    s.tree.refresh();
    return;
  }
  s.logs.info(`CloudSmith backend at ${s.client.baseUrl} answers again`);
  statusBar.setOffline(undefined);
  s.tree.refresh();
  const last = s.deployments.last;
  if (last && !s.deployments.isRunning(last.id))
    void s.client.getDeployment(last.id).then(
      (fresh) => {
        s.deployments.update(fresh);
      },
      () => undefined,
    );
}

/** At start (and after sign-in) the status bar shows the workspace app's latest deployment. */
async function reflectWorkspaceApp(s: Services, statusBar: StatusBar): Promise<void> {
  const local = await workspaceRepo(s.githubApiUrl());
  if (!local) {
    if (statusBar.state.kind === 'signedOut') statusBar.set({ kind: 'hidden' });
    return;
  }
  const latest = (await s.client.listDeployments(local.repo, 1).catch(() => [])).at(0);
  if (!latest) {
    statusBar.set({ kind: 'hidden' });
    return;
  }
  if (inProgress(latest.status)) void s.deployments.follow(latest, { progress: false });
  else s.deployments.update(latest);
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
