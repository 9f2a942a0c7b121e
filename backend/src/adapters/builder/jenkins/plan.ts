import type { RunPlan } from '../../../domain/deployment';
import { OUTPUT_DIR_CANDIDATES, type BuildPlan } from '../../../detect/plan';
import { UserFacingError } from '../../../domain/errors';
import type { Command } from '../../../sandbox/run';
import { SITE_DIR, STATIC_SERVER_PATH } from '../local/localBuilder';

/** What the pipeline needs from a detected plan: the commands as shell strings, and what to package. */
export interface PipelinePlan {
  rootDir: string;
  installCommand: string;
  buildCommand: string;
  /** Empty: package the whole root dir; otherwise the static output directory (or space-separated candidates). */
  outputDir: string;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting: the pipeline runs commands through bash, so argv must survive word splitting unchanged. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(command: Command | undefined): string {
  if (!command) return '';
  return 'shell' in command ? command.shell : command.argv.map(shellQuote).join(' ');
}

function isStatic(plan: BuildPlan): boolean {
  return plan.kind === 'spa' || plan.kind === 'static';
}

export function pipelinePlan(plan: BuildPlan): PipelinePlan {
  return {
    rootDir: plan.rootDir,
    installCommand: commandLine(plan.install),
    buildCommand: commandLine(plan.build),
    outputDir: isStatic(plan) ? (plan.outputDir ?? OUTPUT_DIR_CANDIDATES.join(' ')) : '',
  };
}

/**
 * How the runtime starts what package.sh produced. The layout is the local builder's, so an artifact runs
 * the same whichever builder made it: static sites as site/ beside .cloudsmith/static-server.js, servers
 * from the packaged root dir.
 */
export function runPlanFor(plan: BuildPlan): RunPlan {
  if (isStatic(plan)) {
    const spa = plan.kind === 'spa';
    return {
      kind: 'static',
      start: ['node', STATIC_SERVER_PATH, SITE_DIR, ...(spa ? ['--spa'] : [])],
      workdir: '.',
      spaFallback: spa,
      healthPath: plan.healthPath,
    };
  }
  if (!plan.start) throw new UserFacingError('no start command: add a start script to package.json or set startCommand');
  return {
    kind: plan.kind === 'next' ? 'next' : 'node',
    start: 'shell' in plan.start ? ['sh', '-c', plan.start.shell] : plan.start.argv,
    workdir: '.',
    healthPath: plan.healthPath,
  };
}
