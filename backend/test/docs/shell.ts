import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/health/health';
import { alive, cmdline, descendants } from '../helpers/processes';

// The process helpers the docs tests use, from the one place the suites share them.
export { alive, cmdline };

export const REPO = join(__dirname, '..', '..', '..');

/**
 * The shell block of a document that follows `<!-- docs-test: <name> ... -->`, as written there. Tests run these
 * blocks instead of their own copies of the commands, so a doc that drifts from what works fails the suite.
 */
export function docBlock(file: string, name: string): string {
  const text = readFileSync(join(REPO, file), 'utf8');
  const marker = text.indexOf(`<!-- docs-test: ${name}`);
  if (marker < 0) throw new Error(`${file} has no "docs-test: ${name}" block`);
  const open = text.indexOf('```sh\n', marker);
  const close = text.indexOf('\n```', open + 6);
  if (open < 0 || close < 0) throw new Error(`${file}: the "${name}" marker is not followed by a sh block`);
  return text.slice(open + 6, close + 1);
}

/** A block's commands: comments and blank lines dropped (the blocks quote `#` nowhere). */
export function commands(block: string): string[] {
  return block
    .split('\n')
    .map((line) =>
      line
        .replace(/\s+#.*$/, '')
        .replace(/^#.*$/, '')
        .trim(),
    )
    .filter(Boolean);
}

/** What a user's shell would have: no variables from the test runner's own npm. */
export function userEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  // Where scripts/*.sh keep their downloads (the Kafka jars): the suite's cache, not a fresh one.
  if (process.env.CLOUDSMITH_CACHE) env.CLOUDSMITH_CACHE = process.env.CLOUDSMITH_CACHE;
  return { ...env, ...extra };
}

export interface Shell {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  text(): string;
}

/** `bash -c script` from the repository's root, as a user would type it there. */
export function shell(script: string, env: Record<string, string>): Shell {
  const child = spawn('bash', ['-c', script], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) output.push(line);
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  return { child, output, exited, text: () => output.join('\n') };
}

/** Runs a command to its end. */
export async function runShell(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; text: string }> {
  const sh = shell(script, env);
  const code = await sh.exited;
  // stdio may still be draining after exit
  await new Promise((r) => setImmediate(r));
  return { code, text: sh.text() };
}

export function environ(pid: number): Record<string, string> {
  try {
    const entries = readFileSync(`/proc/${String(pid)}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean);
    return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  } catch {
    return {};
  }
}

export function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The node processes running the compiled backend below `root`. */
export function backendProcesses(root: number): number[] {
  return descendants(root).filter((pid) => /^node (?:\S*\/)?dist\/main\.js\b/.test(cmdline(pid)));
}

/** Stops a process tree: SIGTERM (services shut down gracefully), then SIGKILL for whatever is left. */
export async function stopTree(root: number | undefined, graceMs = 20_000): Promise<void> {
  if (!root) return;
  const pids = [root, ...descendants(root)];
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(alive)) await sleep(200);
  for (const pid of pids) signal(pid, 'SIGKILL');
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value; the message and the processes' output say what was waited for. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  context: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${String(timeoutMs / 1000)} s\n${context()}`);
    await sleep(500);
  }
}

export async function healthy(url: string): Promise<true | undefined> {
  const ok = await fetch(`${url}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  return ok ? true : undefined;
}

/** A base port for a Kafka node of a test's own: it and the next port (the controller's) are free. */
export async function kafkaBasePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 65535 && (await portFree(port + 1))) return port;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}
