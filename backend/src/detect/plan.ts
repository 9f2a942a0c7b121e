import { existsSync, realpathSync, statSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { Overrides } from '../domain/deployment';
import { UserFacingError } from '../domain/errors';
import type { Command } from '../sandbox/run';
import { PROVIDERS, providerNamed } from './providers';
import { nodeInstallFor } from './providers/node';
import { readProcfile } from './providers/procfile';
import type { BuildOutput, Detected, PlanKind } from './providers/types';
import { RepoDir } from './repo';
import { cloudsmithJsonSchema, relativePath, type CloudsmithJson } from './schema';

export { isDevServer } from './providers/node';
export type { BuildOutput } from './providers/types';

export interface BuildPlan extends Detected {
  kind: PlanKind;
  /** The provider that detected the app; it also decides, after the build, how to run it. */
  provider: string;
  /** Relative to the repo, posix separators, `.` for the repo root. */
  rootDir: string;
  /** Runs once per release, before it takes traffic (Procfile `release:`); failing fails the deploy. */
  release?: Command;
  /** Where the start command runs, relative to rootDir (default: rootDir itself). */
  workdir?: string;
  /** Copies (relative to rootDir) made before packaging, decided by finalizePlan. */
  copies?: [string, string][];
  /** See Finalized.ships: what of rootDir runs, decided by finalizePlan. */
  ships?: string[];
  healthPath: string;
}

/** Where builds commonly write their output, in the order they are looked for after a build. */
export const OUTPUT_DIR_CANDIDATES = ['dist', 'build', 'out'] as const;

function readCloudsmithJson(dir: RepoDir): CloudsmithJson {
  return dir.json('cloudsmith.json', cloudsmithJsonSchema) ?? {};
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

/** The first provider, in PROVIDERS order, that recognises the dir. */
function detectWithProviders(dir: RepoDir, chosen: Overrides): { provider: string; detected: Detected } {
  for (const provider of PROVIDERS) {
    let detected: Detected | null;
    try {
      detected = provider.detect(dir);
    } catch (err) {
      // Explicit commands make an otherwise undetectable package.json buildable.
      const explicit = chosen.startCommand || chosen.outputDir || chosen.buildCommand;
      if (provider.name !== 'node' || !(err instanceof UserFacingError) || !explicit) throw err;
      detected = {
        kind: chosen.startCommand ? 'node' : 'spa',
        ...nodeInstallFor(dir),
        reason: 'commands from the deployment settings',
      };
    }
    if (detected) return { provider: provider.name, detected };
  }
  if (chosen.startCommand)
    return { provider: 'procfile', detected: { kind: 'node', reason: 'start command from the deployment settings' } };
  throw new UserFacingError(
    `nothing CloudSmith knows how to build in ${dir.label}: no package.json, requirements.txt, pyproject.toml, ` +
      'Pipfile, go.mod, Procfile, index.html or Dockerfile. Add a Procfile with a `web:` line, or set startCommand ' +
      '(cloudsmith.json or the deployment settings)',
  );
}

/**
 * Decides how to build and run the app in `repoDir`: deployment overrides beat cloudsmith.json (rootDir's,
 * then the repo root's), which beats a Procfile, which beats what the provider inferred.
 */
export async function detectPlan(repoDir: string, overrides: Overrides): Promise<BuildPlan> {
  const rootConfig = readCloudsmithJson(new RepoDir(repoDir, 'the repository root'));
  const rootDir = checkRelative(overrides.rootDir ?? rootConfig.rootDir ?? '.', 'rootDir');
  const label = rootDir === '.' ? 'the repository root' : rootDir;
  const dir = new RepoDir(resolveRootDir(repoDir, rootDir), label);
  const localConfig = rootDir === '.' ? {} : (dir.json('cloudsmith.json', cloudsmithJsonSchema) ?? {});
  const chosen: Overrides = { ...rootConfig, ...localConfig };
  for (const [key, value] of Object.entries(overrides) as [keyof Overrides, Overrides[keyof Overrides]][]) {
    if (value !== undefined && value !== '') (chosen as Record<string, unknown>)[key] = value;
  }
  const outputDir = chosen.outputDir === undefined ? undefined : checkRelative(chosen.outputDir, 'outputDir');
  const healthPath = chosen.healthPath ?? '/';
  if (!healthPath.startsWith('/')) throw new UserFacingError(`healthPath "${healthPath}" must start with "/"`);

  const { provider, detected } = detectWithProviders(dir, chosen);
  const wrapper = providerNamed(provider);
  const wrap = (s: string): string => (wrapper?.wrapCommand ? wrapper.wrapCommand(s) : s);
  const plan: BuildPlan = { ...detected, provider, rootDir, healthPath, notes: [...(detected.notes ?? [])] };
  const notes: string[] = [];

  const procfile = readProcfile(dir);
  const web = procfile.get('web');
  if (web !== undefined && provider !== 'procfile') {
    plan.start = { shell: wrap(web) };
    // The Procfile names the server: nothing is inferred from the build's output.
    delete plan.framework;
    if (plan.kind === 'spa' || plan.kind === 'static') plan.kind = 'node';
    plan.outputDir = undefined;
    plan.reason += `; start from the Procfile (web: ${web})`;
  }
  const release = procfile.get('release');
  if (release !== undefined) {
    plan.release = { shell: wrap(release) };
    plan.reason += `; release step from the Procfile (release: ${release})`;
  }

  if (chosen.installCommand) {
    plan.install = shell(chosen.installCommand);
    notes.push('install command');
  }
  if (chosen.buildCommand) {
    plan.build = shell(chosen.buildCommand);
    notes.push('build command');
  }
  if (chosen.startCommand) {
    plan.start = { shell: wrap(chosen.startCommand) };
    delete plan.framework;
    // The user's own server serves whatever the build produced.
    if (plan.kind === 'spa' || plan.kind === 'static' || plan.kind === 'dockerfile') plan.kind = 'node';
    plan.outputDir = undefined;
    notes.push('start command');
  } else if (outputDir !== undefined) {
    // An explicit output directory asks for it to be served as static files.
    delete plan.framework;
    if (plan.kind !== 'next' || plan.start === undefined) plan.kind = 'spa';
    plan.outputDir = outputDir;
    plan.start = undefined;
    notes.push('output directory');
  }
  if (notes.length > 0) plan.reason += `; ${notes.join(', ')} from the deployment settings`;
  return plan;
}

/**
 * After the build: the provider decides how to run from what the build really produced (a framework's
 * server entry, a static export, a Go binary...). Returns the plan to package and run.
 */
export async function finalizePlan(plan: BuildPlan, output: BuildOutput): Promise<BuildPlan> {
  const provider = providerNamed(plan.provider);
  const decided = await provider?.finalize?.(plan, output);
  if (!decided) return plan;
  const { reason, ...rest } = decided;
  return { ...plan, ...rest, reason: `${plan.reason}; ${reason}` };
}

/** A BuildOutput over a local directory (the app's rootDir after the build). */
export function localOutput(root: string): BuildOutput {
  return {
    localRoot: root,
    exists: (rel) => Promise.resolve(existsSync(join(root, rel))),
  };
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
  const chosen = withIndex ?? found.at(0);
  if (!chosen)
    throw new UserFacingError(
      `the build wrote none of ${OUTPUT_DIR_CANDIDATES.map((d) => `${d}/`).join(', ')}; set outputDir to the directory it writes`,
    );
  return chosen;
}
