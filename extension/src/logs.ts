import * as vscode from 'vscode';
import {
  streamLogs,
  type DeploymentView,
  type LogMessage,
  type ReconnectInfo,
  type StreamResult,
} from '@cloudsmith/client';
import { LogPrinter } from './model/logFormat';

/** How far a deployment's log is in the channel: resumed from there, never printed twice. */
interface Printed {
  lastSeq: number;
  ended: boolean;
}

/** The "CloudSmith" output channel, fed live from the API's WebSocket with a header per stage. */
export class LogChannel implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('CloudSmith');
  private readonly printed = new Map<string, Printed>();

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

  /** True once the deployment's whole log (up to its end) is in the channel. */
  hasWholeLog(id: string): boolean {
    return this.printed.get(id)?.ended === true;
  }

  /**
   * Prints a deployment's log from the start (or from the last line already printed) until it ends; a dropped
   * connection resumes with `since`, so nothing is printed twice or lost.
   */
  follow(
    deployment: Pick<DeploymentView, 'id' | 'repo'>,
    signal: AbortSignal,
    onMessage?: (m: LogMessage) => void,
    onReconnect?: (info: ReconnectInfo) => void,
  ): Promise<StreamResult> {
    const printer = new LogPrinter(deployment.id, deployment.repo);
    const printed = this.printed.get(deployment.id) ?? { lastSeq: 0, ended: false };
    this.printed.set(deployment.id, printed);
    const header = printer.header();
    if (printed.lastSeq > 0) header[1] = `${header[1]} (continued)`;
    for (const line of header) this.channel.appendLine(line);
    return streamLogs({
      baseUrl: this.apiUrl(),
      token: this.token,
      deploymentId: deployment.id,
      since: printed.lastSeq,
      signal,
      onMessage: (message) => {
        for (const line of printer.lines(message)) this.channel.appendLine(line);
        if (message.type === 'log') printed.lastSeq = message.seq;
        if (message.type === 'end') printed.ended = true;
        onMessage?.(message);
      },
      onReconnect: (info) => {
        for (const line of printer.reconnecting(info.since, info.reason, info.attempt)) this.channel.appendLine(line);
        onReconnect?.(info);
      },
    });
  }

  dispose(): void {
    this.channel.dispose();
  }
}
