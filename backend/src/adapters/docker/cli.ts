import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { MAX_LINE_BYTES, printable } from '../../sandbox/run';

export interface DockerCliOptions {
  /** DOCKER_HOST for every call (e.g. `unix:///…/docker.sock`); the CLI's own default when unset. */
  host?: string;
  /** The docker client binary. */
  bin?: string;
}

export interface DockerRunOptions {
  signal?: AbortSignal;
  /** Every output line (stdout and stderr, cleaned of escapes) as it arrives. */
  onLine?: (line: string) => void;
  /** Extra environment for the CLI itself, e.g. build-arg values passed by name so they stay out of argv. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface DockerResult {
  stdout: string;
  stderr: string;
}

const STDERR_TAIL_LINES = 20;
/** How much stdout is kept for the caller; `inspect` and IDs are small, streamed build output is not kept. */
const MAX_CAPTURE_BYTES = 4 * 1024 * 1024;

/** A docker CLI call that failed; `tail` holds its last output lines, which say why. */
export class DockerError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly tail: string[],
    readonly reason: 'exit' | 'cancelled' | 'timeout' | 'spawn',
  ) {
    const what = `docker ${args[0] ?? ''}`.trim();
    const why =
      reason === 'cancelled'
        ? 'was cancelled'
        : reason === 'timeout'
          ? 'timed out'
          : reason === 'spawn'
            ? 'could not start'
            : `exited with ${exitCode}`;
    super(`${what} ${why}${tail.length ? `: ${tail.slice(-5).join(' | ')}` : ''}`);
    this.name = 'DockerError';
  }
}

/**
 * The docker CLI, spawned with argument arrays (never a shell) against one configured engine. The child
 * gets a minimal environment: the platform's own secrets never reach the CLI, and so never a build.
 */
export class DockerCli {
  readonly host?: string;
  private readonly bin: string;

  constructor(options: DockerCliOptions = {}) {
    this.host = options.host;
    this.bin = options.bin ?? 'docker';
  }

  /** Runs `docker <args>` to completion; rejects with DockerError (with the output's tail) on a non-zero exit. */
  run(args: string[], options: DockerRunOptions = {}): Promise<DockerResult> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new DockerError(args, null, [], 'cancelled'));
        return;
      }
      const child = this.spawnChild(args, options.env);
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      const stderr: string[] = [];
      const tail: string[] = [];
      const remember = (line: string) => {
        tail.push(line);
        if (tail.length > STDERR_TAIL_LINES) tail.shift();
      };
      let stopped: 'cancelled' | 'timeout' | undefined;
      const stop = (why: 'cancelled' | 'timeout') => {
        stopped = why;
        child.kill('SIGTERM');
        // The CLI forwards an interrupt to the engine (a build stops); a client that ignores it is killed.
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5_000).unref();
      };
      const onAbort = () => {
        stop('cancelled');
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = options.timeoutMs
        ? setTimeout(() => {
            stop('timeout');
          }, options.timeoutMs)
        : undefined;

      if (options.onLine) {
        const onLine = options.onLine;
        lines(child.stdout, (line) => {
          remember(line);
          onLine(line);
        });
      } else {
        child.stdout.on('data', (chunk: Buffer) => {
          if (stdoutBytes >= MAX_CAPTURE_BYTES) return;
          stdout.push(chunk);
          stdoutBytes += chunk.length;
        });
      }
      lines(child.stderr, (line) => {
        remember(line);
        stderr.push(line);
        if (stderr.length > STDERR_TAIL_LINES) stderr.shift();
        options.onLine?.(line);
      });

      let spawnError: Error | undefined;
      child.on('error', (err) => {
        spawnError = err;
      });
      child.on('close', (code) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
        if (spawnError) {
          reject(new DockerError(args, null, [spawnError.message], 'spawn'));
          return;
        }
        if (stopped) {
          reject(new DockerError(args, code, tail, stopped));
          return;
        }
        if (code !== 0) {
          reject(new DockerError(args, code, tail, 'exit'));
          return;
        }
        resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.join('\n') });
      });
    });
  }

  /** `run` returning trimmed stdout, for commands that print an ID or a formatted value. */
  async output(args: string[], options: DockerRunOptions = {}): Promise<string> {
    return (await this.run(args, options)).stdout.trim();
  }

  /**
   * A long-lived command (`logs -f`, `events`) whose lines are handed to `onLine` until it ends or is
   * stopped; `done` resolves with its exit code and never rejects.
   */
  follow(
    args: string[],
    onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ): { stop(): void; done: Promise<number | null> } {
    const child = this.spawnChild(args);
    lines(child.stdout, (line) => {
      onLine(line, 'stdout');
    });
    lines(child.stderr, (line) => {
      onLine(line, 'stderr');
    });
    const done = new Promise<number | null>((resolve) => {
      child.on('error', () => {
        resolve(null);
      });
      child.on('close', (code) => {
        resolve(code);
      });
    });
    return {
      stop: () => {
        if (child.exitCode === null) child.kill('SIGTERM');
      },
      done,
    };
  }

  private spawnChild(
    args: string[],
    extraEnv: Record<string, string> = {},
  ): ChildProcessByStdio<null, Readable, Readable> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      // The classic builder: the engines this runs against (Debian's 20.10) have no BuildKit plugin.
      DOCKER_BUILDKIT: '0',
      ...extraEnv,
    };
    if (this.host) env.DOCKER_HOST = this.host;
    return spawn(this.bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  reader.on('line', (raw: string) => {
    const line = printable(Buffer.from(raw.length > MAX_LINE_BYTES ? raw.slice(0, MAX_LINE_BYTES) : raw));
    onLine(line);
  });
}
