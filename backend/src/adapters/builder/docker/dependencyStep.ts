import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildPlan } from '../../../detect/plan';
import type { Command } from '../../../sandbox/run';
import { appRepository } from '../../docker/names';

/** Where a BuildKit build keeps an app's package-manager caches, inside its build stage only. */
const CACHE_ROOT = '/cloudsmith-cache';

/**
 * `RUN --mount=type=cache` of one app (BuildKit only): id and target carry its checked name, so apps never share
 * a mount, and the engine's record of it ("cached mount /cloudsmith-cache/<app> from …") says whose it is.
 */
export function cacheMountFlag(app: string, generation?: string): string {
  const dir = cacheMountDir(app);
  const id = `cloudsmith/${appRepository(app)}${generation ? `/${checkGeneration(generation)}` : ''}`;
  return `--mount=type=cache,id=${id},target=${dir}`;
}

/**
 * An app's cache generation goes into its build stage's cache keys (an ENV before any step, the cache mount's id):
 * a later app of the same name, with a new generation, reuses no layer and no mount the deleted one's steps wrote.
 */
export function generationLine(generation: string): string {
  return `ENV CLOUDSMITH_CACHE_GENERATION=${checkGeneration(generation)}`;
}

function checkGeneration(generation: string): string {
  if (!/^[a-z0-9]{1,32}$/.test(generation)) throw new Error(`not a cache generation: ${generation}`);
  return generation;
}

export function cacheMountDir(app: string): string {
  return `${CACHE_ROOT}/${appRepository(app)}`;
}

/**
 * The package managers' caches pointed into the app's mount. Go keeps its module cache in the download layer
 * (reused while go.sum is unchanged); its build cache goes to the mount, so a code change compiles incrementally.
 */
export function cacheMountEnv(kind: BuildPlan['kind'], app: string): Record<string, string> {
  const dir = cacheMountDir(app);
  if (kind === 'python')
    return { PIP_CACHE_DIR: `${dir}/pip`, UV_CACHE_DIR: `${dir}/uv`, POETRY_CACHE_DIR: `${dir}/poetry` };
  if (kind === 'go') return { GOCACHE: `${dir}/go-build` };
  return { npm_config_cache: `${dir}/npm`, YARN_CACHE_FOLDER: `${dir}/yarn` };
}

/** The install step of a generated Dockerfile, as written in it: the engine prints it back when it runs or reuses it. */
export interface DependencyStep {
  /** The instruction exactly as in the Dockerfile (`RUN …`). */
  instruction: string;
  command: Command;
  /** Copied before it (relative to the context): the files whose content decides whether its layer is reused. */
  files: string[];
  /** Whether only those files are copied before it; otherwise the whole source is, and any change reruns it. */
  beforeSource: boolean;
}

/**
 * What the dependency layer was built from: each manifest's hash and the step itself (with its base image), as
 * an image label. The next build compares it to say why a layer was not reused.
 */
export async function dependencyFingerprint(contextDir: string, step: DependencyStep, image: string): Promise<string> {
  const parts: string[] = [];
  for (const file of step.files) {
    const content = await readFile(join(contextDir, file)).catch(() => undefined);
    if (content) parts.push(`${file}=${short(content)}`);
  }
  parts.push(`step=${short(`${image}\n${step.instruction}`)}`);
  return parts.join(',');
}

/** Why a dependency step was not reused, from the fingerprints of the app's previous image and this build. */
export function whyNotReused(previous: string | undefined, current: string, step: DependencyStep): string {
  if (!step.beforeSource) return 'the install step reads the whole source, so any change runs it again';
  if (previous === undefined) return 'no earlier image of this app on the engine';
  const parse = (fp: string) => new Map(fp.split(',').map((p) => p.split('=') as [string, string]));
  const [before, now] = [parse(previous), parse(current)];
  const changed = [...new Set([...before.keys(), ...now.keys()])].filter(
    (k) => k !== 'step' && before.get(k) !== now.get(k),
  );
  if (changed.length) return `${changed.join(', ')} changed`;
  if (before.get('step') !== now.get('step')) return 'the install command or its base image changed';
  return 'the engine no longer has the dependency layer (pruned, or its base image was rebuilt)';
}

function short(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

/**
 * Whether the engine reused the step's layer, from its own build output: the classic builder prints
 * "Step n/m : <instruction>" then " ---> Using cache" or " ---> Running in …"; BuildKit prints
 * "#k [stage i/n] <instruction>" and later "#k CACHED", or the step's output and "#k DONE".
 */
export class StepWatch {
  private vertex?: string;
  private classicNext = false;
  verdict?: 'reused' | 'ran';

  constructor(private readonly instruction: string) {}

  /** Reads one output line; returns the verdict once known. */
  feed(line: string): 'reused' | 'ran' | undefined {
    if (this.verdict === undefined) this.verdict = this.read(line);
    return this.verdict;
  }

  private read(line: string): 'reused' | 'ran' | undefined {
    if (this.classicNext) {
      if (line.trim() === '') return undefined;
      return /^\s*---> Using cache/.test(line) ? 'reused' : 'ran';
    }
    if (this.vertex !== undefined) {
      if (!line.startsWith(`${this.vertex} `)) return undefined;
      const rest = line.slice(this.vertex.length + 1);
      // The vertex line itself may be printed again as BuildKit reports progress.
      if (rest.endsWith(this.instruction)) return undefined;
      return rest === 'CACHED' ? 'reused' : 'ran';
    }
    if (/^Step \d+\/\d+ : /.test(line) && line.endsWith(` : ${this.instruction}`)) this.classicNext = true;
    const bk = /^(#\d+) \[[^\]]+\] (.*)$/.exec(line);
    if (bk?.[1] && bk[2] === this.instruction) this.vertex = bk[1];
    return undefined;
  }
}
