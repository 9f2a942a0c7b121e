import { UserFacingError } from '../../domain/errors';
import type { Command } from '../../sandbox/run';
import type { RepoDir } from '../repo';
import { packageJsonSchema, type PackageJson } from '../schema';
import { nodeVersion } from '../toolchains';
import { satisfies } from '../versions';
import { finalizeFramework, FRAMEWORKS, frameworkOf } from './nodeFrameworks';
import { COREPACK_ENV, packageManagerFor } from './packageManagers';
import type { Detected, Provider } from './types';

/** Dev servers: a start script running one of these is not a production server, so the build output is served statically. */
const DEV_SERVERS = [
  /\bvite(\s+(dev|serve|preview)\b|\s*$|\s+--)/,
  /\breact-scripts\s+start\b/,
  /\bwebpack(-dev-server|\s+serve)\b/,
  /\bng\s+serve\b/,
  /\bvue-cli-service\s+serve\b/,
  /\bparcel(?!\s+build)\b/,
  /\bastro\s+dev\b/,
  /\bnuxt\s+dev\b/,
];

export function isDevServer(script: string): boolean {
  return DEV_SERVERS.some((re) => re.test(script));
}

/** engines.node or .nvmrc: the host's Node runs every app, so a mismatch is a warning, not a failure. */
function nodeVersionNotes(dir: RepoDir, pkg: PackageJson): string[] {
  const host = nodeVersion();
  const wanted: [string, string][] = [];
  if (pkg.engines?.node) wanted.push(['engines.node', pkg.engines.node]);
  const nvmrc = dir.read('.nvmrc')?.trim().split('\n')[0]?.trim();
  if (nvmrc && /^v?\d/.test(nvmrc)) wanted.push(['.nvmrc', nvmrc]);
  return wanted.map(([where, range]) =>
    satisfies(host, range)
      ? `Node ${host} satisfies ${where} "${range}"`
      : `warning: ${where} asks for Node "${range}" but this platform runs Node ${host}; the app is built and run with ${host}`,
  );
}

function detectNode(dir: RepoDir, pkg: PackageJson): Detected {
  const { label } = dir;
  const scripts = pkg.scripts ?? {};
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  const pm = packageManagerFor(dir, pkg);
  const { install, note } = pm;
  const build: Command | undefined = scripts.build ? pm.run('build') : undefined;
  const buildNote = build ? `, then ${pm.name === 'yarn-berry' ? 'yarn' : pm.name} run build` : '';
  const notes = nodeVersionNotes(dir, pkg);
  const buildEnv = pm.name === 'npm' ? undefined : COREPACK_ENV;
  const base = { install, notes, ...(buildEnv ? { buildEnv } : {}) };

  const framework = frameworkOf(deps);
  if (framework) {
    const info = FRAMEWORKS[framework];
    return {
      ...base,
      kind: framework === 'next' ? 'next' : 'node',
      framework,
      build: build ?? { argv: ['npx', '--no-install', ...info.build] },
      // Kept for a build that produces no output the framework is known for.
      ...(scripts.start && !isDevServer(scripts.start) ? { start: { argv: ['npm', 'start'] } } : {}),
      reason: `${info.label}: ${note}${build ? buildNote : `, ${info.build.join(' ')}`}; how it runs is decided from what the build produces`,
    };
  }

  if (scripts.start && !isDevServer(scripts.start)) {
    return {
      ...base,
      kind: 'node',
      build,
      start: { argv: ['npm', 'start'] },
      reason: `Node server (start script): ${note}${buildNote}, npm start`,
    };
  }
  const devNote = scripts.start
    ? ` (its start script "${scripts.start}" is a dev server, not a production server)`
    : '';

  if (deps.vite) {
    return {
      ...base,
      kind: 'spa',
      build: build ?? { argv: ['npx', '--no-install', 'vite', 'build'] },
      outputDir: 'dist',
      reason: `Vite SPA${devNote}: ${note}, build, serving dist/`,
    };
  }
  if (deps['react-scripts']) {
    return {
      ...base,
      kind: 'spa',
      build: build ?? { argv: ['npx', '--no-install', 'react-scripts', 'build'] },
      outputDir: 'build',
      reason: `Create React App${devNote}: ${note}, build, serving build/`,
    };
  }

  const main = pkg.main ?? (dir.has('server.js') ? 'server.js' : undefined);
  if (main && !scripts.start && (dir.has(main) || build)) {
    return {
      ...base,
      kind: 'node',
      build,
      start: { argv: ['node', main] },
      reason: `Node server (${main}): ${note}${buildNote}, node ${main}`,
    };
  }
  if (build) {
    return {
      ...base,
      kind: 'spa',
      build,
      reason: `static build${devNote}: ${note}${buildNote}, serving its output (dist/, build/ or out/)`,
    };
  }
  if (dir.has('index.html')) {
    return {
      kind: 'static',
      outputDir: '.',
      notes,
      reason: `static site: index.html in ${label} (package.json has no build or start script)`,
    };
  }
  throw new UserFacingError(
    `nothing to build or run in ${label}: package.json has no start or build script, no server.js and no main; ` +
      'add a "start" script, or set startCommand (cloudsmith.json or the deployment settings)',
  );
}

/** Node apps, including the server-side frameworks, whatever the package manager. */
export const nodeProvider: Provider = {
  name: 'node',
  detect(dir) {
    const pkg = dir.json('package.json', packageJsonSchema);
    return pkg === undefined ? null : detectNode(dir, pkg);
  },
  finalize: (plan, output) =>
    plan.framework ? finalizeFramework(plan.framework, plan, output) : Promise.resolve(undefined),
};

/** Exposed for the error path: a package.json that detection cannot place still has its install step. */
export function nodeInstallFor(dir: RepoDir): Pick<Detected, 'install' | 'buildEnv'> {
  const pkg = dir.json('package.json', packageJsonSchema) ?? {};
  const pm = packageManagerFor(dir, pkg);
  return { install: pm.install, ...(pm.name === 'npm' ? {} : { buildEnv: COREPACK_ENV }) };
}
