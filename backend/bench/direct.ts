import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitHealthy } from '../src/health/health';

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
 * The baseline: what a developer's own script would do to get the same app serving —
 * shallow clone, npm ci, npm start, wait for HTTP — timed in milliseconds.
 */
export async function directDeploy(cloneUrl: string, token: string, home: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-direct-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CI: '1',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
  };
  let server: ChildProcess | undefined;
  const started = Date.now();
  try {
    await run(['git', 'clone', '--quiet', '--depth', '1', cloneUrl, 'app'], dir, env);
    const app = join(dir, 'app');
    // The same install the local builder runs, so the ratio measures the platform, not npm flags.
    await run(['npm', 'ci', '--include=dev', '--prefer-offline'], app, env);
    const port = await freePort();
    server = spawn('npm', ['start'], {
      cwd: app,
      env: { ...env, PORT: String(port), NODE_ENV: 'production' },
      stdio: 'ignore',
      detached: true,
    });
    await waitHealthy(`http://127.0.0.1:${port}/`, { timeoutMs: 60_000 });
    return Date.now() - started;
  } finally {
    if (server?.pid) process.kill(-server.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
