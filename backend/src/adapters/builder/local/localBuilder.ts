import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { packDir } from '../../../archive/tarball';
import type { RunPlan } from '../../../domain/deployment';
import { UserFacingError } from '../../../domain/errors';
import { detectPlan, resolveOutputDir, type BuildPlan } from '../../../detect/plan';
import { artifactKey, type ArtifactStore } from '../../../ports/artifacts';
import type { BuildContext, BuildJob, BuildResult, Builder } from '../../../ports/builder';
import { cleanEnv } from '../../../sandbox/env';
import { describeCommand, runCommand, type Command } from '../../../sandbox/run';

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
  /** HOME of every build, shared so npm's cache stays warm (see cleanEnv); defaults to `<workDir>/home`. */
  homeDir?: string;
}

/** Where static and SPA artifacts keep the platform's server, and where they keep the site. */
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

function startArgv(cmd: Command): string[] {
  return 'shell' in cmd ? ['sh', '-c', cmd.shell] : cmd.argv;
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
    const plan = await detectPlan(job.sourceDir, job.overrides);
    ctx.log(`Detected ${plan.kind === 'spa' ? 'an SPA' : `a ${plan.kind}`} app in ${plan.rootDir === '.' ? 'the repository root' : plan.rootDir}: ${plan.reason}`);
    const root = resolve(job.sourceDir, plan.rootDir);
    const env = cleanEnv(job.env, { home: this.opts.homeDir ?? join(this.opts.workDir, 'home') });
    const { limits } = this.opts;
    let outputBytes = 0;

    for (const cmd of [plan.install, plan.build]) {
      if (!cmd) continue;
      if (ctx.signal.aborted) throw new UserFacingError('cancelled');
      const remaining = limits.timeoutMs - (Date.now() - started);
      if (remaining <= 0) throw new UserFacingError(`build timed out after ${Math.round(limits.timeoutMs / 1000)} s`);
      const label = describeCommand(cmd);
      ctx.log(`$ ${label}`);
      const stepStarted = Date.now();
      try {
        await runCommand(cmd, {
          cwd: root,
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

    return this.packageAndStore(job, ctx, plan, root);
  }

  /** Limits are the whole build's, so a per-step timeout is reported against the configured limit. */
  private explain(err: unknown): Error {
    if (!(err instanceof UserFacingError)) return err as Error;
    const { limits } = this.opts;
    if (err.message.startsWith('build timed out')) return new UserFacingError(`build timed out after ${Math.round(limits.timeoutMs / 1000)} s`);
    if (err.message.startsWith('build output exceeded')) {
      return new UserFacingError(`build output exceeded ${Math.round((limits.maxOutputBytes / 1024 / 1024) * 10) / 10} MiB`);
    }
    if (/^`.*` (exited with code|was killed by)/s.test(err.message)) return new UserFacingError(`build failed: ${err.message}`);
    return err;
  }

  private async packageAndStore(job: BuildJob, ctx: BuildContext, plan: BuildPlan, root: string): Promise<BuildResult> {
    await mkdir(this.opts.workDir, { recursive: true });
    const scratch = join(this.opts.workDir, `package-${basename(job.deploymentId)}-${randomBytes(4).toString('hex')}`);
    await mkdir(scratch, { recursive: true });
    try {
      const tarball = join(scratch, 'artifact.tar.gz');
      let runPlan: RunPlan;
      if (plan.kind === 'node' || plan.kind === 'next') {
        if (!plan.start) throw new UserFacingError('no start command: add a start script to package.json or set startCommand');
        await packDir(root, tarball);
        runPlan = { kind: plan.kind, start: startArgv(plan.start), workdir: '.', healthPath: plan.healthPath };
      } else {
        const outputDir = resolveOutputDir(root, plan);
        const staging = join(scratch, 'staging');
        await cp(join(root, outputDir), join(staging, SITE_DIR), {
          recursive: true,
          verbatimSymlinks: true,
          // Serving the repo as is (outputDir ".") must not ship its git metadata or installed packages.
          filter: (src) => !['.git', 'node_modules'].includes(basename(src)) || src === join(root, outputDir),
        });
        await mkdir(join(staging, dirname(STATIC_SERVER_PATH)), { recursive: true });
        await copyFile(staticServerSource(), join(staging, STATIC_SERVER_PATH));
        await packDir(staging, tarball);
        const spa = plan.kind === 'spa';
        ctx.log(`Serving ${outputDir === '.' ? 'the site' : `${outputDir}/`} as static files${spa ? ' with SPA fallback to index.html' : ''}`);
        runPlan = {
          kind: 'static',
          start: ['node', STATIC_SERVER_PATH, SITE_DIR, ...(spa ? ['--spa'] : [])],
          workdir: '.',
          spaFallback: spa,
          healthPath: plan.healthPath,
        };
      }
      const key = artifactKey(job.app, job.commitSha, job.deploymentId);
      const stored = await this.opts.artifacts.putFile(key, tarball);
      const size = (await stat(tarball)).size;
      ctx.log(`Artifact ${key} (${(size / 1024 / 1024).toFixed(1)} MiB, sha256 ${stored.sha256.slice(0, 12)})`);
      return { artifact: { kind: 'tarball', key, sha256: stored.sha256, size: stored.size }, plan: runPlan };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}
