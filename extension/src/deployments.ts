import * as vscode from 'vscode';
import type { CloudSmithClient } from '@cloudsmith/client';
import type { StreamResult } from '@cloudsmith/client';
import {
  isTerminal,
  type DeploymentView,
  type DeployRequest,
  type LogLineMessage,
} from '@cloudsmith/client';
import type { LogChannel } from './logs';
import type { StatusBar } from './statusBar';

export interface DeploymentEvent {
  deployment: DeploymentView;
  line?: LogLineMessage;
}

interface Watch {
  done: Promise<DeploymentView>;
  abort: AbortController;
}

/**
 * Starts deployments and follows them: output channel, progress notification with Cancel, status bar, and
 * events for the tree and the Launchboard. One log stream per deployment however many views watch it.
 */
export class Deployments implements vscode.Disposable {
  private readonly watches = new Map<string, Watch>();
  private readonly changed = new vscode.EventEmitter<DeploymentEvent>();
  readonly onDidChange = this.changed.event;
  /** The deployment the user touched last: what Show Logs, Cancel and Redeploy act on without an argument. */
  last: DeploymentView | undefined;

  constructor(
    private readonly client: CloudSmithClient,
    private readonly logs: LogChannel,
    private readonly statusBar: StatusBar,
  ) {}

  async deploy(request: DeployRequest): Promise<DeploymentView> {
    const deployment = await this.client.deploy(request);
    this.logs.info(
      `Deploying ${request.repo}${request.ref ? `@${request.ref}` : ''} as ${deployment.app} (deployment ${deployment.id})`,
    );
    void this.follow(deployment, { progress: true });
    return deployment;
  }

  isRunning(id: string): boolean {
    return this.watches.has(id);
  }

  /** Streams the deployment's log into the output channel until it ends; resolves with its final state. */
  follow(deployment: DeploymentView, options: { progress: boolean }): Promise<DeploymentView> {
    const existing = this.watches.get(deployment.id);
    if (existing) {
      this.logs.show();
      return existing.done;
    }
    this.update(deployment);
    this.logs.show();
    const abort = new AbortController();
    let current = deployment;
    let report: ((status: string) => void) | undefined;
    const stream = this.logs.follow(deployment, abort.signal, (message) => {
      if (message.type === 'log') {
        this.changed.fire({ deployment: current, line: message });
        return;
      }
      current = {
        ...current,
        status: message.status,
        url: message.url ?? current.url,
        error: message.error ?? current.error,
      };
      report?.(message.status);
      this.update(current);
    });
    const done = this.finish(current, stream).finally(() => this.watches.delete(deployment.id));
    this.watches.set(deployment.id, { done, abort });
    if (options.progress && !isTerminal(deployment.status)) {
      void vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `CloudSmith: deploying ${deployment.repo}`,
          cancellable: true,
        },
        async (progress, token) => {
          report = (status) => progress.report({ message: status });
          report(deployment.status);
          token.onCancellationRequested(() => void this.cancel(deployment.id));
          await done.catch(() => undefined);
        },
      );
    }
    return done;
  }

  async cancel(id: string): Promise<DeploymentView> {
    const cancelled = await this.client.cancel(id);
    this.logs.info(`Cancel requested for deployment ${id}`);
    this.update(cancelled);
    return cancelled;
  }

  /** Reflects a deployment in the status bar (and tells the views) without following its log. */
  update(deployment: DeploymentView): void {
    this.last = deployment;
    this.statusBar.set({ kind: 'deployment', deployment });
    this.changed.fire({ deployment });
  }

  private async finish(started: DeploymentView, stream: Promise<StreamResult>): Promise<DeploymentView> {
    try {
      await stream;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return started;
      this.logs.info(`Lost the log stream: ${(err as Error).message}`);
    }
    // The API's record is the truth (timings, commit, final URL), whatever the stream said.
    const final = await this.client.getDeployment(started.id).catch(() => undefined);
    if (!final) return started;
    this.update(final);
    if (final.status === 'live' && final.url) {
      void vscode.window
        .showInformationMessage(`CloudSmith: ${final.repo} is live at ${final.url}`, 'Open')
        .then((choice) => {
          if (choice === 'Open') void vscode.env.openExternal(vscode.Uri.parse(final.url!));
        });
    } else if (final.status === 'failed') {
      void vscode.window
        .showErrorMessage(`CloudSmith: deploy of ${final.repo} failed: ${final.error ?? 'unknown reason'}`, 'Show Logs')
        .then((choice) => {
          if (choice === 'Show Logs') this.logs.show();
        });
    }
    return final;
  }

  dispose(): void {
    for (const watch of this.watches.values()) watch.abort.abort();
    this.changed.dispose();
  }
}
