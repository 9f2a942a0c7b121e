import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CleanEnvOptions {
  /**
   * HOME for the build. The builder passes one platform directory under its work dir, shared by builds, so
   * npm's cache (~/.npm) stays warm across deployments: npm checks every cached tarball against the
   * lockfile's integrity hash, so a build that tampers with the cache cannot change another app's packages.
   * It is never the platform user's own HOME, whose ~/.npmrc, ~/.gitconfig or ~/.aws may hold credentials.
   */
  home?: string;
  /** NODE_ENV unless the app sets its own; builds still get devDependencies through `npm ci --include=dev`. */
  nodeEnv?: string;
}

/** Keys the platform sets itself: an app's env cannot point the build at another HOME or PATH. */
const PLATFORM_KEYS = new Set(['PATH', 'HOME', 'CI']);

/**
 * The only environment a build or an app sees: PATH (system dirs + this Node's bin dir), HOME, NODE_ENV, CI=1,
 * quiet npm defaults, and the app's own variables. Nothing of the platform's environment (tokens, keys,
 * cloud credentials) is inherited.
 */
export function cleanEnv(appEnv: Record<string, string>, opts: CleanEnvOptions = {}): Record<string, string> {
  const home = opts.home ?? join(tmpdir(), 'cloudsmith-build-home');
  mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {
    NODE_ENV: opts.nodeEnv ?? 'production',
    // The audit and update checks cost network round trips on every install and print noise into build logs.
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  for (const [key, value] of Object.entries(appEnv)) {
    if (!PLATFORM_KEYS.has(key)) env[key] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${SYSTEM_PATH}`;
  env.HOME = home;
  env.CI = '1';
  return env;
}
