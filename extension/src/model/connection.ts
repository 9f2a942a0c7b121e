/**
 * Whether the CloudSmith backend answers. Fed by every call that fails or succeeds, and by its own health probe:
 * rarely while online (to notice an outage with nothing else running), often while offline (to notice the
 * recovery quickly). Free of VS Code so its transitions are unit-tested with a fake clock.
 */
export interface ConnectionOptions {
  /** Resolves when the backend answers, rejects when it does not. */
  probe: () => Promise<void>;
  onlineEveryMs?: number;
  offlineEveryMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export type ConnectionListener = (online: boolean, reason?: string) => void;

export class ConnectionMonitor {
  private state = true;
  private reason: string | undefined;
  private timer: unknown;
  private stopped = true;
  private readonly listeners: ConnectionListener[] = [];
  private readonly onlineEveryMs: number;
  private readonly offlineEveryMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: ConnectionOptions) {
    this.onlineEveryMs = options.onlineEveryMs ?? 15_000;
    this.offlineEveryMs = options.offlineEveryMs ?? 2_000;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer =
      options.clearTimer ??
      ((h) => {
        clearTimeout(h as NodeJS.Timeout);
      });
  }

  get online(): boolean {
    return this.state;
  }

  /** Why the backend is considered offline (the last error), while it is. */
  get offlineReason(): string | undefined {
    return this.state ? undefined : this.reason;
  }

  onDidChange(listener: ConnectionListener): { dispose(): void } {
    this.listeners.push(listener);
    return { dispose: () => void this.listeners.splice(this.listeners.indexOf(listener), 1) };
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Probes now; true when the backend answered. */
  async check(): Promise<boolean> {
    try {
      await this.options.probe();
      this.reportUp();
      return true;
    } catch (err) {
      this.reportDown(err instanceof Error ? err.message : String(err));
      return false;
    }
  }

  reportDown(reason: string): void {
    this.reason = reason;
    if (!this.state) return;
    this.state = false;
    this.emit();
    this.schedule();
  }

  reportUp(): void {
    if (this.state) return;
    this.state = true;
    this.reason = undefined;
    this.emit();
    this.schedule();
  }

  dispose(): void {
    this.stopped = true;
    this.clearTimer(this.timer);
    this.listeners.length = 0;
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener(this.state, this.reason);
  }

  private schedule(): void {
    this.clearTimer(this.timer);
    if (this.stopped) return;
    this.timer = this.setTimer(
      () => {
        void this.check().finally(() => {
          this.schedule();
        });
      },
      this.state ? this.onlineEveryMs : this.offlineEveryMs,
    );
  }
}
