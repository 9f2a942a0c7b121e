import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunPlan } from '../../domain/deployment';
import { UserFacingError } from '../../domain/errors';
import type { BuildPlan } from '../../detect/plan';
import { runtimeAsset } from '../../lib/runtimeAssets';
import type { Command } from '../../sandbox/run';

/**
 * The layout of a tarball artifact, whichever builder made it (local processes or a Jenkins pipeline), so the
 * runtimes start every artifact the same way: servers from the packaged root dir, static sites as `site/`
 * beside the platform's own static server.
 */
export const STATIC_SERVER_PATH = '.cloudsmith/static-server.js';
export const SITE_DIR = 'site';

export function staticServerSource(): string {
  return runtimeAsset('static-server.js');
}

export function isStaticPlan(plan: BuildPlan): boolean {
  return plan.kind === 'spa' || plan.kind === 'static';
}

/**
 * The only paths of rootDir a server artifact holds, or undefined for all of it: a self-contained output
 * (Finalized.ships) ships alone, unless a release step runs, which runs in the release's root with the app's own
 * tools (a migration's node_modules). Every builder packs by this, so the stacks run the same files.
 */
export function shippedPaths(plan: BuildPlan): string[] | undefined {
  if (isStaticPlan(plan) || plan.release || !plan.ships?.length) return undefined;
  return plan.ships;
}

// tar reads exclude patterns as globs: a name with these characters must match only itself.
const GLOB_CHARS = /[*?[\\]/g;

/**
 * Exclude patterns (relative to `root`) that leave a pack of `root` with only `keep` and the directories above
 * them: every sibling along each kept path is left out.
 */
export async function excludesBeside(root: string, keep: string[]): Promise<string[]> {
  const excludes: string[] = [];
  const walk = async (dir: string, wanted: string[][]): Promise<void> => {
    // This directory itself is kept, with all it holds.
    if (wanted.some((parts) => parts.length === 0)) return;
    const below = new Map<string, string[][]>();
    for (const [head, ...rest] of wanted) below.set(head, [...(below.get(head) ?? []), rest]);
    for (const name of await readdir(join(root, dir))) {
      const rel = dir ? `${dir}/${name}` : name;
      const tails = below.get(name);
      if (tails) await walk(rel, tails);
      else excludes.push(rel.replace(GLOB_CHARS, '\\$&'));
    }
  };
  await walk(
    '',
    keep.map((path) => path.split('/').filter((p) => p !== '' && p !== '.')),
  );
  return excludes;
}

export function commandArgv(cmd: Command): string[] {
  return 'shell' in cmd ? ['sh', '-c', cmd.shell] : cmd.argv;
}

function runKind(plan: BuildPlan): RunPlan['kind'] {
  switch (plan.kind) {
    case 'next':
    case 'python':
    case 'go':
      return plan.kind;
    case 'procfile':
      return 'process';
    default:
      return 'node';
  }
}

/** How the runtime starts an artifact packed in this layout from `plan` (after finalizePlan). */
export function runPlanFor(plan: BuildPlan): RunPlan {
  const release = {
    ...(plan.release ? { release: commandArgv(plan.release) } : {}),
    ...(plan.toolDirs?.length ? { toolDirs: plan.toolDirs } : {}),
  };
  if (isStaticPlan(plan)) {
    const spa = plan.kind === 'spa';
    return {
      kind: 'static',
      start: ['node', STATIC_SERVER_PATH, SITE_DIR, ...(spa ? ['--spa'] : [])],
      workdir: '.',
      spaFallback: spa,
      healthPath: plan.healthPath,
      ...release,
    };
  }
  if (!plan.start)
    throw new UserFacingError(
      'nothing to start: add a "start" script to package.json or a `web:` line to a Procfile, or set startCommand',
    );
  return {
    kind: runKind(plan),
    start: commandArgv(plan.start),
    workdir: plan.workdir ?? '.',
    healthPath: plan.healthPath,
    ...release,
  };
}
