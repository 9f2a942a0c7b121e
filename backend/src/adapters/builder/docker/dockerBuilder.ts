import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix, relative, resolve, sep } from 'node:path';
import type { RunPlan } from '../../../domain/deployment';
import { staticServerSource } from '../artifactLayout';
import { errorMessage, UserFacingError } from '../../../domain/errors';
import { detectPlan, finalizePlan, type BuildPlan } from '../../../detect/plan';
import { cloudsmithJsonSchema, relativePath } from '../../../detect/schema';
import type { BuildContext, BuildJob, Builder, BuildResult } from '../../../ports/builder';
import { describeCommand } from '../../../sandbox/run';
import { DockerCli, DockerError } from '../../docker/cli';
import { DEPS_LABEL, EngineCache, GENERATION_LABEL } from '../../docker/engineCache';
import { APP_LABEL, DEPLOYMENT_LABEL, imageName } from '../../docker/names';
import { mb } from '../../../cache/fsops';
import { dependencyFingerprint, StepWatch, whyNotReused, type DependencyStep } from './dependencyStep';
import {
  APP_DIR,
  CONTAINER_PORT,
  dependencyStep,
  generateBuildStage,
  generateDockerfile,
  STATIC_SERVER_CONTEXT_PATH,
  type DockerfileInput,
} from './dockerfile';
import type { StackImages } from './stackDockerfile';

export interface DockerBuildLimits {
  timeoutMs: number;
  maxOutputBytes: number;
  maxMemoryMb: number;
}

export interface DockerBuilderOptions {
  docker: DockerCli;
  /** host:port of the registry images are pushed to. */
  registry: string;
  /** FROM of generated Dockerfiles (production: node:20-slim). */
  baseImage: string;
  /** Toolchain images for Python and Go apps (production: python:3.12-slim, golang:1.23). */
  images?: StackImages;
  /** Whether a repo's own Dockerfile is used: when found or asked for (`auto`), whenever (`always`), never. */
  useRepoDockerfile: 'auto' | 'always' | 'never';
  limits: DockerBuildLimits;
  /** The platform's static file server, copied into images of SPAs and static sites. */
  staticServerPath?: string;
  /** Scratch space for build contexts. */
  workDir?: string;
  /**
   * Push images to the registry (default). Off when the Docker runtime runs on the same engine (the embedded
   * platform's Dockerfile-only repos): the image stays on the engine that built it.
   */
  push?: boolean;
  /**
   * Build with BuildKit (`DOCKER_BUILDKIT=1`, when the CLI has it): install and build steps get a cache mount of
   * their app's own for the package managers' caches, so a changed lockfile still installs from a warm cache.
   * BuildKit does not apply `--memory` to build steps: limits.maxMemoryMb then bounds nothing. Off: the classic
   * builder, which reuses the dependency layer alone.
   */
  buildKit?: boolean;
  /** Caps on what builds leave on the engine (images, cached layers, cache mounts); nothing is removed without. */
  cache?: DockerCacheCaps;
}

export interface DockerCacheCaps {
  /** Release images of an app kept on the engine, newest first (rollback targets); at least 1. */
  keepReleases: number;
  /** BuildKit: an app's cache mounts past this are dropped. */
  maxAppBytes: number;
  /** The engine's images (and BuildKit's build cache) past this: least recently built apps are trimmed. */
  maxTotalBytes: number;
}

/** A dependency step to find in the engine's output, and what its layer was built from. */
interface DependencyWatch {
  step: DependencyStep;
  fingerprint: string;
  previous: string | undefined;
  watch: StepWatch;
}

/**
 * What a build stage produced, for finalizePlan: paths under its workdir a few levels deep, without the
 * installed packages (every rule looks for a framework's output files, never inside node_modules).
 */
