import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildPlan } from '../detect/plan';
import { runtimeAsset } from '../lib/runtimeAssets';
import { findGo, findPython, nodeVersion } from '../detect/toolchains';
import { describeCommand, type Command } from '../sandbox/run';

/** A directory of the app's tree (relative to rootDir) kept between builds. */
export interface CachedDir {
  path: string;
  /**
   * Restored only when the key matches exactly (installed dependencies); otherwise restored whatever the key,
   * because the tool that owns it validates it itself (Next.js's build cache).
   */
  exact: boolean;
}

/** What one app's build caches, and what invalidates it: everything a stack knows about caching lives here. */
export interface CacheSpec {
  /** Files (relative to rootDir) whose content pins the installed dependencies; the ones present are hashed. */
  lockfiles: string[];
  /** The toolchain that installs and builds, e.g. "node 20.11.1"; a different one makes a cold build. */
  toolchain: string;
  /** Install and build commands, as the log shows them. */
  commands: string;
  dirs: CachedDir[];
  /**
   * The install step may be skipped when the exact dirs come back: it is a frozen install from a lockfile that
   * produces nothing but those dirs (no workspaces, no project installed into the venv).
   */
  installReusable: boolean;
  /** Points the package managers' stores (content-checked by their tools) into the app's store directory. */
  storeEnv(store: string): Record<string, string>;
  /**
   * Values a tool would otherwise make afresh on every build and mix into its cache's key, made the same for every
   * build of the app from `secret` (the cache's salt), so its cache can hit.
   */
  stableEnv?: (app: string, secret: Buffer) => Record<string, string>;
  /**
   * A script of the platform's (runtime-assets/) the build's Node processes preload, to keep work a tool redoes
   * on every build in the cached dirs when the tool keeps none itself, and its env for the tree at `root`.
   */
  preload?: { script: string; env: (root: string) => Record<string, string> };
}

/** Next.js rotates its own Server Actions key every 14 days; so does the one given here. */
const NEXT_KEY_PERIOD_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * Next.js mixes its Server Actions encryption key into its webpack cache's version, and keeps the key it generates
 * in .next/cache only where it does not think it runs in a container (no /.dockerenv): a platform running in Docker
 * without the sandbox would rebuild every module every time. A key of the app's own wins.
 */
function nextStableEnv(appEnv: Record<string, string>) {
  return (app: string, secret: Buffer): Record<string, string> => {
    if (appEnv.NEXT_SERVER_ACTIONS_ENCRYPTION_KEY) return {};
    const period = Math.floor(Date.now() / NEXT_KEY_PERIOD_MS);
    const key = createHmac('sha256', secret).update(`next server actions\n${app}\n${period}`).digest('base64');
    return { NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: key };
  };
}

/**
 * `next build` traces its own server runtime (about 100 MB of node_modules JavaScript, parsed file by file) on
 * every build and keeps none of it: the preload keeps each dependency's parse result in .next/cache, checked
 * against the file's content. The app's env can turn it off.
 */
function nextTracePreload(appEnv: Record<string, string>): CacheSpec['preload'] {
  if (appEnv.CLOUDSMITH_NEXT_TRACE_CACHE === 'off') return undefined;
  return {
    script: runtimeAsset('next-trace-cache.js'),
    env: (root) => ({ CLOUDSMITH_NEXT_TRACE_CACHE: join(root, '.next', 'cache', 'cloudsmith', 'trace.json') }),
  };
}

const NODE_LOCKFILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock'];
const PYTHON_LOCKFILES = [
  'requirements.txt',
  'pyproject.toml',
  'uv.lock',
  'poetry.lock',
  'Pipfile',
  'Pipfile.lock',
  '.python-version',
];

function commandsOf(plan: BuildPlan): string {
  const show = (cmd: Command | undefined) => (cmd ? describeCommand(cmd) : '-');
  return `install: ${show(plan.install)}\nbuild: ${show(plan.build)}`;
}

function argvOf(cmd: Command | undefined): string[] {
  if (!cmd) return [];
  return 'argv' in cmd ? cmd.argv : cmd.shell.split(/\s+/);
}

