import { cp, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { LayerHandoff } from '../../../archive/layers';
import type { BuildCache, CacheLease } from '../../../cache/buildCache';
import { cacheSpecFor } from '../../../cache/stacks';
import { UserFacingError } from '../../../domain/errors';
import { detectPlan, finalizePlan, localOutput, type BuildPlan } from '../../../detect/plan';
import type { ArtifactStore } from '../../../ports/artifacts';
import type { BuildContext, BuildJob, BuildResult, Builder } from '../../../ports/builder';
import { cleanEnv } from '../../../sandbox/env';
import { describeCommand, runCommand, type Command, type RunOptions } from '../../../sandbox/run';
import { assertWithin } from '../../../sandbox/paths';
import { runSandboxed } from '../../../sandbox/runSandboxed';
import type { Sandbox, SandboxLimits } from '../../../sandbox/sandbox';
import { packageAndStore } from './packaging';

export interface BuildLimits {
  timeoutMs: number;
  maxOutputBytes: number;
  maxMemoryMb: number;
}

export interface LocalBuilderOptions {
  artifacts: ArtifactStore;
  /** Scratch space for packaging, and (unless homeDir is set) the builds' shared HOME. */
  workDir: string;
  limits: BuildLimits;
  /** HOME of every build, shared so npm's, pip's and Go's caches stay warm (see cleanEnv); defaults to `<workDir>/home`. */
  homeDir?: string;
  /**
   * Runs every step in the app's sandbox (its uid, HOME and caches, only the source tree writable, a cgroup
   * per step); then homeDir is unused: each app has its own HOME, so no build can poison another's cache.
   */
  sandbox?: Sandbox;
  /** CPU and process limits per step, beside limits.maxMemoryMb (enforced where the sandbox has cgroups). */
  stepLimits?: Omit<SandboxLimits, 'memoryMb'>;
  /**
   * Builds a repo that has only a Dockerfile, when its Docker engine answers; without one such a repo
   * fails with what it needs.
   */
  dockerfileBuilder?: DockerfileBuilder;
  /** Restores the app's cache before install and saves it after packaging; without it every build is cold. */
  cache?: BuildCache;
  /** See PackagingOptions.dependencyLayers: only where the process runtime releases what this builder packs. */
  dependencyLayers?: boolean;
  /** See PackagingOptions.layerHandoff: the process runtime's layers, when it runs in this process. */
  layerHandoff?: LayerHandoff;
}

/** A builder for repos that have only a Dockerfile, which can say why its engine is out of reach. */
export interface DockerfileBuilder extends Builder {
  /** Why no Docker engine answers, or undefined when one does. */
  engineUnavailable(signal?: AbortSignal): Promise<string | undefined>;
}

function logDecision(plan: BuildPlan, ctx: BuildContext): void {
  const where = plan.rootDir === '.' ? 'the repository root' : plan.rootDir;
  ctx.log(`Detected ${plan.kind === 'spa' ? 'an SPA' : `a ${plan.kind}`} app in ${where}: ${plan.reason}`);
  for (const note of plan.notes ?? []) ctx.log(note);
}

/** The plan's toolchain settings over the clean env, its toolchain dirs first on PATH. */
function buildEnv(plan: BuildPlan, env: Record<string, string>): Record<string, string> {
  // The app's own variables win over the toolchain defaults (e.g. CGO_ENABLED=1 for a cgo app).
  const merged = { ...plan.buildEnv, ...env };
  merged.PATH = [...(plan.toolPaths ?? []), env.PATH].join(':');
  return merged;
}

/**
 * Builds in local processes: install and build run in the fetched source with a clean environment, in their
 * own process group, under one wall-clock limit and one output cap for the whole build. Node and Next.js apps
 * ship their whole rootDir (node_modules included); static sites and SPAs ship only their output plus the
 * platform's static server, so every artifact runs with nothing but `node`.
 */
export class LocalBuilder implements Builder {
  readonly name = 'local';

  constructor(private readonly opts: LocalBuilderOptions) {}

  async build(job: BuildJob, ctx: BuildContext): Promise<BuildResult> {
    const started = Date.now();
    const detected = await detectPlan(job.sourceDir, job.overrides);
    logDecision(detected, ctx);
    if (detected.kind === 'dockerfile') return this.buildDockerfile(job, ctx);
    const place = await this.opts.cache?.placeTree(job.app, job.sourceDir);
    try {
      return await this.buildAt({ ...job, sourceDir: place?.dir ?? job.sourceDir }, detected, ctx, started);
    } finally {
      // Back where Buildrelay cleans up; if that fails the tree stays at the stable path, and later builds build in place.
      await place?.release().catch(() => undefined);
    }
  }

  private async buildAt(job: BuildJob, detected: BuildPlan, ctx: BuildContext, started: number): Promise<BuildResult> {
    const root = resolve(job.sourceDir, detected.rootDir);
    await assertWithin(job.sourceDir, root, `rootDir "${detected.rootDir}"`);
    const env = buildEnv(detected, cleanEnv(job.env, { home: this.home(job.app) }));
    await this.opts.sandbox?.handOver(job.app, job.sourceDir);
    // After the hand-over: restored dirs are the app's already, and chown need not walk them.
    const cache = await this.openCache(job, detected, root, ctx);
    try {
      await this.runSteps(job, detected, root, { ...env, ...cache?.env }, cache, ctx, started);
      const plan = await finalizePlan(detected, localOutput(root));
      if (plan.reason !== detected.reason)
        ctx.log(`Decided from the build output: ${plan.reason.slice(detected.reason.length + 2)}`);
      for (const [from, to] of plan.copies ?? []) {
        await assertWithin(root, join(root, from), `"${from}"`);
        await assertWithin(root, join(root, dirname(to)), `"${to}"`);
        await cp(join(root, from), join(root, to), { recursive: true, verbatimSymlinks: true });
        ctx.log(`Copied ${from} to ${to}`);
      }
      const { result, handedOff } = await packageAndStore(
        this.opts,
        job,
        ctx,
        plan,
        root,
        cache?.installRestored ?? false,
      );
      // After packaging, so the cache takes the dirs out of a tree that is done with (a rename, nothing copied).
      await cache?.save(ctx.log, handedOff).catch((err: unknown) => {
        ctx.log(`cache not saved: ${err instanceof Error ? err.message : String(err)}`);
      });
      return result;
    } catch (err) {
      await cache?.abandon().catch(() => undefined);
      throw err;
    }
  }

  private async runSteps(
    job: BuildJob,
    detected: BuildPlan,
    root: string,
    env: Record<string, string>,
    cache: CacheLease | undefined,
    ctx: BuildContext,
    started: number,
  ): Promise<void> {
    const { limits } = this.opts;
    let outputBytes = 0;
    const readOnly = [...(detected.toolDirs ?? []), ...(cache?.readOnly ?? [])];
    for (const cmd of [detected.install, detected.build]) {
      if (!cmd) continue;
      if (ctx.signal.aborted) throw new UserFacingError('cancelled');
      if (cmd === detected.install && cache?.installRestored) {
        ctx.log(`install skipped: the cache holds its result for this lockfile, toolchain and command`);
        continue;
      }
      const remaining = limits.timeoutMs - (Date.now() - started);
      if (remaining <= 0) throw new UserFacingError(`build timed out after ${Math.round(limits.timeoutMs / 1000)} s`);
      const label = describeCommand(cmd);
      ctx.log(`$ ${label}`);
      const stepStarted = Date.now();
      try {
        await this.runStep(job, root, readOnly, cache?.mounts ?? [], cmd, {
          env,
          timeoutMs: remaining,
          maxOutputBytes: Math.max(0, limits.maxOutputBytes - outputBytes),
          maxMemoryMb: limits.maxMemoryMb,
          signal: ctx.signal,
          onLine: (line) => {
            outputBytes += Buffer.byteLength(line) + 1;
            ctx.log(line);
          },
        });
      } catch (err) {
        throw this.explain(err);
      }
      ctx.log(`${label} finished in ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`);
    }
    if (ctx.signal.aborted) throw new UserFacingError('cancelled');
  }

  /** The app's build cache, restored into the tree; a broken cache never fails a build, it builds cold. */
  private async openCache(
    job: BuildJob,
    plan: BuildPlan,
    root: string,
    ctx: BuildContext,
  ): Promise<CacheLease | undefined> {
    const spec = this.opts.cache && cacheSpecFor(plan, root, job.env);
    if (!this.opts.cache || !spec) return undefined;
    try {
      const lease = await this.opts.cache.open(job.app, spec, root, job.env, ctx.log, job.cacheSeed);
      const { sandbox } = this.opts;
      const uid = sandbox?.uidFor(job.app);
      for (const dir of [...lease.mounts, ...lease.seeded]) {
        // Made by the platform: the app's uid must own it before its build writes there (once, not every build).
        if (uid !== undefined && (await stat(dir)).uid !== uid) await sandbox?.handOver(job.app, dir);
      }
      return lease;
    } catch (err) {
      ctx.log(`cache not restored: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  async forget(app: string): Promise<void> {
    await this.opts.cache?.remove(app);
  }

  private async buildDockerfile(job: BuildJob, ctx: BuildContext): Promise<BuildResult> {
    const docker = this.opts.dockerfileBuilder;
    const unavailable = docker
      ? await docker.engineUnavailable(ctx.signal)
      : 'this platform is configured without a Docker engine';
    if (!docker || unavailable !== undefined) {
      throw new UserFacingError(
        `this repo needs Docker: it has only a Dockerfile, and ${unavailable ?? ''}. Start a Docker engine for ` +
          'CloudSmith (CLOUDSMITH_DOCKER_HOST or DOCKER_HOST names it), or add what CloudSmith builds without Docker: ' +
          'a package.json, requirements.txt, go.mod, or a Procfile with a `web:` line',
      );
    }
    ctx.log("Building the repository's Dockerfile with the Docker engine; it runs as a container");
    return docker.build({ ...job, overrides: { ...job.overrides, dockerfile: true } }, ctx);
  }

  private home(app: string): string {
    return this.opts.sandbox?.homeFor(app) ?? this.opts.homeDir ?? join(this.opts.workDir, 'home');
  }

  /** The one place a build step starts: in the app's sandbox when the platform has one. */
  private runStep(
    job: BuildJob,
    root: string,
    readOnly: string[],
    mounts: string[],
    cmd: Command,
    run: Omit<RunOptions, 'cwd' | 'sandbox'>,
  ): Promise<void> {
    const { sandbox } = this.opts;
    if (!sandbox) return runCommand(cmd, { ...run, cwd: root });
    return runSandboxed(cmd, {
      ...run,
      sandbox,
      spec: {
        app: job.app,
        label: `build-${job.deploymentId}`,
        cwd: root,
        // The app's own build cache, never another app's.
        writable: [job.sourceDir, ...mounts],
        // Toolchains installed outside /usr (pyenv, a downloaded Go) and the cache's preload are read-only inside.
        readOnly,
        limits: { ...this.opts.stepLimits, memoryMb: run.maxMemoryMb },
      },
    });
  }

  /** Limits are the whole build's, so a per-step timeout is reported against the configured limit. */
  private explain(err: unknown): Error {
    if (!(err instanceof UserFacingError)) return err as Error;
    const { limits } = this.opts;
    if (err.message.startsWith('build timed out'))
      return new UserFacingError(`build timed out after ${Math.round(limits.timeoutMs / 1000)} s`);
    if (err.message.startsWith('build output exceeded')) {
      return new UserFacingError(
        `build output exceeded ${Math.round((limits.maxOutputBytes / 1024 / 1024) * 10) / 10} MiB`,
      );
    }
    if (/^`.*` (exited with code|was killed by)/s.test(err.message))
      return new UserFacingError(`build failed: ${err.message}`);
    return err;
  }
}
