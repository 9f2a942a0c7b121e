import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunPlan } from '../../domain/deployment';
import { UserFacingError } from '../../domain/errors';
import type { BuildPlan } from '../../detect/plan';
import type { Command } from '../../sandbox/run';

/**
 * The layout of a tarball artifact, whichever builder made it (local processes or a Jenkins pipeline), so the
 * runtimes start every artifact the same way: servers from the packaged root dir, static sites as `site/`
 * beside the platform's own static server.
 */
export const STATIC_SERVER_PATH = '.cloudsmith/static-server.js';
export const SITE_DIR = 'site';

/** runtime-assets/ sits at the backend package root; found by walking up, so it works from src/ (tsx) and from a compiled dist/. */
export function staticServerSource(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'runtime-assets', 'static-server.js');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('runtime-assets/static-server.js not found above ' + __dirname);
    dir = parent;
  }
}

export function isStaticPlan(plan: BuildPlan): boolean {
  return plan.kind === 'spa' || plan.kind === 'static';
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
