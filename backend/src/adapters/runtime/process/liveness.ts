import http from 'node:http';

export interface LivenessOptions {
  /** Time between checks of a live release. */
  intervalMs: number;
  /** A check not answered within this counts as failed (a frozen process accepts connections but never answers). */
  timeoutMs: number;
  /** Failed checks in a row, while the process is running, before the release is reported down. */
  failures: number;
}

export const DEFAULT_LIVENESS: LivenessOptions = { intervalMs: 5000, timeoutMs: 3000, failures: 3 };

export interface LivenessTarget {
  url: string;
  path: string;
  /** False while the process is down (restarting, or given up): no checks count then. */
  isRunning(): boolean;
  /** Whether the running process has had the time a release gets to start; before that, no answer is no failure. */
  isSettled(): boolean;
  /** The release stopped answering while its process runs. */
  onDown(reason: string): void;
  /** It answers again after onDown (or after a crash reported elsewhere). */
  onUp(): void;
}

/**
 * Watches a live release the way its health gate did, for as long as it is live: a process that is running but
 * does not answer (stopped with SIGSTOP, deadlocked, a busy loop) is reported down, so the platform can say
 * `crashed` and restart it, and reported up when it answers again.
 */
export class LivenessWatch {
  private timer?: NodeJS.Timeout;
  private failed = 0;
  private down = false;
  private stopped = false;

  constructor(
    private readonly target: LivenessTarget,
    private readonly options: LivenessOptions = DEFAULT_LIVENESS,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Marks the release down for a reason found elsewhere (a crash loop), so its recovery is reported too. */
  markDown(): void {
    this.down = true;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => {
        this.schedule();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (!this.target.isRunning()) {
      this.failed = 0;
      return;
    }
    const answered = await probe(new URL(this.target.path || '/', this.target.url), this.options.timeoutMs);
    if (this.stopped) return;
    if (answered) {
      this.failed = 0;
      if (this.down) {
        this.down = false;
        this.target.onUp();
      }
      return;
    }
    // A process that just (re)started may not listen yet; a crash loop is reported by its supervisor instead.
    if (!this.target.isRunning() || !this.target.isSettled()) {
      this.failed = 0;
      return;
    }
    this.failed += 1;
    if (this.failed >= this.options.failures && !this.down) {
      this.down = true;
      const seconds = Math.round((this.options.failures * (this.options.intervalMs + this.options.timeoutMs)) / 1000);
      this.target.onDown(`stopped answering its health check (${this.failed} checks over about ${seconds} s)`);
    }
  }
}

/** True when the app answered below 500 within the timeout. */
function probe(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { 'user-agent': 'cloudsmith-health' } });
    req.on('response', (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => {
      resolve(false);
    });
  });
}
