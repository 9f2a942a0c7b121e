import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { UserFacingError } from '../domain/errors';
import type { PreparedSandbox } from './sandbox';

/** argv runs without a shell; `shell` is only for the user's own install/build/start commands, which run their code anyway. */
export type Command = { argv: string[] } | { shell: string };

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  maxOutputBytes: number;
  maxMemoryMb?: number;
  signal?: AbortSignal;
  /** Runs the command inside this sandbox (see Sandbox.prepare); its cgroup, when present, enforces the memory limit. */
  sandbox?: PreparedSandbox;
  onLine(line: string): void;
}

/** Longer lines are cut: one minified bundle printed to stdout must not become one giant log record. */
export const MAX_LINE_BYTES = 8 * 1024;
const MEMORY_POLL_MS = 250;
/** After the main process exits, how long output still held open by leftovers may take to drain before it is dropped. */
const DRAIN_MS = 2000;

/** The command as the user would type it, for log headers and error messages. */
export function describeCommand(cmd: Command): string {
  if ('shell' in cmd) return cmd.shell;
  return cmd.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function mib(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

// ANSI escapes (colours, cursor moves) and the remaining control characters would garble the log viewers.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** One decoder for every line: a whole line is decoded at once, so no state carries over between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: false });
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_CLEANING = /[\u0000-\u0008\u000b-\u001f\u007f]/;

export function printable(bytes: Buffer): string {
  const decoded = UTF8.decode(bytes);
  // Most lines are plain text: a flood of them must not pay for the regexes below (carriage return is 0x0d).
  if (!NEEDS_CLEANING.test(decoded)) return decoded;
  let text = decoded.replace(/\r+$/, '');
  // Progress bars redraw a line with carriage returns; keep what a terminal would end up showing.
  const cr = text.lastIndexOf('\r');
  if (cr !== -1) text = text.slice(cr + 1);
  return text.replace(ANSI, '').replace(CONTROL, '\uFFFD');
}

/** Splits a byte stream into lines, decoding only whole lines so multi-byte characters split across chunks survive. */
class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.append(chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, nl));
      this.flush();
      start = nl + 1;
    }
  }

  private append(piece: Buffer): void {
    if (this.cut || piece.length === 0) return;
    const room = MAX_LINE_BYTES - this.size;
    if (piece.length > room) {
      this.parts.push(piece.subarray(0, room));
      this.size += room;
      this.cut = true;
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  flush(): void {
    if (this.size === 0 && !this.cut && this.parts.length === 0) {
      this.emit('');
      return;
    }
    const text = printable(Buffer.concat(this.parts));
    this.emit(this.cut ? `${text} … [line cut at ${MAX_LINE_BYTES / 1024} KiB]` : text);
    this.parts = [];
    this.size = 0;
    this.cut = false;
  }

  end(): void {
    if (this.size > 0 || this.cut) this.flush();
  }
}

/**
 * Resident memory of process `root` and all its descendants, in bytes; undefined where /proc is unavailable.
 * Descendants, not a process group: a sandboxed command runs in a session of its own inside bubblewrap.
 */
export async function treeRssBytes(root: number): Promise<number | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name, which is in parentheses and may itself contain spaces or parentheses.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ppid = Number(fields[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(pid)]);
        // Field 24 (rss, in pages); page size is 4 KiB on the platforms this runs on.
        rss.set(Number(pid), Number(fields[21]) * 4096);
      } catch {
        // The process exited between listing and reading.
      }
    }),
  );
  let total = 0;
  const queue = [root];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    total += rss.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

/**
 * Runs a command in its own process group with only `env`. The whole group is killed on timeout, output
 * over `maxOutputBytes`, memory over `maxMemoryMb` (summed over the group), cancellation, and when the main
 * process exits (so a build leaves nothing running behind). Throws a UserFacingError with the reason.
 */
