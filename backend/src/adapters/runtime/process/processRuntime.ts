// Long on purpose: a release's whole swap as sandboxed processes (unpack, release step, start, health, route,
// retiring the old one, liveness and restarts) shares the per-app state; the runtime contract suite tests it whole.
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { errorMessage, UserFacingError } from '../../../domain/errors';
import type { ArtifactStore } from '../../../ports/artifacts';
import { downloadAndUnpack } from './download';
import type { Release, ReleaseContext, Runtime } from '../../../ports/runtime';
import type { RouteTable, RouteTarget } from '../../../proxy/routes';
import { formatSeconds, freePort, HealthCheckError, LogBuffer, waitHealthy } from '../../../health/health';
import { KeyedQueue } from '../../../lib/keyedQueue';
import { cleanEnv } from '../../../sandbox/env';
import { runReleaseStep } from '../releaseStep';
import type { PreparedSandbox, Sandbox, SandboxLimits } from '../../../sandbox/sandbox';
import { LivenessWatch, type LivenessOptions } from './liveness';
import { AppProcess, type RestartPolicy } from './appProcess';
import { ReleaseLayers } from './releaseLayers';

export interface ProcessRuntimeOptions {
  dataDir: string;
  artifacts: ArtifactStore;
  routes: RouteTable;
  urlFor(app: string): string;
  healthTimeoutMs: number;
  /** SIGTERM → SIGKILL delay when retiring a release. */
  stopGraceMs?: number;
  /** Longest wait for requests in flight to the old release before it is stopped. */
  drainTimeoutMs?: number;
  restart?: Partial<RestartPolicy>;
  /** Release directories kept per app (the live one included). */
  keepReleases?: number;
  logLines?: number;
  /** How live releases are watched for a frozen app. */
  liveness?: LivenessOptions;
  /** Runs each release in its own sandbox (uid, mount view, PID namespace, cgroup); without it, plain process groups. */
  sandbox?: Sandbox;
  /** Memory, CPU and process limits of each live app (enforced where the sandbox has cgroups). */
  appLimits?: SandboxLimits;
}

