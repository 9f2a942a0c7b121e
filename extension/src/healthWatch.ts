import type * as vscode from 'vscode';
import type { AppView, CloudSmithClient } from '@cloudsmith/client';

const EVERY_MS = 30_000;

/**
 * Polls the app list (which carries each app's health) while signed in and online, so a live app that starts
 * crashing or returning 5xx is flagged in the status bar and the tree between deploys, not only on the next one.
 */
export class HealthWatch implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private states = '';

  constructor(
    private readonly client: CloudSmithClient,
    private readonly active: () => boolean,
    private readonly onApps: (apps: AppView[], healthChanged: boolean) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), EVERY_MS);
    void this.poll();
  }

  async poll(): Promise<void> {
    if (!this.active()) return;
    const apps = await this.client.listApps().catch(() => undefined);
    if (!apps) return;
    const states = apps.map((a) => `${a.name}:${a.health?.state ?? ''}`).join(',');
    const changed = states !== this.states;
    this.states = states;
    this.onApps(apps, changed);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
