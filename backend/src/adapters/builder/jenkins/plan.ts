import { OUTPUT_DIR_CANDIDATES, type BuildPlan } from '../../../detect/plan';
import type { Command } from '../../../sandbox/run';
import { isStaticPlan } from '../artifactLayout';

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

export function pipelinePlan(plan: BuildPlan): PipelinePlan {
  return {
    rootDir: plan.rootDir,
    installCommand: commandLine(plan.install),
    buildCommand: commandLine(plan.build),
    outputDir: isStaticPlan(plan) ? (plan.outputDir ?? OUTPUT_DIR_CANDIDATES.join(' ')) : '',
  };
}