interface LiveRelease {
  deploymentId: string;
  dir: string;
  target: RouteTarget;
  process: AppProcess;
  logs: LogBuffer;
  watch?: LivenessWatch;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const LAST_LINES_IN_ERROR = 20;

/**
 * The embedded runtime: each release is an unpacked artifact run as a local process group on a free
 * loopback port, behind the reverse proxy's route table. Swaps are health-gated: traffic moves only to
 * a release that answers, and the previous release is stopped only after its requests have drained.
 */
export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  private readonly live = new Map<string, LiveRelease>();
  /** One release, removal or restore per app at a time. */
  private readonly queue = new KeyedQueue();
  private readonly starting = new Set<AppProcess>();
  private readonly shutdown = new AbortController();
  private readonly restart: RestartPolicy;
  private readonly layers: ReleaseLayers;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.restart = { maxRestarts: 3, backoffMs: 1000, stableMs: 30_000, ...opts.restart };
    this.layers = new ReleaseLayers(opts.dataDir, opts.artifacts);
  }

  urlFor(app: string): string {
    return this.opts.urlFor(app);
  }

  release(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    return this.queue.run(release.app, () => this.swap(release, ctx));
  }

  /** At boot the app's live release is started again exactly like a release; the route, and so the URL, stay the same. */
  restore(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    return this.release(release, ctx);
  }

  async logs(app: string): Promise<string[]> {
    return this.live.get(app)?.logs.tail() ?? [];
  }

  async usage(): Promise<Array<{ app: string; memoryBytes: number }>> {
    return [...this.live].flatMap(([app, current]) => {
      const memoryBytes = current.process.memoryBytes();
      return memoryBytes === undefined ? [] : [{ app, memoryBytes }];
    });
  }

  remove(app: string): Promise<void> {
    assertSafeName('app name', app);
    return this.queue.run(app, async () => {
      const current = this.live.get(app);
      // Only its own route: another runtime may serve the app now (an embedded Dockerfile-only release).
      if (current && this.opts.routes.get(app)?.port === current.target.port) this.opts.routes.delete(app);
      this.live.delete(app);
      current?.watch?.stop();
      if (current) await current.process.stop();
      await rm(this.appDir(app), { recursive: true, force: true });
      await rm(this.homeDir(app), { recursive: true, force: true });
      await this.layers.remove(app);
      await rm(join(this.opts.dataDir, 'unpacked', app), { recursive: true, force: true });
    });
  }

  async close(): Promise<void> {
    this.shutdown.abort(new Error('the platform is shutting down'));
    const stopping = [...this.live.entries()].map(async ([app, current]) => {
      if (this.opts.routes.get(app)?.port === current.target.port) this.opts.routes.delete(app);
      current.watch?.stop();
      await current.process.stop();
    });
    this.live.clear();
    await Promise.all([...stopping, ...[...this.starting].map((p) => p.stop())]);
    // Releases that were mid-way see the abort and clean up after themselves.
    await this.queue.idle();
  }

  private async swap(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    const { app, deploymentId, artifact, plan } = release;
    assertSafeName('app name', app);
    assertSafeName('deployment id', deploymentId);
    if (artifact.kind !== 'tarball') {
      throw new UserFacingError(
        `the process runtime runs tarball artifacts, but this build produced the container image ${artifact.image}; ` +
          'select the docker runtime (CLOUDSMITH_RUNTIME=docker) to run images',
      );
    }
    if (plan.start.length === 0) throw new UserFacingError('the run plan has no start command');
    const signal = AbortSignal.any([ctx.signal, this.shutdown.signal]);
    throwIfCancelled(signal);

    const previous = this.live.get(app);
    if (previous && previous.deploymentId === deploymentId && previous.process.alive) {
      // A redelivered event or a restore of what already runs: nothing to start.
      this.opts.routes.set(app, previous.target);
      return { url: this.urlFor(app) };
    }

    const { dir, unpacked } = await this.prepareDir(app, deploymentId, artifact.sha256, previous);
    let proc: AppProcess | undefined;
    let sandboxed: PreparedSandbox | undefined;
    let forward: ((line: string) => void) | undefined = (line) => {
      ctx.log(line, 'runtime');
    };
    let gaveUp: ((reason: string) => void) | undefined;
    try {
      if (unpacked) ctx.log(`Reusing the kept unpacked release of deployment ${deploymentId}`, 'deploy');
      else await this.unpack(artifact.key, artifact.sha256, dir, ctx, signal);
      const layerDirs = await this.layers.link(app, dir, ctx, signal);
      await this.markUnpacked(app, dir, artifact.sha256);
      const cwd = await workdirIn(dir, plan.workdir);
      const { sandbox } = this.opts;
      if (sandbox) {
        // The release is the app's own directory: its uid may write there, and nowhere else in the data dir.
        await sandbox.handOver(app, dir);
        sandboxed = await sandbox.prepare({
          app,
          label: `app-${deploymentId}`,
          cwd,
          writable: [dir],
          readOnly: [...(plan.toolDirs ?? []), ...layerDirs],
          limits: this.opts.appLimits ?? {},
        });
      }
      const port = await freePort();
      const logs = new LogBuffer(this.opts.logLines ?? 500);
      // HOST keeps servers that honour it (the static server, Next.js, many frameworks) on loopback: the proxy is the only way in.
      const env = { HOST: '127.0.0.1', ...cleanEnv(release.env, { home: this.homeDir(app) }), PORT: String(port) };
      // Procfile `release:` (migrations): once, before the new release starts; failing keeps the previous one.
      await runReleaseStep(plan, {
        cwd,
        env,
        signal,
        sandbox: sandboxed,
        log: (line) => {
          ctx.log(line, 'deploy');
        },
      });
      proc = new AppProcess({
        argv: plan.start,
        cwd,
        env,
        logs,
        onLine: (line) => forward?.(line),
        onOutput: ctx.onOutput,
        onGaveUp: (reason) => gaveUp?.(reason),
        restart: this.restart,
        graceMs: this.opts.stopGraceMs ?? 5000,
        sandbox: sandboxed,
      });
      ctx.log(
        `Starting \`${plan.start.join(' ')}\` on port ${port}; waiting for HTTP health on ${plan.healthPath || '/'}`,
        'deploy',
      );
      this.starting.add(proc);
      proc.start();
      const started = proc;
      try {
        await waitHealthy(`http://127.0.0.1:${port}`, {
          timeoutMs: this.opts.healthTimeoutMs,
          signal,
          path: plan.healthPath,
          isAlive: () => started.alive,
        });
      } catch (err) {
        throw this.unhealthy(err, started, logs, previous !== undefined, signal);
      }
      throwIfCancelled(signal);

      const target = { host: '127.0.0.1', port };
      this.opts.routes.set(app, target);
      const current: LiveRelease = { deploymentId, dir, target, process: started, logs };
      this.live.set(app, current);
      this.starting.delete(started);
      started.supervise();
      gaveUp = this.watch(current, plan.healthPath, ctx);
      ctx.log(`Healthy; ${app} now serves deployment ${deploymentId}`, 'deploy');
    } catch (err) {
      forward = undefined;
      if (proc) {
        await proc.stop();
        this.starting.delete(proc);
      } else await sandboxed?.dispose();
      await rm(dir, { recursive: true, force: true });
      await rm(this.unpackedMarker(app, dir), { force: true });
      throw err;
    }
    forward = undefined;

    if (previous) {
      previous.watch?.stop();
      await this.opts.routes.drained(previous.target, this.opts.drainTimeoutMs ?? 10_000);
      await previous.process.stop();
      ctx.log(`Stopped the previous release (deployment ${previous.deploymentId})`, 'deploy');
    }
    await this.prune(app);
    return { url: this.urlFor(app) };
  }

  /**
   * Watches the live release until it is replaced: a running app that stops answering is reported down and killed so
   * its supervisor restarts it; one that answers again is reported up. Returns the handler for a crash loop given up.
   */
  private watch(release: LiveRelease, healthPath: string, ctx: ReleaseContext): (reason: string) => void {
    const report = (reason: string) => {
      ctx.onHealth?.({ healthy: false, reason, lastLines: release.logs.tail(LAST_LINES_IN_ERROR) });
    };
    release.watch = new LivenessWatch(
      {
        url: `http://${release.target.host}:${release.target.port}`,
        path: healthPath,
        isRunning: () => release.process.alive,
        isSettled: () => release.process.uptimeMs >= this.opts.healthTimeoutMs,
        onDown: (reason) => {
          report(reason);
          release.process.killForRestart();
        },
        onUp: () => ctx.onHealth?.({ healthy: true }),
      },
      this.opts.liveness,
    );
    release.watch.start();
    return (reason) => {
      release.watch?.markDown();
      report(reason);
    };
  }

  private unhealthy(err: unknown, proc: AppProcess, logs: LogBuffer, hadPrevious: boolean, signal: AbortSignal): Error {
    const fallback = hadPrevious ? 'the previous release keeps serving' : 'no previous release was running';
    if (signal.aborted || (err instanceof HealthCheckError && err.failure === 'cancelled')) {
      return new UserFacingError(`the release was cancelled before it became healthy; ${fallback}`);
    }
    if (!(err instanceof HealthCheckError)) return err instanceof Error ? err : new Error(errorMessage(err));
    const reason =
      err.failure !== 'exited'
        ? err.message
        : proc.startFailed
          ? `the app ${proc.exitReason}`
          : `the app ${proc.exitReason ?? 'exited'} before it became healthy`;
    const lines = logs.tail(LAST_LINES_IN_ERROR);
    return new UserFacingError(
      `the new release did not become healthy within ${formatSeconds(this.opts.healthTimeoutMs)} (${reason}); ${fallback}. ` +
        `Last log lines:\n${lines.length ? lines.join('\n') : '(the app printed nothing)'}`,
    );
  }

  /** Download, checksum and unpack in one pass; the release is refused (and `dir` emptied) when the sha256 differs at the end. */
  private async unpack(
    key: string,
    sha256: string,
    dir: string,
    ctx: ReleaseContext,
    signal: AbortSignal,
  ): Promise<void> {
    ctx.log('Downloading the artifact', 'deploy');
    await downloadAndUnpack(this.opts.artifacts, key, sha256, dir, signal, "the release's artifact");
  }

  /**
   * `<dataDir>/releases/<app>/<deploymentId>`, fresh; a second release of the directory the app runs from gets its
   * own. A kept directory the same artifact was unpacked into (a rollback, a restart at boot) is reused as is: its
   * marker (see unpackedMarker) records the sha256 verified when it was unpacked.
   */
  private async prepareDir(
    app: string,
    deploymentId: string,
    sha256: string,
    previous: LiveRelease | undefined,
  ): Promise<{ dir: string; unpacked: boolean }> {
    const appDir = this.appDir(app);
    await mkdir(appDir, { recursive: true });
    let dir = join(appDir, deploymentId);
    if (previous?.dir === dir) dir = join(appDir, `${deploymentId}-${Date.now().toString(36)}`);
    const marker = await readFile(this.unpackedMarker(app, dir), 'utf8').catch(() => undefined);
    let reusable = marker === sha256 && (await stat(dir).catch(() => undefined))?.isDirectory();
    if (!reusable) {
      await rm(this.unpackedMarker(app, dir), { force: true });
      await rm(dir, { recursive: true, force: true });
      reusable = await this.adoptKept(app, sha256, dir, previous);
    }
    if (reusable) {
      // Newest again, so pruning keeps it.
      const now = new Date();
      await utimes(dir, now, now);
      return { dir, unpacked: true };
    }
    await mkdir(dir, { recursive: true });
    return { dir, unpacked: false };
  }

  /**
   * A rollback is a new deployment of an earlier one's artifact: a kept, stopped release dir that artifact was
   * unpacked into is renamed to the new deployment's (the live one keeps serving until the switch, so never it).
   */
  private async adoptKept(
    app: string,
    sha256: string,
    dir: string,
    previous: LiveRelease | undefined,
  ): Promise<boolean> {
    const markers = join(this.opts.dataDir, 'unpacked', app);
    for (const name of await readdir(markers).catch(() => [])) {
      const kept = join(this.appDir(app), name);
      if (kept === previous?.dir || kept === dir) continue;
      if ((await readFile(join(markers, name), 'utf8').catch(() => undefined)) !== sha256) continue;
      try {
        await rename(kept, dir);
      } catch {
        continue;
      }
      await rename(join(markers, name), this.unpackedMarker(app, dir));
      return true;
    }
    return false;
  }

  /** Keeps the newest release directories (the live one always) so disk use stays bounded. */
  private async prune(app: string): Promise<void> {
    const appDir = this.appDir(app);
    const keep = this.opts.keepReleases ?? 3;
    const liveDir = this.live.get(app)?.dir;
    const entries = await readdir(appDir, { withFileTypes: true });
    const dirs = await Promise.all(
      entries
        .filter((e) => e.isDirectory())
        .map(async (e) => ({ path: join(appDir, e.name), mtime: (await stat(join(appDir, e.name))).mtimeMs })),
    );
    dirs.sort((a, b) => b.mtime - a.mtime);
    const kept = new Set(dirs.slice(0, keep).map((d) => d.path));
    if (liveDir) kept.add(liveDir);
    for (const d of dirs) {
      if (kept.has(d.path)) continue;
      await rm(d.path, { recursive: true, force: true });
      await rm(this.unpackedMarker(app, d.path), { force: true });
    }
    await this.layers.prune(app, [...kept]);
  }

  /** Where the sha256 of the artifact completely unpacked into a release dir is kept: outside the app's reach. */
  private unpackedMarker(app: string, dir: string): string {
    return join(this.opts.dataDir, 'unpacked', app, basename(dir));
  }

  private async markUnpacked(app: string, dir: string, sha256: string): Promise<void> {
    await mkdir(join(this.opts.dataDir, 'unpacked', app), { recursive: true });
    await writeFile(this.unpackedMarker(app, dir), sha256);
  }

  private appDir(app: string): string {
    return join(this.opts.dataDir, 'releases', app);
  }

  /** The app's HOME: the sandbox's (shared with the app's builds only), else one beside its releases. */
  private homeDir(app: string): string {
    return this.opts.sandbox?.homeFor(app) ?? join(this.opts.dataDir, 'homes', app);
  }
}

function assertSafeName(what: string, value: string): void {
  if (!SAFE_NAME.test(value) || value.includes('..')) throw new UserFacingError(`invalid ${what} "${value}"`);
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new UserFacingError('the release was cancelled');
}

async function workdirIn(dir: string, workdir: string): Promise<string> {
  const cwd = resolve(dir, workdir || '.');
  const rel = relative(dir, cwd);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new UserFacingError(`the run plan's workdir "${workdir}" points outside the release`);
  }
  const info = await stat(cwd).catch(() => undefined);
  if (!info?.isDirectory())
    throw new UserFacingError(`the run plan's workdir "${workdir}" is not a directory in the artifact`);
  return cwd;
}
