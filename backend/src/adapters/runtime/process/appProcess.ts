import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { LogBuffer } from '../../../health/health';
import type { PreparedSandbox } from '../../../sandbox/sandbox';
import type { RuntimeEvent, RuntimeOutput } from '../../../ports/runtime';
import { readMemoryBytes } from '../../../metrics/memory';

export interface RestartPolicy {
  /** Restarts allowed in a row; a run that lasted `stableMs` resets the count. */
  maxRestarts: number;
  /** Delay before the first restart, doubled for each further one. */
  backoffMs: number;
  stableMs: number;
}

export interface AppProcessOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  logs: LogBuffer;
  onLine?: (line: string) => void;
  /** Every line by stream, and the process's starts, crashes, restarts and stop as events (the app's runtime log). */
  onOutput?: (line: RuntimeOutput) => void;
  /** The restart policy gave up: the app stays down until a new release. */
  onGaveUp?: (reason: string) => void;
  restart: RestartPolicy;
  /** Time between SIGTERM and SIGKILL when stopping. */
  graceMs: number;
  /** Runs every start (restarts included) inside this sandbox; disposed of when the process is stopped for good. */
  sandbox?: PreparedSandbox;
}

const MAX_LINE_CHARS = 8192;

/** Every process group started in this platform process, killed synchronously if the platform exits without closing its runtime. */
const liveGroups = new Set<AppProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const app of liveGroups) app.killNow();
  });
}

/**
 * One release's process, run as its own process group (the start command may be `npm start` or a shell
 * that forks the real server), so stopping it stops everything it started. Once `supervise()` is called
 * (the release is live), a crash is recorded in its log and the process is restarted with backoff.
 */
export class AppProcess {
  private child?: ChildProcess;
  private pgid?: number;
  private running = false;
  private lastExit?: string;
  private supervised = false;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private starts = 0;
  private restartTimer?: NodeJS.Timeout;
  private exitWaiters: Array<() => void> = [];
  /** The command itself could not be run (missing executable or directory), as opposed to a program that exited. */
  startFailed = false;

  constructor(private readonly opts: AppProcessOptions) {}

  get alive(): boolean {
    return this.running;
  }

  /** How long the current run has lasted (0 when not running). */
  get uptimeMs(): number {
    return this.running ? Date.now() - this.startedAt : 0;
  }

  /** How the process last ended, e.g. "exited with code 1". */
  get exitReason(): string | undefined {
    return this.lastExit;
  }

  /** Memory in use (bytes): the sandbox's cgroup when it has one, else the leader's resident set; undefined when down. */
  memoryBytes(): number | undefined {
    if (!this.running) return undefined;
    return readMemoryBytes({ cgroupDirs: this.opts.sandbox?.cgroup?.dirs, pid: this.pgid });
  }

