import * as vscode from 'vscode';
import { streamLogs, type StreamResult } from '@cloudsmith/client';
import type { DeploymentView, LogMessage } from '@cloudsmith/client';
import { LogPrinter } from './model/logFormat';

/** The "CloudSmith" output channel, fed live from the API's WebSocket with a header per stage. */
export class LogChannel implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('CloudSmith');

  constructor(
    private readonly apiUrl: () => string,
    private readonly token: () => Promise<string>,
  ) {}

  info(text: string): void {
    this.channel.appendLine(`[${new Date().toLocaleTimeString()}] ${text}`);
  }

  show(): void {
    this.channel.show(true);
  }

  /**
   * Prints a deployment's log from the start (or the last printed line) until it ends; a dropped connection
   * resumes with `since`, so nothing is printed twice or lost.
   */
  follow(
    deployment: Pick<DeploymentView, 'id' | 'repo'>,
    signal: AbortSignal,
    onMessage?: (m: LogMessage) => void,
  ): Promise<StreamResult> {
    const printer = new LogPrinter(deployment.id, deployment.repo);
    for (const line of printer.header()) this.channel.appendLine(line);
    return streamLogs({
      baseUrl: this.apiUrl(),
      token: this.token,
      deploymentId: deployment.id,
      signal,
      onMessage: (message) => {
        for (const line of printer.lines(message)) this.channel.appendLine(line);
        onMessage?.(message);
      },
      onReconnect: (info) => {
        for (const line of printer.reconnecting(info.since, info.reason)) this.channel.appendLine(line);
      },
    });
  }

  dispose(): void {
    this.channel.dispose();
  }
}