const LIST_OUTPUT = 'find . -maxdepth 4 \\( -name node_modules -o -name .git -o -name .venv \\) -prune -o -print';
/** How long `docker version` may take to say whether an engine answers. */
const ENGINE_CHECK_MS = 15_000;
/** BuildKit's plain progress repeats each step's digest on a line of its own: nothing for a reader. */
const BUILDKIT_DIGEST_LINE = /^#\d+ sha256:[0-9a-f]{64}$/;
/** Lines of builder output quoted in a failed build's error. */
const ERROR_TAIL_LINES = 15;
/** Names the docker CLI reads for itself: an app env var with one of them must not steer the CLI. */
const CLI_RESERVED = /^(PATH|HOME|DOCKER_.*|BUILDKIT_.*)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Source = { kind: 'generated'; plan: BuildPlan } | { kind: 'dockerfile'; rootDir: string; reason: string };

/**
 * Builds an image per deployment with the Docker engine: a Dockerfile generated from the same detection
 * as the local builder, or the repo's own; tagged `<registry>/<app>:<commit>` and pushed.
 */
export class DockerBuilder implements Builder {
  readonly name = 'docker';

  private buildKitProbe?: Promise<string | undefined>;
  private readonly engineCache: EngineCache;

  constructor(private readonly options: DockerBuilderOptions) {
    this.engineCache = new EngineCache(options.docker, options.registry);
  }

