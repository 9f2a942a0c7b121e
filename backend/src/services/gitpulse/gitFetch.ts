import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { UserFacingError } from '../../domain/errors';

export interface FetchOptions {
  cloneUrl: string;
  commitSha: string;
  token: string;
  destDir: string;
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * Shallow-fetches exactly one commit. The token travels as GitHub expects (basic `x-access-token:<token>`)
 * through `http.extraHeader` set by GIT_CONFIG_* environment variables: never in the URL, never in argv.
 */
export async function fetchCommit(opts: FetchOptions): Promise<void> {
  if (!/^[0-9a-f]{40}$/.test(opts.commitSha)) throw new UserFacingError(`invalid commit sha "${opts.commitSha}"`);
  const url = new URL(opts.cloneUrl);
  if (url.username || url.password) throw new UserFacingError('clone URLs with credentials are refused');
  await mkdir(opts.destDir, { recursive: true });
  const basic = Buffer.from(`x-access-token:${opts.token}`).toString('base64');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: opts.destDir,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${url.origin}/.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
  const git = (args: string[]) => run(['git', ...args], opts.destDir, env, opts.signal, opts.timeoutMs, opts.token);
  await git(['init', '--quiet']);
  await git(['fetch', '--quiet', '--depth', '1', '--no-tags', opts.cloneUrl, opts.commitSha]);
  await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', 'FETCH_HEAD']);
}

function run(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  signal: AbortSignal,
  timeoutMs: number,
  token: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      reject(new UserFacingError(`could not run git: ${err.message}`, 500));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (code === 0) {
        resolve();
        return;
      }
      if (signal.aborted) {
        reject(new UserFacingError('cancelled'));
        return;
      }
      const detail = stderr.split(token).join('***').trim().split('\n').slice(-3).join(' ');
      reject(new UserFacingError(`git ${argv[1]} failed${sig ? ` (${sig})` : ''}: ${detail || `exit code ${code}`}`));
    });
  });
}