  start(): void {
    installExitHook();
    liveGroups.add(this);
    this.startFailed = false;
    this.startedAt = Date.now();
    this.starts += 1;
    this.emit(
      this.starts === 1 ? 'started' : 'restarted',
      this.starts === 1 ? 'started' : `restarted (restart ${this.restarts} of ${this.opts.restart.maxRestarts})`,
    );
    const [command, ...args] = this.opts.argv;
    const { sandbox } = this.opts;
    if (sandbox && !findExecutable(command, this.opts.cwd, this.opts.env.PATH)) {
      // Inside the sandbox a missing command is only a launcher's exit code: say it as plainly as an ENOENT.
      this.running = true;
      this.startFailed = true;
      this.child = undefined;
      setImmediate(() => {
        this.ended(undefined, `could not be started: ${command}: command not found`);
      });
      return;
    }
    const [file, ...fileArgs] = [...(sandbox?.prefix ?? []), command, ...args];
    const child = spawn(file, fileArgs, {
      cwd: this.opts.cwd,
      env: this.opts.env,
      // A new session and process group, so the whole tree can be signalled at once.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.pgid = child.pid;
    // Alive until "exit" or a spawn "error" says otherwise (both arrive asynchronously).
    this.running = true;
    pipeLines(child.stdout, (line) => {
      this.line(line, 'stdout');
    });
    pipeLines(child.stderr, (line) => {
      this.line(line, 'stderr');
    });
    let finished = false;
    const finish = (how: string) => {
      if (finished) return;
      finished = true;
      this.ended(child, how);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      // A missing executable or cwd: the process never existed, so no 'exit' follows.
      if (child.pid === undefined) {
        this.startFailed = true;
        finish(
          `could not be started: ${command}: ${err.code === 'ENOENT' ? 'command not found' : (err.code ?? err.message)}`,
        );
      }
    });
    child.on('exit', (code, signal) => {
      const how = code !== null ? `exited with code ${code}` : `was killed by ${signal}`;
      // Its last output may still be in the pipes; record the exit after it unless a leftover child holds them open.
      this.signalGroup('SIGKILL');
      const timer = setTimeout(() => {
        finish(how);
      }, 1000);
      child.once('close', () => {
        clearTimeout(timer);
        finish(how);
      });
    });
  }

  /** From now on a crash restarts the process (up to the policy's limit). */
  supervise(): void {
    this.supervised = true;
  }

  /** SIGTERM to the group, SIGKILL after the grace period; resolves when the process is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.supervised = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.running) {
      this.signalGroup('SIGTERM');
      await this.waitExit(this.opts.graceMs);
    }
    // Children that outlive the leader (or ignore SIGTERM) still hold the group.
    this.signalGroup('SIGKILL');
    if (this.running) await this.waitExit(this.opts.graceMs);
    liveGroups.delete(this);
    if (this.starts > 0) this.emit('stopped', 'stopped');
    await this.opts.sandbox?.dispose();
  }

  /** Kills a running but unresponsive app (a frozen process ignores SIGTERM) so supervision restarts it, as after a crash. */
  killForRestart(): void {
    if (this.running) this.signalGroup('SIGKILL');
  }

  /** Synchronous last resort when the platform process itself is exiting. */
  killNow(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.signalGroup('SIGKILL');
  }

  private line(text: string, stream?: 'stdout' | 'stderr'): void {
    this.opts.logs.push(text);
    this.opts.onLine?.(text);
    if (stream) this.opts.onOutput?.({ stream, text });
  }

  private emit(event: RuntimeEvent, text: string): void {
    this.opts.onOutput?.({ stream: 'event', event, text });
  }

  private ended(child: ChildProcess | undefined, how: string): void {
    if (this.child !== child) return;
    this.running = false;
    this.lastExit = how;
    // Whatever the leader left behind in its group must not keep the port or run on unsupervised.
    this.signalGroup('SIGKILL');
    // Once the group is empty its id may be reused by an unrelated process group: never signal it again.
    this.pgid = undefined;
    if (!this.stopping) this.line(`[cloudsmith] the app ${how}`);
    if (!this.stopping && !this.supervised) this.emit('crashed', `crashed (${how})`);
    for (const wake of this.exitWaiters.splice(0)) wake();
    if (this.supervised && !this.stopping) this.scheduleRestart();
    else liveGroups.delete(this);
  }

  private scheduleRestart(): void {
    const { maxRestarts, backoffMs, stableMs } = this.opts.restart;
    if (Date.now() - this.startedAt >= stableMs) this.restarts = 0;
    if (this.restarts >= maxRestarts) {
      this.line(`[cloudsmith] the app crashed ${this.restarts + 1} times in a row; not restarting it again`);
      const reason = `crashed ${this.restarts + 1} times in a row (the last time it ${this.lastExit ?? 'exited'})`;
      liveGroups.delete(this);
      this.emit(
        'gave-up',
        `crashed (${this.lastExit ?? 'exited'}) ${this.restarts + 1} times in a row; not restarting it`,
      );
      this.opts.onGaveUp?.(reason);
      return;
    }
    const delay = backoffMs * 2 ** this.restarts;
    this.restarts += 1;
    this.line(`[cloudsmith] restarting in ${(delay / 1000).toFixed(1)} s (restart ${this.restarts} of ${maxRestarts})`);
    this.emit('crashed', `crashed (${this.lastExit ?? 'exited'}), restarting in ${(delay / 1000).toFixed(1)} s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.start();
    }, delay);
    this.restartTimer.unref();
  }

  private signalGroup(signal: NodeJS.Signals): void {
    // The sandbox's cgroup holds whatever left the process group (setsid); its PID namespace dies with it.
    if (signal === 'SIGKILL') this.opts.sandbox?.kill();
    if (this.pgid === undefined) return;
    try {
      process.kill(-this.pgid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  private waitExit(timeoutMs: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Where a shell would find `command` (a path, or a name on PATH), judged on the host: the sandbox binds paths where they are. */
function findExecutable(command: string, cwd: string, path: string | undefined): string | undefined {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (path ?? '')
        .split(':')
        .filter(Boolean)
        .map((dir) => join(dir, command));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Feeds a stream's lines to `onLine`, decoding UTF-8 across chunk boundaries and cutting over-long lines so one cannot grow without bound. */
function pipeLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += decoder.write(chunk);
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
    }
    while (pending.length > MAX_LINE_CHARS) {
      onLine(pending.slice(0, MAX_LINE_CHARS));
      pending = pending.slice(MAX_LINE_CHARS);
    }
  });
  stream.on('end', () => {
    pending += decoder.end();
    if (pending) onLine(pending);
    pending = '';
  });
}
