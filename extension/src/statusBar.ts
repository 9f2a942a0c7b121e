import * as vscode from 'vscode';
import { statusBarView, type StatusBarState } from './model/status';

/** One item: spinning while a deploy runs, the live URL (click opens it), or the failure (click shows logs). */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('cloudsmith.status', vscode.StatusBarAlignment.Left, 50);
  private current: StatusBarState = { kind: 'hidden' };

  constructor() {
    this.item.name = 'CloudSmith';
  }

  get state(): StatusBarState {
    return this.current;
  }

  set(state: StatusBarState): void {
    this.current = state;
    const view = statusBarView(state);
    if (!view) {
      this.item.hide();
      return;
    }
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    const d = state.kind === 'deployment' ? state.deployment : undefined;
    switch (view.action) {
      case 'openUrl':
        this.item.command = { title: 'Open App', command: 'cloudsmith.openApp', arguments: [d?.url] };
        break;
      case 'showLogs':
        this.item.command = { title: 'Show Logs', command: 'cloudsmith.showLogs', arguments: [d?.id] };
        break;
      case 'signIn':
        this.item.command = 'cloudsmith.signIn';
        break;
      default:
        this.item.command = undefined;
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
