import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import type { Overrides } from '../domain/deployment';
import { UserFacingError } from '../domain/errors';
import type { Command } from '../sandbox/run';
import { cloudsmithJsonSchema, packageJsonSchema, relativePath, type CloudsmithJson, type PackageJson } from './schema';

export interface BuildPlan {
  kind: 'node' | 'spa' | 'static' | 'next';
  /** Relative to the repo, posix separators, `.` for the repo root. */
  rootDir: string;
  install?: Command;
  build?: Command;
  start?: Command;
  /** Relative to rootDir. Unset for an SPA whose output directory is only known after the build (see resolveOutputDir). */
  outputDir?: string;
  healthPath: string;
  reason: string;
}

/** Where builds commonly write their output, in the order they are looked for after a build. */
export const OUTPUT_DIR_CANDIDATES = ['dist', 'build', 'out'] as const;

/** Dev servers: a start script running one of these is not a production server, so the build output is served statically. */
const DEV_SERVERS = [
  /\bvite(\s+(dev|serve|preview)\b|\s*$|\s+--)/,
  /\breact-scripts\s+start\b/,
  /\bwebpack(-dev-server|\s+serve)\b/,
  /\bng\s+serve\b/,
  /\bvue-cli-service\s+serve\b/,
  /\bparcel(?!\s+build)\b/,
];

export function isDevServer(script: string): boolean {
  return DEV_SERVERS.some((re) => re.test(script));
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
}

function readJson(file: string, label: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new UserFacingError(`${label} is not valid JSON: ${(err as Error).message}`);
  }
}

