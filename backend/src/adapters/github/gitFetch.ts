import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { UserFacingError } from '../../domain/errors';
import type { FetchCommitOptions } from '../../ports/source';

/**
 * Git asks this helper for credentials; it answers with what the platform writes into file descriptor 3,
 * a pipe that exists only between the platform and this one git process. The token so never appears in
 * an environment (readable in /proc/<pid>/environ), an argument list, a URL or a file.
 */
const CREDENTIAL_HELPER = '!f() { test "$1" = get && cat <&3; }; f';

/**
 * Shallow-fetches exactly one commit over HTTPS, authenticating as GitHub expects (username
 * `x-access-token`, the token as password) through the credential helper above.
 */
export async function fetchCommit(token: string, opts: FetchCommitOptions): Promise<void> {
  if (!/^[0-9a-f]{40}$/.test(opts.commitSha)) throw new UserFacingError(`invalid commit sha "${opts.commitSha}"`);
  const url = new URL(opts.cloneUrl);
  if (url.username || url.password) throw new UserFacingError('clone URLs with credentials are refused');
  if (/[\r\n]/.test(token)) throw new UserFacingError('invalid token');
  await mkdir(opts.destDir, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: opts.destDir,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  const credentials = `username=x-access-token\npassword=${token}\n`;
  const git = (args: string[], input?: string) => run(['git', ...args], opts, env, token, input);
  await git(['init', '--quiet']);
  await git(
    [
      '-c',
      'credential.helper=',
      '-c',
      `credential.helper=${CREDENTIAL_HELPER}`,
      'fetch',
      '--quiet',
      '--depth',
      '1',
      '--no-tags',
      opts.cloneUrl,
      opts.commitSha,
    ],
    credentials,
  );
  await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', 'FETCH_HEAD']);
}

function run(
  argv: string[],
  opts: FetchCommitOptions,
  env: Record<string, string>,
  token: string,
  credentials?: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? 'git', argv.slice(1), {
      cwd: opts.destDir,
      env,
      stdio: ['ignore', 'ignore', 'pipe', credentials === undefined ? 'ignore' : 'pipe'],
    });
    const fd3 = child.stdio[3] as Writable | null;
    if (fd3) {
      // git may never ask (a public repo): a closed pipe then is not an error.
      fd3.on('error', () => undefined);
      fd3.end(credentials);
    }
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      reject(new UserFacingError(`could not run git: ${err.message}`, 500));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      if (code === 0) {
        resolve();
        return;
      }
      if (opts.signal.aborted) {
        reject(new UserFacingError('cancelled'));
        return;
      }
      const detail = stderr.split(token).join('***').trim().split('\n').slice(-3).join(' ');
      const subcommand = argv.slice(1).find((a, i, all) => !a.startsWith('-') && all[i - 1] !== '-c');
      reject(
        new UserFacingError(
          `git ${subcommand ?? ''} failed${sig ? ` (${sig})` : ''}: ${detail || `exit code ${code}`}`,
        ),
      );
    });
  });
}