/** npm ci, pnpm --frozen-lockfile, yarn classic --frozen-lockfile: installs that write exactly node_modules from the lockfile. */
function frozenNodeInstall(install: Command | undefined, root: string): boolean {
  const argv = argvOf(install);
  const frozen =
    (argv.includes('npm') && argv.includes('ci')) ||
    (argv.includes('pnpm') && argv.includes('--frozen-lockfile')) ||
    (argv.includes('yarn') && argv.includes('--frozen-lockfile'));
  if (!frozen || existsSync(join(root, 'pnpm-workspace.yaml'))) return false;
  try {
    // Workspaces install node_modules in every package too: only the root's is cached.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: unknown };
    return pkg.workspaces === undefined;
  } catch {
    return false;
  }
}

function nodeSpec(plan: BuildPlan, root: string, appEnv: Record<string, string>): CacheSpec {
  const next = plan.kind === 'next' || plan.framework === 'next';
  const installReusable = frozenNodeInstall(plan.install, root);
  return {
    lockfiles: NODE_LOCKFILES,
    toolchain: `node ${nodeVersion()}`,
    commands: commandsOf(plan),
    // Vite keeps its cache in node_modules/.vite, so it travels with node_modules. Without a reusable install
    // node_modules is not kept: npm ci would only spend time deleting it.
    dirs: [
      ...(installReusable ? [{ path: 'node_modules', exact: true }] : []),
      ...(next ? [{ path: '.next/cache', exact: false }] : []),
    ],
    installReusable,
    storeEnv: (store) => ({
      npm_config_cache: join(store, 'npm'),
      // npm warns about config keys it does not know: pnpm's store is named only for pnpm.
      ...(argvOf(plan.install).includes('pnpm') ? { npm_config_store_dir: join(store, 'pnpm') } : {}),
      YARN_CACHE_FOLDER: join(store, 'yarn'),
    }),
    ...(next ? { stableEnv: nextStableEnv(appEnv), preload: nextTracePreload(appEnv) } : {}),
  };
}

/** The detected install makes a venv and fills it from the manifests; `pip install .` would also put the app's own code in it. */
function venvOnlyInstall(install: Command | undefined): boolean {
  if (!install || !('shell' in install)) return false;
  return install.shell.startsWith('python3 -m venv ') && !/\binstall \.(\s|$)/.test(install.shell);
}

function pythonSpec(plan: BuildPlan): CacheSpec {
  const installReusable = venvOnlyInstall(plan.install);
  return {
    lockfiles: PYTHON_LOCKFILES,
    toolchain: `python ${findPython()?.version ?? 'unknown'}`,
    commands: commandsOf(plan),
    dirs: installReusable ? [{ path: '.venv', exact: true }] : [],
    installReusable,
    storeEnv: (store) => ({
      PIP_CACHE_DIR: join(store, 'pip'),
      UV_CACHE_DIR: join(store, 'uv'),
      POETRY_CACHE_DIR: join(store, 'poetry'),
    }),
  };
}

function goSpec(plan: BuildPlan, appEnv: Record<string, string>): CacheSpec {
  return {
    lockfiles: ['go.mod', 'go.sum'],
    toolchain: `go ${findGo()?.version ?? 'unknown'}`,
    commands: commandsOf(plan),
    // Go's own caches are content-addressed and checked by go itself: they are the whole cache.
    dirs: [],
    installReusable: false,
    storeEnv: (store) => ({
      GOMODCACHE: join(store, 'go', 'mod'),
      GOCACHE: join(store, 'go', 'build'),
      // Module files are read-only by default, which would stop the platform from evicting them.
      GOFLAGS: [appEnv.GOFLAGS, '-modcacherw'].filter(Boolean).join(' '),
    }),
  };
}

/** What to cache for `plan` built in `root` (its rootDir), or undefined for stacks with nothing to cache. */
export function cacheSpecFor(plan: BuildPlan, root: string, appEnv: Record<string, string>): CacheSpec | undefined {
  if (plan.kind === 'python') return pythonSpec(plan);
  if (plan.kind === 'go') return goSpec(plan, appEnv);
  if (existsSync(join(root, 'package.json')) && (plan.install || plan.build)) return nodeSpec(plan, root, appEnv);
  return undefined;
}
