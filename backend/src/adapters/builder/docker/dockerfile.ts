import type { RunPlan } from '../../../domain/deployment';
import { UserFacingError } from '../../../domain/errors';
import { OUTPUT_DIR_CANDIDATES, type BuildPlan } from '../../../detect/plan';
import { shippedPaths } from '../artifactLayout';
import type { Command } from '../../../sandbox/run';
import { labelInstruction } from '../../docker/names';
import { cacheMountEnv, cacheMountFlag, generationLine, type DependencyStep } from './dependencyStep';
import { generateStackDockerfile, stackDependencyStep, type StackImages } from './stackDockerfile';

/** Where the generated image keeps the app; the static server and the served files live under it too. */
export const APP_DIR = '/app';
/** The port a generated image's app listens on (PORT is set to it); the runtime publishes it on loopback. */
export const CONTAINER_PORT = 8080;
/** Path of the platform's static server inside the build context (copied there by the builder). */
export const STATIC_SERVER_CONTEXT_PATH = '.cloudsmith/static-server.js';
const STATIC_SERVER_IMAGE_PATH = `${APP_DIR}/.cloudsmith/static-server.js`;
const SITE_DIR = `${APP_DIR}/site`;
/** Where the build stage collects an SPA's or static site's output before the runtime stage copies it. */
const BUILT_SITE_DIR = '/cloudsmith-site';

export interface DockerfileInput {
  /** The plan as detected: it decides the build stage. */
  plan: BuildPlan;
  /**
   * How the app runs, decided from what the build stage produced (finalizePlan); the detected plan when absent.
   * The build stage is the same text either way, so building it again reuses every cached layer.
   */
  finalized?: BuildPlan;
  baseImage: string;
  app: string;
  commitSha: string;
  /** Names of the app's env vars, declared as build args so the build steps see them (values come from `--build-arg NAME`). */
  buildArgNames: string[];
  /** Whether the install step may run before the rest of the source is copied (detected npm installs only). */
  cacheInstall: boolean;
  /** Toolchain images for Python and Go plans. */
  images?: StackImages;
  /** BuildKit builds: install and build steps get the app's own cache mount for package-manager caches. */
  cacheMounts?: boolean;
  /** The app's cache generation (see generationLine); none: no generation in the keys. */
  cacheGeneration?: string;
  /** Labels of the final image besides cloudsmith.app and cloudsmith.commit (deployment, dependency fingerprint). */
  imageLabels?: Record<string, string>;
}

export interface GeneratedDockerfile {
  text: string;
  runPlan: RunPlan;
}

// Paths are written into Dockerfile instructions; a newline or quote would start another instruction.
const SAFE_PATH = /^[A-Za-z0-9._@+-][A-Za-z0-9._@+/-]*$/;

function checkPath(value: string, what: string): string {
  if (value === '.') return value;
  if (!SAFE_PATH.test(value) || value.split('/').includes('..')) {
    throw new UserFacingError(
      `${what} "${value}" contains characters the Docker builder does not accept (use letters, digits, . _ - @ + /)`,
    );
  }
  return value;
}

/** Exec form, so neither the user's commands nor paths are re-parsed by the Dockerfile syntax. */
function execForm(cmd: Command): string[] {
  return 'argv' in cmd ? cmd.argv : ['/bin/sh', '-c', cmd.shell];
}

/** What an install reads: every package manager's manifest and lockfile (`*`: copied when present). */
const NODE_MANIFESTS = [
  'package.json',
  'package-lock.json*',
  'npm-shrinkwrap.json*',
  '.npmrc*',
  'pnpm-lock.yaml*',
  'yarn.lock*',
  '.yarnrc.yml*',
];
const ENV_VALUE = /^[A-Za-z0-9_.:/=-]*$/;

/** The plan's toolchain settings (fixed values the platform chose, never the app's env) for the build stage. */
function envLines(env: Record<string, string> | undefined): string[] {
  const pairs = Object.entries(env ?? {}).filter(([, v]) => ENV_VALUE.test(v));
  return pairs.length ? [`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`] : [];
}

function json(argv: string[]): string {
  return JSON.stringify(argv);
}

/** A RUN instruction, with the app's cache mount when the build has them. */
export function runInstruction(
  cmd: Command,
  input: Pick<DockerfileInput, 'app' | 'cacheMounts' | 'cacheGeneration'>,
): string {
  const mount = input.cacheMounts ? `${cacheMountFlag(input.app, input.cacheGeneration)} ` : '';
  return `RUN ${mount}${json(execForm(cmd))}`;
}