export function runCommand(cmd: Command, opts: RunOptions): Promise<void> {
  const label = describeCommand(cmd);
  if (opts.signal?.aborted) return Promise.reject(new UserFacingError('cancelled'));
  return new Promise<void>((resolvePromise, reject) => {
    const [program, programArgs] = 'shell' in cmd ? ['/bin/sh', ['-c', cmd.shell]] : [cmd.argv[0], cmd.argv.slice(1)];
    if (!program) {
      reject(new Error('runCommand needs a non-empty argv'));
      return;
    }
    const sandbox = opts.sandbox;
    const [file, ...args] = [...(sandbox?.prefix ?? []), program, ...programArgs];
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let failure: UserFacingError | undefined;
    let outputBytes = 0;
    let settled = false;
    const safeEmit = (line: string) => {
      try {
        opts.onLine(line);
      } catch {
        // A failing log sink must not leave the build's processes running.
      }
    };
    const splitters = [new LineSplitter(safeEmit), new LineSplitter(safeEmit)];

    const stop = (reason: string) => {
      failure ??= new UserFacingError(reason);
      killGroup(child.pid);
      sandbox?.kill();
    };

    const timer = setTimeout(() => {
      stop(`build timed out after ${Math.round(opts.timeoutMs / 1000)} s`);
    }, opts.timeoutMs);
    const onAbort = () => {
      stop('cancelled');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    let memoryTimer: NodeJS.Timeout | undefined;
    // With a cgroup the kernel enforces the limit; the OOM killer may pick a background process (setsid) and
    // leave the step waiting, so an OOM kill anywhere in the cgroup ends the step.
    if (opts.maxMemoryMb !== undefined && sandbox?.cgroup) {
      const limitMb = opts.maxMemoryMb;
      memoryTimer = setInterval(() => {
        if (sandbox.oomKilled() && !settled) stop(`build used more than ${limitMb} MiB of memory`);
      }, MEMORY_POLL_MS);
    }
    // Without a cgroup the limit is watched from outside: the tree's resident memory, sampled.
    if (opts.maxMemoryMb !== undefined && child.pid !== undefined && !sandbox?.cgroup) {
      const limit = opts.maxMemoryMb * 1024 * 1024;
      const rootPid = child.pid;
      let polling = false;
      memoryTimer = setInterval(() => {
        if (polling) return;
        polling = true;
        void treeRssBytes(rootPid)
          .then((rss) => {
            if (rss !== undefined && rss > limit && !settled)
              stop(`build used more than ${opts.maxMemoryMb} MiB of memory`);
          })
          .finally(() => {
            polling = false;
          });
      }, MEMORY_POLL_MS);
    }

    const onData = (index: number) => (chunk: Buffer) => {
      if (failure) return;
      outputBytes += chunk.length;
      if (outputBytes > opts.maxOutputBytes) {
        splitters[index].push(chunk.subarray(0, Math.max(0, chunk.length - (outputBytes - opts.maxOutputBytes))));
        stop(`build output exceeded ${mib(opts.maxOutputBytes)} MiB`);
        return;
      }
      splitters[index].push(chunk);
    };
    child.stdout.on('data', onData(0));
    child.stderr.on('data', onData(1));

    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (memoryTimer) clearInterval(memoryTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const s of splitters) s.end();
      if (err) reject(err);
      else resolvePromise();
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      finish(
        err.code === 'ENOENT'
          ? new UserFacingError(`\`${label}\` could not start: ${file} not found`)
          : new UserFacingError(`\`${label}\` could not start: ${err.message}`),
      );
    });

    child.on('exit', (code, signal) => {
      if (sandbox?.oomKilled() && opts.maxMemoryMb !== undefined)
        failure ??= new UserFacingError(`build used more than ${opts.maxMemoryMb} MiB of memory`);
      // Leftover background processes of the command die with it; only then can its pipes close.
      killGroup(child.pid);
      sandbox?.kill();
      let drained = 0;
      const done = () => {
        if (++drained < 2) return;
        clearTimeout(drainTimer);
        if (failure) finish(failure);
        else if (code === 0) finish();
        else if (code !== null) finish(new UserFacingError(`\`${label}\` exited with code ${code}`));
        else finish(new UserFacingError(`\`${label}\` was killed by ${signal ?? 'a signal'}`));
      };
      const drainTimer = setTimeout(() => {
        // A process that left the group (setsid) still holds a pipe: stop waiting for it.
        child.stdout.destroy();
        child.stderr.destroy();
        drained = 1;
        done();
      }, DRAIN_MS);
      const streamDone = (stream: NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }) => {
        if (stream.readableEnded || stream.destroyed) done();
        else stream.once('close', done);
      };
      streamDone(child.stdout);
      streamDone(child.stderr);
    });
  });
}