function readCloudsmithJson(dir: string, label: string): CloudsmithJson {
  const file = join(dir, 'cloudsmith.json');
  if (!existsSync(file)) return {};
  const parsed = cloudsmithJsonSchema.safeParse(readJson(file, label));
  if (!parsed.success) throw new UserFacingError(`${label} is invalid: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

function checkRelative(value: string, what: string): string {
  const parsed = relativePath.safeParse(value);
  if (!parsed.success)
    throw new UserFacingError(`${what} "${value}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
  const normalized = posix.normalize(value.replace(/\\/g, '/')).replace(/\/+$/, '');
  return normalized === '' ? '.' : normalized;
}

/** Resolves rootDir inside the repo, refusing anything (including a symlink) that leads outside it. */
function resolveRootDir(repoDir: string, rootDir: string): string {
  const repoReal = realpathSync(repoDir);
  const target = resolve(repoReal, rootDir);
  if (!existsSync(target) || !statSync(target).isDirectory())
    throw new UserFacingError(`rootDir "${rootDir}" is not a directory in the repository`);
  const real = realpathSync(target);
  const rel = relative(repoReal, real);
  if (rel.startsWith('..') || rel.split(sep).includes('..') || resolve(repoReal, rel) !== real) {
    throw new UserFacingError(`rootDir "${rootDir}" leads outside the repository`);
  }
  return real;
}

function shell(cmd: string | undefined): Command | undefined {
  return cmd === undefined ? undefined : { shell: cmd };
}

interface Detected {
  kind: BuildPlan['kind'];
  install?: Command;
  build?: Command;
  start?: Command;
  outputDir?: string;
  reason: string;
}

function installFor(dir: string, pkg: PackageJson): { install?: Command; note: string } {
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  if (deps.length === 0) return { note: 'no dependencies to install' };
  // The build needs devDependencies (bundlers, compilers) even though NODE_ENV is production. With a lockfile
  // every version is pinned, so cached registry metadata is as good as fresh and saves a round trip per package.
  if (existsSync(join(dir, 'package-lock.json')) || existsSync(join(dir, 'npm-shrinkwrap.json'))) {
    return { install: { argv: ['npm', 'ci', '--include=dev', '--prefer-offline'] }, note: 'npm ci from the lockfile' };
  }
  return { install: { argv: ['npm', 'install', '--include=dev'] }, note: 'npm install (no package-lock.json)' };
}

function nextExports(dir: string, pkg: PackageJson): boolean {
  if (/\bnext\s+export\b/.test(pkg.scripts?.build ?? '')) return true;
  for (const name of ['next.config.js', 'next.config.mjs', 'next.config.ts', 'next.config.cjs']) {
    const file = join(dir, name);
    if (existsSync(file) && /output\s*:\s*['"]export['"]/.test(readFileSync(file, 'utf8'))) return true;
  }
  return false;
}

function detectNode(dir: string, label: string, pkg: PackageJson): Detected {
  const scripts = pkg.scripts ?? {};
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  const { install, note } = installFor(dir, pkg);
  const build: Command | undefined = scripts.build ? { argv: ['npm', 'run', 'build'] } : undefined;
  const buildNote = build ? ', then npm run build' : '';

  if (deps.next) {
    if (nextExports(dir, pkg)) {
      return {
        kind: 'spa',
        install,
        build: build ?? { argv: ['npx', '--no-install', 'next', 'build'] },
        outputDir: 'out',
        reason: `Next.js static export: ${note}, next build, serving out/`,
      };
    }
    const start: Command =
      scripts.start && /\bnext\s+start\b/.test(scripts.start)
        ? { argv: ['npm', 'start'] }
        : { argv: ['npx', '--no-install', 'next', 'start'] };
    return {
      kind: 'next',
      install,
      build: build ?? { argv: ['npx', '--no-install', 'next', 'build'] },
      start,
      reason: `Next.js: ${note}, next build, next start`,
    };
  }

  if (scripts.start && !isDevServer(scripts.start)) {
    return {
      kind: 'node',
      install,
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
      kind: 'spa',
      install,
      build: build ?? { argv: ['npx', '--no-install', 'vite', 'build'] },
      outputDir: 'dist',
      reason: `Vite SPA${devNote}: ${note}, build, serving dist/`,
    };
  }
  if (deps['react-scripts']) {
    return {
      kind: 'spa',
      install,
      build: build ?? { argv: ['npx', '--no-install', 'react-scripts', 'build'] },
      outputDir: 'build',
      reason: `Create React App${devNote}: ${note}, build, serving build/`,
    };
  }

  const main = pkg.main ?? (existsSync(join(dir, 'server.js')) ? 'server.js' : undefined);
  if (main && !scripts.start && (existsSync(join(dir, main)) || build)) {
    return {
      kind: 'node',
      install,
      build,
      start: { argv: ['node', main] },
      reason: `Node server (${main}): ${note}${buildNote}, node ${main}`,
    };
  }

  if (build) {
    return {
      kind: 'spa',
      install,
      build,
      reason: `static build${devNote}: ${note}, npm run build, serving its output (dist/, build/ or out/)`,
    };
  }
  if (existsSync(join(dir, 'index.html'))) {
    return {
      kind: 'static',
      outputDir: '.',
      reason: `static site: index.html in ${label} (package.json has no build or start script)`,
    };
  }
  throw new UserFacingError(
    `nothing to build or run in ${label}: package.json has no start or build script, no server.js and no main`,
  );
}

/**
 * Decides how to build and run the app in `repoDir`. Deployment overrides beat cloudsmith.json (rootDir's,
 * then the repo root's), which beats detection.
 */
export async function detectPlan(repoDir: string, overrides: Overrides): Promise<BuildPlan> {
  const rootConfig = readCloudsmithJson(repoDir, 'cloudsmith.json');
  const rootDir = checkRelative(overrides.rootDir ?? rootConfig.rootDir ?? '.', 'rootDir');
  const dir = resolveRootDir(repoDir, rootDir);
  const label = rootDir === '.' ? 'the repository root' : rootDir;
  const localConfig = rootDir === '.' ? {} : readCloudsmithJson(dir, `${rootDir}/cloudsmith.json`);
  const chosen: Overrides = { ...rootConfig, ...localConfig };
  for (const [key, value] of Object.entries(overrides) as [keyof Overrides, Overrides[keyof Overrides]][]) {
    if (value !== undefined && value !== '') (chosen as Record<string, unknown>)[key] = value;
  }
  const outputDir = chosen.outputDir === undefined ? undefined : checkRelative(chosen.outputDir, 'outputDir');
  const healthPath = chosen.healthPath ?? '/';
  if (!healthPath.startsWith('/')) throw new UserFacingError(`healthPath "${healthPath}" must start with "/"`);

  let detected: Detected;
  const pkgFile = join(dir, 'package.json');
  if (existsSync(pkgFile)) {
    const parsed = packageJsonSchema.safeParse(readJson(pkgFile, `package.json in ${label}`));
    if (!parsed.success)
      throw new UserFacingError(`package.json in ${label} is invalid: ${formatIssues(parsed.error)}`);
    try {
      detected = detectNode(dir, label, parsed.data);
    } catch (err) {
      // Explicit commands make an otherwise undetectable package buildable.
      if (!(err instanceof UserFacingError) || (!chosen.startCommand && !chosen.outputDir && !chosen.buildCommand))
        throw err;
      detected = {
        kind: chosen.startCommand ? 'node' : 'spa',
        ...installFor(dir, parsed.data),
        reason: 'commands from the deployment settings',
      };
    }
  } else if (existsSync(join(dir, 'index.html'))) {
    detected = { kind: 'static', outputDir: '.', reason: `static site: index.html in ${label}, served as is` };
  } else if (chosen.startCommand) {
    detected = { kind: 'node', reason: 'start command from the deployment settings' };
  } else {
    throw new UserFacingError(`no package.json or index.html in ${label}`);
  }

  const plan: BuildPlan = { ...detected, rootDir, healthPath };
  const notes: string[] = [];
  if (chosen.installCommand) {
    plan.install = shell(chosen.installCommand);
    notes.push('install command');
  }
  if (chosen.buildCommand) {
    plan.build = shell(chosen.buildCommand);
    notes.push('build command');
  }
  if (chosen.startCommand) {
    plan.start = shell(chosen.startCommand);
    // The user's own server serves whatever the build produced.
    if (plan.kind === 'spa' || plan.kind === 'static') plan.kind = 'node';
    plan.outputDir = undefined;
    notes.push('start command');
  } else if (outputDir !== undefined) {
    // An explicit output directory asks for it to be served as static files.
    if (plan.kind === 'node') plan.kind = 'spa';
    if (plan.kind !== 'next') {
      plan.outputDir = outputDir;
      plan.start = undefined;
    }
    notes.push('output directory');
  }
  if (notes.length > 0) plan.reason += `; ${notes.join(', ')} from the deployment settings`;
  return plan;
}

/**
 * The output directory of an SPA build, relative to rootDir: the planned one, which must exist after the
 * build, or else the first of dist/, build/, out/ that does (preferring one with an index.html).
 */
export function resolveOutputDir(rootPath: string, plan: BuildPlan): string {
  const isDir = (p: string) => existsSync(join(rootPath, p)) && statSync(join(rootPath, p)).isDirectory();
  if (plan.outputDir !== undefined) {
    if (!isDir(plan.outputDir))
      throw new UserFacingError(`the build did not produce the output directory "${plan.outputDir}"`);
    return plan.outputDir;
  }
  const found = OUTPUT_DIR_CANDIDATES.filter(isDir);
  const withIndex = found.find((d) => existsSync(join(rootPath, d, 'index.html')));
  const chosen = withIndex ?? found[0];
  if (!chosen)
    throw new UserFacingError(
      `the build wrote none of ${OUTPUT_DIR_CANDIDATES.map((d) => `${d}/`).join(', ')}; set outputDir to the directory it writes`,
    );
  return chosen;
}
