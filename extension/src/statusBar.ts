import * as vscode from 'vscode';
import type { AppHealth, AppView } from '@cloudsmith/client';
import { statusBarView, type StatusBarState } from './model/status';

/**
 * One item: spinning while a deploy runs (click shows its logs), the live URL (click opens it), a warning when
 * the live app crashes or errors (click shows its App Logs), the failure (click shows logs), or "offline" while
 * the backend does not answer (a URL shown then may be stale, so it is dropped).
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('cloudsmith.status', vscode.StatusBarAlignment.Left, 50);
  private current: StatusBarState = { kind: 'hidden' };
  private offlineApiUrl: string | undefined;
  private health = new Map<string, AppHealth>();

  constructor() {
    this.item.name = 'CloudSmith';
  }

  get state(): StatusBarState {
    return this.current;
  }

  set(state: StatusBarState): void {
    this.current = state;
    this.render();
  }

  /** The backend's URL while it is offline, undefined once it answers again. */
  setOffline(apiUrl: string | undefined): void {
    this.offlineApiUrl = apiUrl;
    this.render();
  }

  /** The apps' health from the latest app list (a live app that turned unhealthy shows as a warning). */
  setHealth(apps: readonly AppView[]): void {
    this.health = new Map(apps.flatMap((a) => (a.health ? [[a.name, a.health] as const] : [])));
    this.render();
  }

  private shown(): StatusBarState {
    const state = this.withHealth(this.current);
    if (this.offlineApiUrl === undefined) return state;
    if (state.kind === 'deployment') return { ...state, offline: true };
    if (state.kind === 'hidden') return { kind: 'offline', apiUrl: this.offlineApiUrl };
    return state;
  }

  private withHealth(state: StatusBarState): StatusBarState {
    if (state.kind !== 'deployment' || !state.deployment.app) return state;
    return { ...state, health: this.health.get(state.deployment.app) };
  }

  private render(): void {
    const state = this.shown();
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
      case 'showAppLogs':
        this.item.command = { title: 'Show App Logs', command: 'cloudsmith.showAppLogs', arguments: [d?.app] };
        break;
      case 'signIn':
        this.item.command = 'cloudsmith.signIn';
        break;
      case 'retry':
        this.item.command = 'cloudsmith.refresh';
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
