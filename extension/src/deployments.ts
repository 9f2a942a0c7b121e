import * as vscode from 'vscode';
import {
  isTerminal,
  type CloudSmithClient,
  type DeploymentView,
  type DeployRequest,
  type LogLineMessage,
  type StreamResult,
} from '@cloudsmith/client';
import { failureSummary, firstErrorLine, type StagedLine } from './model/failure';
import type { ConnectionMonitor } from './model/connection';
import type { RepoAttention } from './model/tree';
import type { LogChannel } from './logs';
import type { StatusBar } from './statusBar';

export interface DeploymentEvent {
  deployment: DeploymentView;
  line?: LogLineMessage;
  /** For a failed deployment: the first log line that says what went wrong. */
  cause?: string;
  /** The last in-progress stage it was seen in (where a failure happened). */
  lastStage?: DeploymentView['status'];
}

interface Watch {
  done: Promise<DeploymentView>;
  abort: AbortController;
}

/** Enough log lines to find the first error of a failing build without keeping whole logs in memory. */
const MAX_KEPT_LINES = 2000;

/**
 * Starts deployments and follows them: progress notification with Cancel, status bar, events for the tree and
 * the Launchboard, and the output channel (opened on failure only: progress lives in the notification and the
 * status bar). One log stream per deployment however many views watch it.
 */
export class Deployments implements vscode.Disposable {
  private readonly watches = new Map<string, Watch>();
  private readonly changed = new vscode.EventEmitter<DeploymentEvent>();
  readonly onDidChange = this.changed.event;
  /** The deployment the user touched last: what Show Logs, Cancel and Redeploy act on without an argument. */
  last: DeploymentView | undefined;
  /** First error line per failed deployment id, for messages and tooltips. */
  readonly causes = new Map<string, string>();
  /** Repos (lowercased) whose latest deployment failed or crashed: the tree marks their row. */
  readonly attention = new Map<string, RepoAttention>();
  /** The last in-progress status seen per deployment id: where a failure happened. */
  readonly lastStages = new Map<string, DeploymentView['status']>();

  constructor(
    private readonly client: CloudSmithClient,
    private readonly logs: LogChannel,
    private readonly statusBar: StatusBar,
    private readonly connection: ConnectionMonitor,
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

  /** Show Logs: the channel already holding the whole log is only revealed; otherwise the log is printed once. */
  async showLogs(deployment: DeploymentView): Promise<void> {
    this.logs.show();
    if (this.watches.has(deployment.id) || this.logs.hasWholeLog(deployment.id)) return;
    await this.follow(deployment, { progress: false });
  }

  /** Streams the deployment's log into the output channel until it ends; resolves with its final state. */
  follow(deployment: DeploymentView, options: { progress: boolean }): Promise<DeploymentView> {
    const existing = this.watches.get(deployment.id);
    if (existing) return existing.done;
    this.update(deployment);
    const abort = new AbortController();
    let current = deployment;
    let report: ((status: string) => void) | undefined;
    const kept: StagedLine[] = [];
    const stream = this.logs.follow(
      deployment,
      abort.signal,
      (message) => {
        if (!this.connection.online) {
          this.connection.reportUp();
          report?.(current.status);
        }
        if (message.type === 'log') {
          if (kept.length < MAX_KEPT_LINES) kept.push({ stage: message.stage, text: message.text });
          this.changed.fire({ deployment: current, line: message });
          return;
        }
        current = {
          ...current,
          status: message.status,
          url: message.url ?? current.url,
          error: message.error ?? current.error,
        };
        if (current.status === 'failed') this.noteCause(current, kept);
        report?.(message.status);
        this.update(current);
      },
      (info) => {
        this.connection.reportDown(info.reason);
        report?.('reconnecting…');
      },
    );
    const done = this.finish(current, stream, kept).finally(() => this.watches.delete(deployment.id));
    this.watches.set(deployment.id, { done, abort });
    if (options.progress && !isTerminal(deployment.status)) {
      void vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `CloudSmith: deploying ${deployment.repo}`,
          cancellable: true,
        },
        async (progress, token) => {
          report = (status) => {
            progress.report({ message: status });
          };
          report(deployment.status);
          token.onCancellationRequested(() => {
            void this.cancel(deployment.id);
          });
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
    if (!isTerminal(deployment.status)) this.lastStages.set(deployment.id, deployment.status);
    this.noteAttention(deployment);
    this.statusBar.set({ kind: 'deployment', deployment });
    this.changed.fire({
      deployment,
      cause: this.causes.get(deployment.id),
      lastStage: this.lastStages.get(deployment.id),
    });
  }

  /** The user-facing reason of a failure: the first error line of its log, then what the platform reported. */
  failureText(deployment: DeploymentView): string {
    return failureSummary(deployment.error, this.causes.get(deployment.id));
  }

  private noteCause(deployment: DeploymentView, lines: readonly StagedLine[]): void {
    const cause = firstErrorLine(lines);
    if (cause) this.causes.set(deployment.id, cause);
  }

  private noteAttention(d: DeploymentView): void {
    const key = d.repo.toLowerCase();
    const status = d.status as string;
    if (status === 'failed' || status === 'crashed')
      this.attention.set(key, { status: status, cause: this.failureText(d) });
    else if (status !== 'cancelled' && status !== 'superseded') this.attention.delete(key);
  }

  private async finish(
    started: DeploymentView,
    stream: Promise<StreamResult>,
    lines: readonly StagedLine[],
  ): Promise<DeploymentView> {
    try {
      await stream;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return started;
      this.logs.info(`Lost the log stream: ${(err as Error).message}`);
    }
    // The API's record is the truth (timings, commit, final URL), whatever the stream said.
    const final = await this.client.getDeployment(started.id).catch(() => undefined);
    if (!final) return started;
    if (final.status === 'failed') this.noteCause(final, lines);
    this.update(final);
    const url = final.url;
    if (final.status === 'live' && url) {
      void vscode.window
        .showInformationMessage(`CloudSmith: ${final.repo} is live at ${url}`, 'Open')
        .then((choice) => {
          if (choice === 'Open') void vscode.env.openExternal(vscode.Uri.parse(url));
        });
    } else if (final.status === 'failed') {
      // The one moment the log matters: show the channel, and offer the two next steps on the message.
      this.logs.show();
      void vscode.window
        .showErrorMessage(
          `CloudSmith: deploy of ${final.repo}@${final.ref} failed: ${this.failureText(final)}`,
          'Redeploy',
          'Show Logs',
        )
        .then((choice) => {
          if (choice === 'Redeploy') void vscode.commands.executeCommand('cloudsmith.redeploy', final.id);
          if (choice === 'Show Logs') void this.showLogs(final);
        });
    }
    return final;
  }

  dispose(): void {
    for (const watch of this.watches.values()) watch.abort.abort();
    this.changed.dispose();
  }
}
