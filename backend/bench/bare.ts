import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitHealthy } from '../src/health/health';
import type { BenchStack } from './stacks';

function run(argv: string[], cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${argv.join(' ')} exited with ${code}`));
    });
  });
}

/**
 * The baseline: what a user types by hand to get the stack serving, timed in milliseconds from the clone to the
 * first 200. `home` is the HOME (npm, pip and Go caches) the steps use: the bench gives each cold run an empty one,
 * as the platform gives a new app an empty package store.
 */
export async function bareDeploy(stack: BenchStack, cloneUrl: string, token: string, home: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bare-'));
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: [...(stack.toolPaths ?? []).filter(existsSync), process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    HOME: home,
    PORT: String(port),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    GOTOOLCHAIN: 'local',
    // The token reaches git through its config env, never argv (the clone URL carries no credentials).
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
  };
  let server: ChildProcess | undefined;
  const started = Date.now();
  try {
    await run(['git', 'clone', '--quiet', '--depth', '1', cloneUrl, 'app'], dir, env);
    const app = join(dir, 'app');
    const steps = stack.steps.map((argv) => argv.map((a) => a.replace('$PORT', String(port))));
    for (const argv of steps.slice(0, -1)) await run(argv, app, env);
    const last = steps[steps.length - 1];
    server = spawn(last[0], last.slice(1), { cwd: app, env, stdio: 'ignore', detached: true });
    const exited = new Promise<never>((_, reject) => {
      server?.on('exit', (code) => {
        reject(new Error(`${last.join(' ')} exited with ${code}`));
      });
    });
    // Killed at the end on purpose: that exit is no failure once the race is over.
    exited.catch(() => undefined);
    await Promise.race([waitHealthy(`http://127.0.0.1:${port}/`, { timeoutMs: 120_000 }), exited]);
    return Date.now() - started;
  } finally {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