/** The dependency step of the Dockerfile generated for `input`, to find in the engine's output; none without install. */
export function dependencyStep(input: DockerfileInput): DependencyStep | undefined {
  const { plan } = input;
  if (!plan.install) return undefined;
  // Its manifests are read from the context: a rootDir must stay inside it.
  const rootDir = checkPath(plan.rootDir, 'rootDir');
  if (plan.kind === 'python' || plan.kind === 'go') return stackDependencyStep(input);
  const prefix = rootDir === '.' ? '' : `${rootDir}/`;
  return {
    instruction: runInstruction(plan.install, input),
    command: plan.install,
    files: NODE_MANIFESTS.map((m) => `${prefix}${m.replace(/\*$/, '')}`),
    beforeSource: input.cacheInstall,
  };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The build stage's last step for SPAs and static sites: find the output directory as the local builder
 * does (the planned one, or the first of dist/, build/, out/ with an index.html) and collect it.
 */
function collectSiteScript(outputDir: string | undefined): string {
  if (outputDir !== undefined) {
    const dir = shellQuote(outputDir);
    return [
      `if [ ! -d ${dir} ]; then echo "the build did not produce the output directory \\"${outputDir}\\"" >&2; exit 1; fi`,
      `mkdir -p ${BUILT_SITE_DIR} && cp -a ${dir}/. ${BUILT_SITE_DIR}/`,
    ].join('; ');
  }
  const candidates = OUTPUT_DIR_CANDIDATES.join(' ');
  return [
    'found=""',
    `for d in ${candidates}; do if [ -f "$d/index.html" ]; then found=$d; break; fi; done`,
    `if [ -z "$found" ]; then for d in ${candidates}; do if [ -d "$d" ]; then found=$d; break; fi; done; fi`,
    `if [ -z "$found" ]; then echo "the build wrote none of ${OUTPUT_DIR_CANDIDATES.map((d) => `${d}/`).join(', ')}; set outputDir to the directory it writes" >&2; exit 1; fi`,
    `echo "serving $found/"`,
    `mkdir -p ${BUILT_SITE_DIR} && cp -a "$found/." ${BUILT_SITE_DIR}/`,
  ].join('; ');
}

/**
 * A two-stage Dockerfile for a detected plan. Stage one installs and builds with the whole source and
 * the app's build-time env (build args, which never reach the final image's layers or history); stage
 * two starts again from the base and copies only what runs, owned by and run as the unprivileged `node`
 * user (the official node images have it; so does the local test base).
 */
export function generateDockerfile(input: DockerfileInput): GeneratedDockerfile {
  const { plan } = input;
  const run = input.finalized ?? plan;
  const rootDir = checkPath(plan.rootDir, 'rootDir');
  const release = run.release ? { release: execForm(run.release) } : {};
  if (plan.kind === 'python' || plan.kind === 'go') {
    if (!input.images) throw new UserFacingError(`the Docker builder has no ${plan.kind} image configured`);
    const stack = generateStackDockerfile({
      ...input,
      images: input.images,
      rootDir,
      appDir: APP_DIR,
      port: CONTAINER_PORT,
    });
    return { text: stack.text, runPlan: { ...stack.runPlan, ...release } };
  }
  const workdir = rootDir === '.' ? '/src' : `/src/${rootDir}`;
  const labels = `LABEL cloudsmith.app=${JSON.stringify(input.app)}`;
  const lines = buildStage(input);
  // Paths a framework's docs want beside its server (Next.js standalone: .next/static, public).
  for (const [from, to] of run.copies ?? []) {
    const [src, dest] = [checkPath(from, 'copy source'), checkPath(to, 'copy target')];
    lines.push(
      `RUN ${json(['/bin/sh', '-c', `mkdir -p ${shellQuote(dest)} && cp -a ${shellQuote(src)}/. ${shellQuote(dest)}/`])}`,
    );
  }
  const servesFiles = run.kind === 'spa' || run.kind === 'static';
  if (servesFiles) {
    const outputDir = run.outputDir === undefined ? undefined : checkPath(run.outputDir, 'outputDir');
    lines.push(`RUN ${json(['/bin/sh', '-c', collectSiteScript(outputDir)])}`);
  }
  // devDependencies stay, as with the local builder: start scripts often run one (tsx, ts-node, nodemon).

  const runDir = run.workdir && run.workdir !== '.' ? `${APP_DIR}/${checkPath(run.workdir, 'workdir')}` : APP_DIR;
  lines.push('', `FROM ${input.baseImage}`, labels, `WORKDIR ${servesFiles ? APP_DIR : runDir}`);
  let start: string[];
  if (servesFiles) {
    lines.push(`COPY --from=build ${json([`${BUILT_SITE_DIR}/`, `${SITE_DIR}/`])}`);
    lines.push(`COPY ${json([STATIC_SERVER_CONTEXT_PATH, STATIC_SERVER_IMAGE_PATH])}`);
    start = ['node', STATIC_SERVER_IMAGE_PATH, SITE_DIR, ...(run.kind === 'spa' ? ['--spa'] : [])];
  } else {
    // What the local builder's artifact holds too: a self-contained output alone, or else the whole root dir.
    for (const path of shippedPaths(run)?.map((p) => checkPath(p, 'shipped path')) ?? ['.']) {
      const [from, to] = path === '.' ? [workdir, APP_DIR] : [`${workdir}/${path}`, `${APP_DIR}/${path}`];
      lines.push(`COPY --from=build --chown=node:node ${json([`${from}/`, `${to}/`])}`);
    }
    // COPY leaves the directory itself to root: an app (or its release step) may write beside its files.
    lines.push(`RUN ${json(['chown', 'node:node', APP_DIR])}`);
    if (!run.start) throw new UserFacingError('the build plan has no start command for a server app; set startCommand');
    start = execForm(run.start);
  }
  lines.push(
    `ENV NODE_ENV=production PORT=${CONTAINER_PORT}`,
    'USER node',
    `EXPOSE ${CONTAINER_PORT}`,
    `CMD ${json(start)}`,
    labelInstruction({ 'cloudsmith.commit': input.commitSha, ...input.imageLabels }),
    '',
  );

  const runPlan: RunPlan = {
    kind: run.kind === 'next' ? 'next' : servesFiles ? 'static' : 'node',
    start,
    workdir: servesFiles ? SITE_DIR : runDir,
    healthPath: plan.healthPath,
    port: CONTAINER_PORT,
    ...release,
  };
  if (servesFiles) runPlan.spaFallback = run.kind === 'spa';
  return { text: lines.join('\n'), runPlan };
}

/**
 * The build stage alone, for a Node plan whose way of running is decided from its output: built and looked
 * into first, then built again (from cache) under the final stage.
 */
export function generateBuildStage(input: DockerfileInput): string {
  checkPath(input.plan.rootDir, 'rootDir');
  return [...buildStage(input), ''].join('\n');
}

/** Stage one: install and build with the whole source and the app's build-time env (build args). */
function buildStage(input: DockerfileInput): string[] {
  const { plan } = input;
  const rootDir = plan.rootDir;
  const workdir = rootDir === '.' ? '/src' : `/src/${rootDir}`;
  // The commit label goes last: an instruction that differs per commit would invalidate every cached layer after it.
  const labels = `LABEL cloudsmith.app=${JSON.stringify(input.app)}`;
  const lines: string[] = [
    '# Generated by CloudSmith from the detected build plan:',
    `# ${plan.reason.replace(/[\r\n]+/g, ' ')}`,
    `FROM ${input.baseImage} AS build`,
    labels,
    'ARG NODE_ENV=production',
    'ARG CI=1',
    ...input.buildArgNames.map((name) => `ARG ${name}`),
    ...envLines(plan.buildEnv),
    ...(input.cacheMounts ? envLines(cacheMountEnv(plan.kind, input.app)) : []),
    ...(input.cacheGeneration ? [generationLine(input.cacheGeneration)] : []),
    `WORKDIR ${workdir}`,
  ];
  // pnpm and yarn run through corepack, which Node base images do not all carry; the build stage only.
  if (plan.buildEnv?.COREPACK_ENABLE_DOWNLOAD_PROMPT !== undefined)
    lines.push(`RUN ${json(['/bin/sh', '-c', 'command -v corepack >/dev/null || npm install -g --silent corepack'])}`);
  if (plan.install && input.cacheInstall) {
    // Manifests first: the install layer is reused by the next build of the same dependencies.
    const prefix = rootDir === '.' ? '' : `${rootDir}/`;
    lines.push(`COPY ${json([...NODE_MANIFESTS.map((m) => `${prefix}${m}`), `${workdir}/`])}`);
    lines.push(runInstruction(plan.install, input));
    lines.push(`COPY ${json(['.', '/src/'])}`);
  } else {
    lines.push(`COPY ${json(['.', '/src/'])}`);
    if (plan.install) lines.push(runInstruction(plan.install, input));
  }
  if (plan.build) lines.push(runInstruction(plan.build, input));
  return lines;
}
