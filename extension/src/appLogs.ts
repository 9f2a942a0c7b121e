import * as vscode from 'vscode';
import type { CloudSmithClient, RuntimeLogFollower } from '@cloudsmith/client';
import { AppLogPrinter } from './model/appLogFormat';

interface Followed {
  channel: vscode.OutputChannel;
  printer: AppLogPrinter;
  /** The last line printed: a new follow (after a stop) resumes after it, so nothing is printed twice. */
  lastSeq: number;
  follower?: RuntimeLogFollower;
}

/**
 * One "CloudSmith: App Logs (<app>)" output channel per app, following the app's own output over the API's
 * WebSocket (backlog first, then live; the client reconnects from the last line on drops) until the window
 * closes or the user signs out.
 */
export class AppLogs implements vscode.Disposable {
  private readonly apps = new Map<string, Followed>();

  constructor(private readonly client: CloudSmithClient) {}

  static channelName(app: string): string {
    return `CloudSmith: App Logs (${app})`;
  }

  show(app: string): void {
    let followed = this.apps.get(app);
    if (!followed) {
      followed = {
        channel: vscode.window.createOutputChannel(AppLogs.channelName(app)),
        printer: new AppLogPrinter(app),
        lastSeq: 0,
      };
      this.apps.set(app, followed);
      for (const l of followed.printer.header()) followed.channel.appendLine(l);
    }
    followed.channel.show(true);
    if (!followed.follower) this.follow(app, followed);
  }

  private follow(app: string, f: Followed): void {
    f.follower = this.client.followRuntimeLogs(app, {
      since: f.lastSeq,
      onLine: (line) => {
        for (const l of f.printer.lines(line)) f.channel.appendLine(l);
        f.lastSeq = line.seq;
      },
      onReconnect: (info) => {
        for (const l of f.printer.reconnecting(info)) f.channel.appendLine(l);
      },
      onError: (err) => {
        f.follower = undefined;
        for (const l of f.printer.stopped(err.message)) f.channel.appendLine(l);
      },
    });
  }

  /** Signing out stops every follow (the token is gone); the channels keep what they printed. */
  stopAll(): void {
    for (const f of this.apps.values()) {
      f.follower?.close();
      f.follower = undefined;
    }
  }

  dispose(): void {
    this.stopAll();
    for (const f of this.apps.values()) f.channel.dispose();
    this.apps.clear();
  }
}
