import { posix } from 'node:path';
import type { RunPlan } from '../../../domain/deployment';
import { UserFacingError } from '../../../domain/errors';
import { finalizePlan, OUTPUT_DIR_CANDIDATES, type BuildPlan } from '../../../detect/plan';
import { encodePlan } from '../../artifacts/planMetadata';
import type { Command } from '../../../sandbox/run';
import { isStaticPlan, runPlanFor } from '../artifactLayout';

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

/**
 * One way the build may turn out, decided by the provider's own finalize rules (detect/plan.ts finalizePlan):
 * when every path in `present` exists after the build and none in `absent` does, the pipeline makes `copies`,
 * packages `outputDir` (or the whole root dir) and the release runs `plan`; or the build fails with `error`.
 */
export interface OutputRule {
  present: string[];
  absent: string[];
  copies: [string, string][];
  outputDir: string;
  plan?: RunPlan;
  error?: string;
}

/**
 * Every outcome of finalizePlan for `plan`, found by answering each path it asks about both ways: the pipeline,
 * which builds out of the platform's sight, evaluates these instead of a copy of the rules. None for plans
 * whose way of running does not depend on their output.
 */
export async function outputRules(plan: BuildPlan): Promise<OutputRule[]> {
  if (!plan.framework) return [];
  const rules: OutputRule[] = [];
  const explore = async (known: Map<string, boolean>): Promise<void> => {
    let unknown: string | undefined;
    let decided: BuildPlan | undefined;
    let error: string | undefined;
    try {
      decided = await finalizePlan(plan, {
        exists: (rel) => {
          const path = posix.normalize(rel);
          const answer = known.get(path);
          if (answer === undefined) unknown ??= path;
          return Promise.resolve(answer ?? false);
        },
      });
    } catch (err) {
      if (!(err instanceof UserFacingError)) throw err;
      error = err.message;
    }
    if (unknown !== undefined) {
      await explore(new Map([...known, [unknown, true]]));
      await explore(new Map([...known, [unknown, false]]));
      return;
    }
    const entries = [...known.entries()];
    rules.push({
      present: entries.filter(([, v]) => v).map(([p]) => p),
      absent: entries.filter(([, v]) => !v).map(([p]) => p),
      copies: decided?.copies ?? [],
      outputDir: decided && isStaticPlan(decided) ? (decided.outputDir ?? '') : '',
      ...(decided ? { plan: runPlanFor(decided) } : {}),
      ...(error !== undefined ? { error } : {}),
    });
  };
  await explore(new Map());
  return rules;
}

const RULE_PATH = /^[A-Za-z0-9._@+/-]+$/;

/**
 * The rules as the pipeline reads them (jenkins/steps/package.sh), base64 of one line per rule:
 * `+present -absent|from:to ...|outputDir|runPlanBase64|errorBase64`.
 */
export function encodeOutputRules(rules: OutputRule[]): string {
  if (rules.length === 0) return '';
  const path = (p: string) => {
    if (!RULE_PATH.test(p) || p.split('/').includes('..')) throw new Error(`not a rule path: ${p}`);
    return p;
  };
  const lines = rules.map((r) =>
    [
      [...r.present.map((p) => `+${path(p)}`), ...r.absent.map((p) => `-${path(p)}`)].join(' '),
      r.copies.map(([from, to]) => `${path(from)}:${path(to)}`).join(' '),
      r.outputDir ? path(r.outputDir) : '',
      r.plan ? encodePlan(r.plan) : '',
      r.error !== undefined ? Buffer.from(r.error, 'utf8').toString('base64') : '',
    ].join('|'),
  );
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8').toString('base64');
}
