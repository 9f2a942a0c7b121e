import type { BuildPlan } from '../detect/plan';
import { cacheAppName } from './appName';
import { computeKey } from './key';
import { cacheSpecFor } from './stacks';

/**
 * A build cache kept in S3 by a builder the platform does not run itself (jenkins/steps/cache-*.sh), described as
 * strings it can be sent as. What is cached and what invalidates it come from stacks.ts and key.ts, as for the
 * local builder's cache on disk; only the agent's toolchain is added by the pipeline, which alone can see it.
 */
export interface RemoteCacheSpec {
  /** S3 prefix of the app's cache, `cache/<app>/`. */
  prefix: string;
  /** `<lockfiles>.<commands>.<env>`, 16 hex digits each (the env part is an HMAC: it says nothing about a value). */
  key: string;
  /** `exact:node_modules any:.next/cache`: exact dirs come back only under the same key (key.ts, CachedDir). */
  dirs: string;
  /** `npm_config_cache=@store/npm ...`: where the package managers' stores go, `@store` being the restored store. */
  storeEnv: string;
  /** The install may be skipped when the exact dirs come back (CacheSpec.installReusable). */
  skipInstall: boolean;
}

const SAFE_PATH = /^[A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*$/;
const SAFE_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SAFE_ENV_VALUE = /^[A-Za-z0-9@._/=+-]+$/;
export const STORE_MARK = '@store';
/**
 * Dirs that only work at the path they were made at: a venv's scripts name it in their shebangs. An agent's
 * workspace is not at the same path for every build (`cloudsmith-build@2` beside a running build), so these stay
 * out and the install runs, from the restored wheel cache.
 */
const PATH_BOUND = new Set(['.venv']);

export function remoteCachePrefix(app: string): string {
  return `cache/${cacheAppName(app)}/`;
}

/**
 * The cache of `plan` built in `root` (its rootDir), or undefined for stacks with nothing to cache. `salt` keys the
 * env's hash; it must be the same for every build of the platform, or no build would ever find the last one's cache.
 */
export async function remoteCacheSpec(
  app: string,
  plan: BuildPlan,
  root: string,
  appEnv: Record<string, string>,
  salt: Buffer,
): Promise<RemoteCacheSpec | undefined> {
  const spec = cacheSpecFor(plan, root, appEnv);
  if (!spec) return undefined;
  const key = await computeKey(spec, root, appEnv, salt);
  const kept = spec.dirs.filter((d) => !PATH_BOUND.has(d.path));
  const dirs = kept.map((d) => {
    if (!SAFE_PATH.test(d.path) || d.path.split('/').includes('..')) throw new Error(`not a cache path: ${d.path}`);
    return `${d.exact ? 'exact' : 'any'}:${d.path}`;
  });
  // Without the app's env: its values stay out of build parameters (an app's own GOFLAGS still wins in the build).
  const store = Object.entries(cacheSpecFor(plan, root, {})?.storeEnv(STORE_MARK) ?? {}).map(([name, value]) => {
    if (!SAFE_ENV_NAME.test(name) || !SAFE_ENV_VALUE.test(value)) throw new Error(`not a store setting: ${name}`);
    return `${name}=${value}`;
  });
  return {
    prefix: remoteCachePrefix(app),
    key: [key.lockfiles, key.commands, key.env].map((part) => part.slice(0, 16)).join('.'),
    dirs: dirs.join(' '),
    storeEnv: store.join(' '),
    skipInstall: spec.installReusable && kept.length === spec.dirs.length,
  };
}