  async build(job: BuildJob, ctx: BuildContext): Promise<BuildResult> {
    const source = await this.chooseSource(job);
    const buildKit = await this.useBuildKit(ctx);
    const image = imageName(this.options.registry, job.app, job.commitSha);
    const { names: buildArgNames, env: buildArgEnv } = buildArgs(job.env, ctx);
    const scratchRoot = this.options.workDir ?? tmpdir();
    await mkdir(scratchRoot, { recursive: true });
    const scratch = await mkdtemp(join(scratchRoot, 'ctx-'));
    try {
      let contextDir: string;
      let dockerfile: string;
      let generatedPlan: RunPlan | undefined;
      let deps: DependencyWatch | undefined;
      if (source.kind === 'generated') {
        ctx.log(`Build plan: ${source.plan.reason}`);
        const input: DockerfileInput = {
          plan: source.plan,
          baseImage: this.options.baseImage,
          ...(this.options.images ? { images: this.options.images } : {}),
          app: job.app,
          commitSha: job.commitSha,
          buildArgNames,
          cacheInstall: !job.overrides.installCommand && !!source.plan.install && 'argv' in source.plan.install,
          cacheMounts: buildKit,
        };
        const last = await this.engineCache.lastBuild(job.app);
        // Kept while the app has an image on the engine; after forget(app) a new one: nothing of the old app is reused.
        input.cacheGeneration = last.generation ?? randomBytes(8).toString('hex');
        contextDir = await this.prepareContext(job.sourceDir, scratch, source.plan);
        deps = await this.watchDependencies(input, contextDir, last.deps);
        for (const step of [source.plan.install, source.plan.build])
          if (step) ctx.log(`  step: ${describeCommand(step)}`);
        const build = (file: string, tag: string) =>
          this.dockerBuild(contextDir, file, tag, buildArgNames, buildArgEnv, job, ctx, { buildKit, deps });
        // A framework's way of running is decided from what its build produced, as the local builder does.
        const finalized = source.plan.framework
          ? await this.decideFromOutput(input, scratch, `${image}-build`, build, ctx)
          : undefined;
        // In the Dockerfile's last line rather than as `--label`s: the classic builder makes a step of each of those.
        const imageLabels = {
          [DEPLOYMENT_LABEL]: job.deploymentId,
          [GENERATION_LABEL]: input.cacheGeneration,
          ...(deps ? { [DEPS_LABEL]: deps.fingerprint } : {}),
        };
        const generated = generateDockerfile({ ...input, imageLabels, ...(finalized ? { finalized } : {}) });
        dockerfile = join(scratch, 'Dockerfile');
        await writeFile(dockerfile, generated.text);
        generatedPlan = generated.runPlan;
      } else {
        ctx.log(`Using the repository's own Dockerfile (${source.reason})`);
        contextDir = resolve(job.sourceDir, source.rootDir);
        dockerfile = join(contextDir, 'Dockerfile');
      }

      const started = Date.now();
      await this.dockerBuild(contextDir, dockerfile, image, buildArgNames, buildArgEnv, job, ctx, {
        buildKit,
        deps,
        repoDockerfile: source.kind === 'dockerfile',
      });
      ctx.log(`Image ${image} built in ${seconds(Date.now() - started)}`);
      if (deps && !deps.watch.verdict) ctx.log("cache not restored: the engine's output did not show the install step");
      const plan = generatedPlan ?? (await this.planFromImage(image, job));
      let result: BuildResult;
      if (this.options.push === false) {
        ctx.log(`Image ${image} stays on the engine that built it, where it runs`);
        result = { artifact: { kind: 'image', image }, plan };
      } else {
        const pushed = Date.now();
        await this.run(['push', image], ctx, 'push');
        const digest = await this.digestOf(image);
        ctx.log(`Pushed ${image}${digest ? ` (${digest})` : ''} in ${seconds(Date.now() - pushed)}`);
        result = { artifact: { kind: 'image', image, ...(digest ? { digest } : {}) }, plan };
      }
      await this.trimCache(job.app, buildKit, ctx);
      return result;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** The app was deleted: its cache mounts and images on the engine go (Builder.forget). */
  async forget(app: string): Promise<void> {
    await this.engineCache.forget(app);
  }

  /**
   * Builds the build stage alone (`<image>-build`, kept on the engine as the next build's cache), lists what
   * it produced and lets the provider decide how the app runs (finalizePlan, as in the local builder). The
   * full build that follows reuses every layer of it.
   */
  private async decideFromOutput(
    input: DockerfileInput,
    scratch: string,
    stageImage: string,
    build: (file: string, tag: string) => Promise<void>,
    ctx: BuildContext,
  ): Promise<BuildPlan> {
    const file = join(scratch, 'Dockerfile.build');
    await writeFile(file, generateBuildStage(input));
    ctx.log('Building the build stage first: how the app runs is decided from what it produces');
    await build(file, stageImage);
    const listing = await this.options.docker
      .output(
        ['run', '--rm', '--network', 'none', '--label', `${APP_LABEL}=${input.app}`, '--entrypoint', '/bin/sh'].concat([
          stageImage,
          '-c',
          LIST_OUTPUT,
        ]),
        { signal: ctx.signal, timeoutMs: 120_000 },
      )
      .catch((err: unknown) => {
        throw new UserFacingError(`could not look into the build's output: ${errorMessage(err)}`);
      });
    const paths = new Set(listing.split('\n').map((line) => line.replace(/^\.\//, '')));
    const plan = await finalizePlan(input.plan, { exists: (rel) => Promise.resolve(paths.has(posix.normalize(rel))) });
    if (plan.reason !== input.plan.reason)
      ctx.log(`Decided from the build output: ${plan.reason.slice(input.plan.reason.length + 2)}`);
    return plan;
  }

  /** Why no Docker engine answers (undefined when one does): the CLI missing, or nothing at its host. */
  async engineUnavailable(signal?: AbortSignal): Promise<string | undefined> {
    const where = this.options.docker.host ?? "the docker CLI's default engine";
    try {
      await this.options.docker.output(['version', '--format', '{{.Server.Version}}'], {
        timeoutMs: ENGINE_CHECK_MS,
        ...(signal ? { signal } : {}),
      });
      return undefined;
    } catch (err) {
      if (!(err instanceof DockerError)) throw err;
      if (err.reason === 'spawn') return 'the docker CLI is not installed on the platform host';
      return `no Docker engine answered at ${where} (${lastLines(err.tail).split('\n').at(-1) ?? err.message})`;
    }
  }

  /** Repo Dockerfile or generated one, from the setting, the deployment's `dockerfile` override and cloudsmith.json. */
  private async chooseSource(job: BuildJob): Promise<Source> {
    const config = readCloudsmithJson(job.sourceDir);
    const rootDir = job.overrides.rootDir ?? config.rootDir ?? '.';
    const asked = job.overrides.dockerfile ?? config.dockerfile;
    const mode = this.options.useRepoDockerfile;
    if (mode !== 'never' && (mode === 'always' || asked !== false)) {
      const dir = resolveInside(job.sourceDir, rootDir);
      const found = existsSync(join(dir, 'Dockerfile'));
      const label = rootDir === '.' ? 'the repository root' : rootDir;
      if (found && (mode === 'always' || asked === true || asked === undefined)) {
        const reason =
          mode === 'always'
            ? 'the platform builds with repository Dockerfiles'
            : asked
              ? '"dockerfile": true'
              : `found in ${label}`;
        return { kind: 'dockerfile', rootDir: relative(realpathSync(job.sourceDir), dir) || '.', reason };
      }
      if (!found && (mode === 'always' || asked === true)) {
        throw new UserFacingError(
          `no Dockerfile in ${label}, but the deployment asks to build with the repository's Dockerfile`,
        );
      }
    }
    return { kind: 'generated', plan: await detectPlan(job.sourceDir, job.overrides) };
  }

  /**
   * A copy of the source as the build context, so nothing is written into the job's tree: with the
   * platform's static server added and an ignore file of our own (a repo's .dockerignore was written for
   * its own Dockerfile, not for this one).
   */
  private async prepareContext(sourceDir: string, scratch: string, plan: BuildPlan): Promise<string> {
    const contextDir = join(scratch, 'context');
    await cp(sourceDir, contextDir, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !['.git', 'node_modules'].includes(basename(src)) || src === sourceDir,
    });
    await writeFile(join(contextDir, '.dockerignore'), '.git\n**/node_modules\n**/.venv\n');
    // A framework app may turn out to be static files once its build output is seen.
    if (plan.kind === 'spa' || plan.kind === 'static' || plan.framework) {
      const staticServer = this.options.staticServerPath ?? staticServerSource();
      await mkdir(join(contextDir, '.cloudsmith'), { recursive: true });
      await copyFile(staticServer, join(contextDir, STATIC_SERVER_CONTEXT_PATH));
    }
    return contextDir;
  }

  /**
   * Whether builds use BuildKit: asked for, and the CLI has it (a newer CLI needs its buildx plugin; Debian's
   * 20.10 has it built in). Probed once; when missing, the classic builder builds and the log says why.
   */
  private async useBuildKit(ctx: BuildContext): Promise<boolean> {
    if (!this.options.buildKit) return false;
    this.buildKitProbe ??= this.options.docker
      .run(['build', '--help'], { env: { DOCKER_BUILDKIT: '1' }, timeoutMs: ENGINE_CHECK_MS })
      .then(
        () => undefined,
        (err: unknown) =>
          err instanceof DockerError ? (lastLines(err.tail).split('\n')[0] ?? err.message) : errorMessage(err),
      );
    const missing = await this.buildKitProbe;
    if (missing) ctx.log(`BuildKit is not available (${missing}): the classic builder builds, without cache mounts`);
    else
      ctx.log("Building with BuildKit: the app's own cache mount for package caches; no memory limit on build steps");
    return missing === undefined;
  }

  /** The install step to look for in the engine's output, and what the app's last image installed from. */
  private async watchDependencies(
    input: DockerfileInput,
    contextDir: string,
    previous: string | undefined,
  ): Promise<DependencyWatch | undefined> {
    const step = dependencyStep(input);
    if (!step) return undefined;
    const image =
      input.plan.kind === 'python' || input.plan.kind === 'go' ? input.images?.[input.plan.kind] : undefined;
    const fingerprint = await dependencyFingerprint(contextDir, step, image ?? input.baseImage);
    return { step, fingerprint, previous, watch: new StepWatch(step.instruction) };
  }

  /** The engine's verdict on the install step, in the local builder's words, as soon as it is known. */
  private observe(deps: DependencyWatch, buildKit: boolean, line: string, ctx: BuildContext): void {
    if (deps.watch.verdict) return;
    const verdict = deps.watch.feed(line);
    const install = describeCommand(deps.step.command);
    if (verdict === 'reused') ctx.log(`cache restored: the engine reused the dependency layer (${install} skipped)`);
    else if (verdict === 'ran')
      ctx.log(
        `cache not restored: ${whyNotReused(deps.previous, deps.fingerprint, deps.step)}${buildKit ? "; it installs with the app's package cache mount" : ''}`,
      );
  }

  /** After a build: the app's old images and cached layers beyond the caps go; a failure here fails no build. */
  private async trimCache(app: string, buildKit: boolean, ctx: BuildContext): Promise<void> {
    const caps = this.options.cache;
    if (!caps) return;
    try {
      const { removed, kept } = await this.engineCache.trimApp(app, caps.keepReleases);
      if (removed)
        ctx.log(`cache: removed ${removed} old image(s) of ${app}; kept ${kept.length} release(s) for rollback`);
      if (buildKit) {
        const dropped = await this.engineCache.trimMounts(app, caps.maxAppBytes);
        if (dropped) ctx.log(`cache: dropped the app's cache mount (${mb(dropped)} MB, over the per-app cap)`);
      }
      const trimmed = await this.engineCache.trimTotal(caps.maxTotalBytes, buildKit, app);
      if (trimmed.length)
        ctx.log(`cache: over the engine's total cap, trimmed the least recently built: ${trimmed.join(', ')}`);
    } catch (err) {
      ctx.log(`note: the engine's cache was not trimmed: ${errorMessage(err)}`);
    }
  }

  private async dockerBuild(
    contextDir: string,
    dockerfile: string,
    image: string,
    buildArgNames: string[],
    buildArgEnv: Record<string, string>,
    job: BuildJob,
    ctx: BuildContext,
    how: { buildKit: boolean; deps?: DependencyWatch | undefined; repoDockerfile?: boolean },
  ): Promise<void> {
    const { limits } = this.options;
    const { buildKit, deps, repoDockerfile = false } = how;
    const args = [
      'build',
      '--file',
      dockerfile,
      '--tag',
      image,
      // Intermediate containers go even when a step fails or the build is cancelled.
      '--force-rm',
      '--memory',
      `${limits.maxMemoryMb}m`,
      // A generated Dockerfile writes its labels itself (cloudsmith.app in every stage).
      ...(repoDockerfile
        ? ['--label', `${APP_LABEL}=${job.app}`, '--label', `${DEPLOYMENT_LABEL}=${job.deploymentId}`]
        : []),
      ...(buildKit ? ['--progress', 'plain'] : []),
      ...buildArgNames.flatMap((name) => ['--build-arg', name]),
      // Repo Dockerfiles may declare `ARG BASE_IMAGE` to run on the platform's base (no registry access needed).
      ...(repoDockerfile && !buildArgNames.includes('BASE_IMAGE')
        ? ['--build-arg', `BASE_IMAGE=${this.options.baseImage}`]
        : []),
      contextDir,
    ];
    const controller = new AbortController();
    const onAbort = () => {
      controller.abort();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let bytes = 0;
    // Set from the output callback: `as boolean` keeps the check after the await from being narrowed to false.
    let overflow = false as boolean;
    try {
      await this.options.docker.run(args, {
        signal: controller.signal,
        timeoutMs: limits.timeoutMs,
        // Values by name only: the CLI reads them from its environment, so they never appear in argv.
        env: { ...buildArgEnv, ...(buildKit ? { DOCKER_BUILDKIT: '1' } : {}) },
        onLine: (line) => {
          if (buildKit && BUILDKIT_DIGEST_LINE.test(line)) return;
          if (deps) this.observe(deps, buildKit, line, ctx);
          bytes += Buffer.byteLength(line) + 1;
          if (bytes > limits.maxOutputBytes) {
            if (!overflow) {
              overflow = true;
              controller.abort();
            }
            return;
          }
          ctx.log(line);
        },
      });
    } catch (err) {
      if (!(err instanceof DockerError)) throw err;
      if (ctx.signal.aborted) throw new UserFacingError('the build was cancelled', 409, 'cancelled');
      if (overflow)
        throw new UserFacingError(
          `the build printed more than ${Math.round(limits.maxOutputBytes / 1024)} KiB of output and was stopped`,
        );
      if (err.reason === 'timeout')
        throw new UserFacingError(`the build did not finish within ${seconds(limits.timeoutMs)} and was stopped`);
      throw new UserFacingError(`the Docker build failed:\n${lastLines(err.tail)}`);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /** A repo Dockerfile's image says how it runs: its exposed port (PORT is set to it) and working directory. */
  private async planFromImage(image: string, job: BuildJob): Promise<RunPlan> {
    const raw = await this.options.docker.output(['image', 'inspect', '--format', '{{json .Config}}', image]);
    const config = JSON.parse(raw) as {
      ExposedPorts?: Record<string, unknown> | null;
      WorkingDir?: string;
      Cmd?: string[] | null;
      Entrypoint?: string[] | null;
    };
    const exposed = Object.keys(config.ExposedPorts ?? {})
      .filter((p) => p.endsWith('/tcp'))
      .map((p) => Number.parseInt(p, 10))
      .filter((p) => Number.isInteger(p) && p > 0);
    return {
      kind: 'node',
      start: [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])],
      workdir: config.WorkingDir || APP_DIR,
      healthPath: job.overrides.healthPath ?? '/',
      port: exposed[0] ?? CONTAINER_PORT,
    };
  }

  private async digestOf(image: string): Promise<string | undefined> {
    const raw = await this.options.docker.output(['image', 'inspect', '--format', '{{json .RepoDigests}}', image]);
    const repo = image.slice(0, image.lastIndexOf(':'));
    const digests = (JSON.parse(raw) as string[] | null) ?? [];
    return digests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1];
  }

  private async run(args: string[], ctx: BuildContext, what: string): Promise<void> {
    try {
      await this.options.docker.run(args, { signal: ctx.signal, timeoutMs: this.options.limits.timeoutMs });
    } catch (err) {
      if (ctx.signal.aborted) throw new UserFacingError('the build was cancelled', 409, 'cancelled');
      throw new UserFacingError(
        `docker ${what} failed: ${err instanceof DockerError ? lastLines(err.tail) : errorMessage(err)}`,
      );
    }
  }
}

/** The app's env as build args: names on the command line, values in the CLI's own environment. */
function buildArgs(env: Record<string, string>, ctx: BuildContext): { names: string[]; env: Record<string, string> } {
  const names: string[] = [];
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name) || CLI_RESERVED.test(name)) {
      ctx.log(`note: the env var ${name} is not passed to the Docker build (the name is reserved or invalid)`);
      continue;
    }
    names.push(name);
    values[name] = value;
  }
  return { names, env: values };
}

function readCloudsmithJson(dir: string): { rootDir?: string; dockerfile?: boolean } {
  const file = join(dir, 'cloudsmith.json');
  if (!existsSync(file)) return {};
  try {
    const parsed = cloudsmithJsonSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    // An invalid file is reported by detection with the exact problem; here it simply decides nothing.
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** rootDir inside the repo, refusing paths (or symlinks) that lead out of it. */
function resolveInside(repoDir: string, rootDir: string): string {
  const checked = relativePath.safeParse(rootDir);
  if (!checked.success)
    throw new UserFacingError(`rootDir "${rootDir}" ${checked.error.issues[0]?.message ?? 'is invalid'}`);
  const repoReal = realpathSync(repoDir);
  const target = resolve(repoReal, rootDir);
  if (!existsSync(target) || !statSync(target).isDirectory())
    throw new UserFacingError(`rootDir "${rootDir}" is not a directory in the repository`);
  const real = realpathSync(target);
  if (real !== repoReal && !real.startsWith(repoReal + sep))
    throw new UserFacingError(`rootDir "${rootDir}" leads outside the repository`);
  return real;
}

function lastLines(lines: string[]): string {
  const useful = lines.filter((l) => l.trim() !== '' && !/^(Removing intermediate container|\s*---> )/.test(l));
  return useful.slice(-ERROR_TAIL_LINES).join('\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
