// Long on purpose: a release's whole swap on Docker (env file, container, health, route, retiring the old one,
// restart watching) shares the per-app state; the runtime contract suite tests it whole.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, UserFacingError } from '../../../domain/errors';
import type { Release, ReleaseContext, Runtime } from '../../../ports/runtime';
import type { RouteTable, RouteTarget } from '../../../proxy/routes';
import { freePort, HealthCheckError, LogBuffer, waitHealthy } from '../../../health/health';
import { KeyedQueue } from '../../../lib/keyedQueue';
import {
  RELEASE_MAX_OUTPUT_BYTES,
  RELEASE_TIMEOUT_MS,
  releaseFailed,
  releaseFinished,
  releaseLabel,
} from '../releaseStep';
import { DockerCli, DockerError } from '../../docker/cli';
import { APP_LABEL, appFilter, appRepository, DEPLOYMENT_LABEL } from '../../docker/names';

export interface DockerRuntimeOptions {
  docker: DockerCli;
  routes: RouteTable;
  urlFor(app: string): string;
  healthTimeoutMs: number;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  /** How long the old container may finish requests it is serving after the swap. */
  drainTimeoutMs?: number;
}

interface Container {
  id: string;
  name: string;
  deploymentId: string;
  target: RouteTarget;
  logs: LogBuffer;
  follower: { stop(): void };
  /** The release's runtime log (`docker logs` keeps stdout and stderr apart). */
  onOutput?: ReleaseContext['onOutput'];
}

interface ContainerState {
  Status: string;
  Running: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  ExitCode: number;
}

const LOG_LINES = 500;
const ERROR_LOG_LINES = 20;
const STATE_POLL_MS = 500;
const STOP_GRACE_S = 5;
/** Values with a newline cannot go through an env file; names the CLI itself reads cannot go through its environment. */
const CLI_RESERVED = /^(PATH|HOME|DOCKER_.*|BUILDKIT_.*)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Runs image releases on a Docker engine, behind the platform's reverse proxy: each release is a
 * container with memory, CPU and pid limits and a restart policy, published on a loopback port; traffic
 * moves to it only once it is healthy, and the previous container is removed after that.
 */
export class DockerRuntime implements Runtime {
  readonly name = 'docker';
  private readonly current = new Map<string, Container>();
  /** Releases in progress per app, so two releases of one app never interleave their swaps. */
  private readonly queue = new KeyedQueue();
  private events?: { stop(): void };

  constructor(private readonly options: DockerRuntimeOptions) {}
  urlFor(app: string): string {
    return this.options.urlFor(app);
  }

  release(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    return this.queue.run(release.app, () => this.doRelease(release, ctx));
  }

  /** After a platform restart the app is started again from its image; leftovers of the old process are retired by the swap. */
  restore(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    return this.release(release, ctx);
  }

  async logs(app: string): Promise<string[]> {
    return this.current.get(app)?.logs.tail() ?? [];
  }

  async remove(app: string): Promise<void> {
    await this.queue.run(app, async () => {
      const live = this.current.get(app);
      // Only its own route: the process runtime may serve the app now (see ByArtifactRuntime).
      if (live && this.options.routes.get(app)?.port === live.target.port) this.options.routes.delete(app);
      live?.follower.stop();
      this.current.delete(app);
      await this.removeContainers(app, () => true);
      live?.onOutput?.({ stream: 'event', event: 'stopped', text: 'stopped' });
      // The app's images (every commit) and its dangling build stages carry its name or its label.
      const byLabel = await this.options.docker.output(['image', 'ls', '--all', '--quiet', ...appFilter(app)]);
      const byName = await this.options.docker.output(['image', 'ls', '--quiet', `*/${appRepository(app)}`]);
      const ids = [...new Set(`${byLabel}\n${byName}`.split('\n').filter(Boolean))];
      if (ids.length > 0) await this.options.docker.run(['image', 'rm', '--force', ...ids]).catch(() => undefined);
    });
  }

  /** `docker stats` of the live containers: the engine's reading of each one's memory (its cgroup's). */
  async usage(): Promise<Array<{ app: string; memoryBytes: number }>> {
    const live = [...this.current];
    if (live.length === 0) return [];
    const out = await this.options.docker.output([
      'stats',
      '--no-stream',
      '--format',
      '{{.ID}} {{.MemUsage}}',
      ...live.map(([, c]) => c.id),
    ]);
    return live.flatMap(([app, container]) => {
      const line = out.split('\n').find((l) => container.id.startsWith(l.split(' ')[0] ?? '-'));
      const memoryBytes = line ? parseSize(line.split(' ')[1] ?? '') : undefined;
      return memoryBytes === undefined ? [] : [{ app, memoryBytes }];
    });
  }

  async close(): Promise<void> {
    this.events?.stop();
    this.events = undefined;
    const all = [...this.current.entries()];
    this.current.clear();
    await Promise.all(
      all.map(async ([app, container]) => {
        container.follower.stop();
        this.options.routes.delete(app);
        await this.removeContainer(container.id);
      }),
    );
  }

  private async doRelease(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    const { artifact, plan, app } = release;
    if (artifact.kind !== 'image') {
      throw new UserFacingError(
        'the Docker runtime runs images: build with the Docker builder (CLOUDSMITH_BUILDER=docker)',
      );
    }
    appRepository(app);
    this.watchEvents();
    const port = plan.port ?? 8080;
    const previous = this.current.get(app);
    const container = await this.withEnvFile({ ...release.env, PORT: String(port) }, ctx, async (envArgs, cliEnv) => {
      // Procfile `release:` (migrations): once, before the new container starts; failing keeps the previous one.
      await this.runReleaseStep(release, envArgs, cliEnv, ctx);
      return this.start(release, port, envArgs, cliEnv, ctx);
    });
    const forward = (line: string) => {
      ctx.log(line, 'runtime');
    };
    let forwarding = true;
    container.onOutput = ctx.onOutput;
    container.onOutput?.({ stream: 'event', event: 'started', text: 'started' });
    const follower = this.options.docker.follow(['logs', '--follow', container.id], (line, stream) => {
      container.logs.push(line);
      container.onOutput?.({ stream, text: line });
      if (forwarding) forward(line);
    });
    container.follower = follower;
    try {
      ctx.log(
        `Started container ${container.name} (${artifact.image}), waiting for it to answer on ${plan.healthPath}`,
      );
      let state: ContainerState | undefined;
      const poll = setInterval(() => {
        this.state(container.id).then(
          (s) => (state = s),
          () => undefined,
        );
      }, STATE_POLL_MS);
      try {
        await waitHealthy(`http://${container.target.host}:${container.target.port}`, {
          timeoutMs: this.options.healthTimeoutMs,
          signal: ctx.signal,
          path: plan.healthPath,
          isAlive: () => !state || (state.Running && !state.OOMKilled && !state.Restarting),
        });
      } finally {
        clearInterval(poll);
      }
    } catch (err) {
      forwarding = false;
      follower.stop();
      const reason = await this.failureReason(container, err);
      container.onOutput?.({ stream: 'event', event: 'crashed', text: `not healthy (${reason})` });
      await this.removeContainer(container.id);
      if (ctx.signal.aborted)
        throw new UserFacingError(
          `the release was cancelled; ${previous ? 'the previous release keeps serving' : 'nothing was started'}`,
          409,
          'cancelled',
        );
      const logs = container.logs.tail(ERROR_LOG_LINES);
      throw new UserFacingError(
        `the new release did not become healthy: ${reason}; ${previous ? 'the previous release keeps serving' : 'no previous release was serving'}.` +
          (logs.length ? `\nLast log lines:\n${logs.join('\n')}` : ''),
      );
    }
    forwarding = false;

    this.options.routes.set(app, container.target);
    this.current.set(app, container);
    ctx.log(`Traffic switched to ${container.name} (127.0.0.1:${container.target.port})`);
    if (previous) {
      previous.follower.stop();
      await this.options.routes.drained(previous.target, this.options.drainTimeoutMs ?? 10_000);
      previous.onOutput?.({ stream: 'event', event: 'stopped', text: 'stopped' });
    }
    // Every other container of the app goes: the previous release and any left by an earlier platform process.
    const retired = await this.removeContainers(app, (id) => id !== container.id);
    if (retired > 0) ctx.log(`Removed ${retired} previous container${retired === 1 ? '' : 's'}`);
    return { url: this.urlFor(app) };
  }

  /** The app's env for `docker run`: a private env file, and multi-line values by name from the CLI's environment. */
  private async withEnvFile<T>(
    env: Record<string, string>,
    ctx: ReleaseContext,
    use: (envArgs: string[], cliEnv: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const { fileEnv, cliEnv } = splitEnv(env, ctx);
    // No value is ever in argv.
    const dir = await mkdtemp(join(tmpdir(), 'cloudsmith-env-'));
    const envFile = join(dir, 'env');
    try {
      await writeFile(envFile, fileEnv.map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
      return await use(['--env-file', envFile, ...Object.keys(cliEnv).flatMap((k) => ['--env', k])], cliEnv);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** What every container of an app runs under: its labels, limits and a locked-down process. */
  private containerArgs(release: Release): string[] {
    return [
      '--label',
      `${APP_LABEL}=${release.app}`,
      '--label',
      `${DEPLOYMENT_LABEL}=${release.deploymentId}`,
      '--memory',
      `${this.options.memoryMb}m`,
      '--memory-swap',
      `${this.options.memoryMb}m`,
      '--cpus',
      String(this.options.cpus),
      '--pids-limit',
      String(this.options.pidsLimit),
      // A real PID 1 that forwards signals and reaps zombies: `npm start` as PID 1 does neither.
      '--init',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
    ];
  }

  /**
   * The plan's release command, once, in a one-off container of the new image with the app's env, as Heroku's
   * release phase runs: what it changes outside (a database) stays, files it writes go with its container.
   */
  private async runReleaseStep(
    release: Release,
    envArgs: string[],
    cliEnv: Record<string, string>,
    ctx: ReleaseContext,
  ): Promise<void> {
    const argv = release.plan.release;
    if (!argv?.length || release.artifact.kind !== 'image') return;
    ctx.log(`Running the release step in a one-off container: ${releaseLabel(argv)}`, 'deploy');
    const name = `cloudsmith-${release.app}-release-${randomUUID().slice(0, 8)}`;
    const started = Date.now();
    let bytes = 0;
    try {
      await this.options.docker.run(
        ['run', '--rm', '--name', name, ...this.containerArgs(release), ...envArgs, release.artifact.image, ...argv],
        {
          signal: ctx.signal,
          env: cliEnv,
          timeoutMs: RELEASE_TIMEOUT_MS,
          onLine: (line) => {
            bytes += Buffer.byteLength(line) + 1;
            if (bytes <= RELEASE_MAX_OUTPUT_BYTES) ctx.log(line, 'deploy');
          },
        },
      );
    } catch (err) {
      if (!(err instanceof DockerError)) throw err;
      if (ctx.signal.aborted) throw new UserFacingError('the release was cancelled', 409, 'cancelled');
      throw releaseFailed(err.reason === 'timeout' ? 'timed out' : `exited with code ${err.exitCode ?? 'unknown'}`);
    } finally {
      await this.options.docker.run(['rm', '--force', name]).catch(() => undefined);
    }
    ctx.log(releaseFinished(started), 'deploy');
  }

  private async start(
    release: Release,
    port: number,
    envArgs: string[],
    cliEnv: Record<string, string>,
    ctx: ReleaseContext,
  ): Promise<Container> {
    const { app, deploymentId, artifact } = release;
    if (artifact.kind !== 'image') throw new Error('not an image');
    const name = `cloudsmith-${app}-${randomUUID().slice(0, 8)}`;
    for (let attempt = 1; ; attempt++) {
      // A fixed host port rather than an ephemeral one: the engine may pick another ephemeral port when it
      // restarts a crashed container, and the route would point at nothing.
      const hostPort = await freePort();
      try {
        const id = await this.options.docker.output(
          [
            'run',
            '--detach',
            '--name',
            name,
            ...this.containerArgs(release),
            '--restart',
            'on-failure:3',
            '--log-opt',
            'max-size=10m',
            '--log-opt',
            'max-file=2',
            '--publish',
            `127.0.0.1:${hostPort}:${port}`,
            ...envArgs,
            artifact.image,
          ],
          { signal: ctx.signal, env: cliEnv },
        );
        return {
          id,
          name,
          deploymentId,
          target: { host: '127.0.0.1', port: hostPort },
          logs: new LogBuffer(LOG_LINES),
          follower: { stop: () => undefined },
        };
      } catch (err) {
        await this.options.docker.run(['rm', '--force', name]).catch(() => undefined);
        if (!(err instanceof DockerError)) throw err;
        if (ctx.signal.aborted) throw new UserFacingError('the release was cancelled', 409, 'cancelled');
        const portTaken = err.tail.some((l) => /address already in use|port is already allocated/.test(l));
        if (portTaken && attempt < 3) continue;
        throw new UserFacingError(`the container could not be started: ${err.tail.slice(-5).join(' ') || err.message}`);
      }
    }
  }

  /** Why a container never became healthy, in the user's terms: out of memory, exited with a code, or the health check's own reason. */
  private async failureReason(container: Container, err: unknown): Promise<string> {
    const state = await this.state(container.id).catch(() => undefined);
    if (state?.OOMKilled) return `the app was killed for exceeding its memory limit of ${this.options.memoryMb} MB`;
    if (err instanceof HealthCheckError && err.failure === 'exited') {
      return state && !state.Running
        ? `the app exited with code ${state.ExitCode} before it became healthy`
        : 'the app exited and was restarted before it became healthy';
    }
    return errorMessage(err);
  }

  private async state(id: string): Promise<ContainerState> {
    return JSON.parse(
      await this.options.docker.output(['inspect', '--format', '{{json .State}}', id]),
    ) as ContainerState;
  }

  /**
   * What happens to a live app between requests: the engine restarts it after a crash or an OOM kill
   * (on-failure:3), and its runtime log says why, since the app itself cannot.
   */
  private watchEvents(): void {
    if (this.events) return;
    const events = this.options.docker.follow(
      [
        'events',
        '--format',
        '{{json .}}',
        '--filter',
        'type=container',
        '--filter',
        'event=oom',
        '--filter',
        'event=die',
        '--filter',
        'event=start',
        '--filter',
        `label=${APP_LABEL}`,
      ],
      (line) => {
        let event: { id?: string; status?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          return; // not an event (the CLI's own warnings)
        }
        const app = event.Actor?.Attributes?.[APP_LABEL];
        const live = app ? this.current.get(app) : undefined;
        if (!live || event.id !== live.id) return;
        const action = event.Action ?? event.status;
        if (action === 'oom') {
          live.logs.push(
            `[cloudsmith] the app was killed for exceeding its memory limit of ${this.options.memoryMb} MB`,
          );
          live.onOutput?.({ stream: 'event', event: 'crashed', text: `out of memory (${this.options.memoryMb} MB)` });
        } else if (action === 'die') {
          const code = event.Actor?.Attributes?.exitCode ?? 'unknown';
          live.logs.push(`[cloudsmith] the app exited with code ${code}; the engine restarts it up to 3 times`);
          live.onOutput?.({ stream: 'event', event: 'crashed', text: `crashed (exited with code ${code})` });
        } else if (action === 'start') {
          // `logs --follow` ends with the container's previous run; follow the new one from now on.
          live.follower.stop();
          live.logs.push('[cloudsmith] the app was restarted');
          live.onOutput?.({ stream: 'event', event: 'restarted', text: 'restarted' });
          live.follower = this.options.docker.follow(
            ['logs', '--follow', '--since', String(Math.floor(Date.now() / 1000)), live.id],
            (l, stream) => {
              live.logs.push(l);
              live.onOutput?.({ stream, text: l });
            },
          );
        }
      },
    );
    this.events = events;
    // If the engine goes away the watcher ends; the next release starts a new one.
    void events.done.then(() => {
      if (this.events === events) this.events = undefined;
    });
  }

  private async removeContainers(app: string, keep: (id: string) => boolean): Promise<number> {
    const ids = (await this.options.docker.output(['ps', '--all', '--quiet', '--no-trunc', ...appFilter(app)]))
      .split('\n')
      .filter(Boolean);
    const doomed = ids.filter(keep);
    await Promise.all(doomed.map((id) => this.removeContainer(id)));
    return doomed.length;
  }

  private async removeContainer(id: string): Promise<void> {
    // A graceful stop first, so the app can finish its requests and close its connections.
    await this.options.docker.run(['stop', '--time', String(STOP_GRACE_S), id]).catch(() => undefined);
    await this.options.docker.run(['rm', '--force', id]).catch(() => undefined);
  }
}

function splitEnv(
  env: Record<string, string>,
  ctx: ReleaseContext,
): { fileEnv: Array<[string, string]>; cliEnv: Record<string, string> } {
  const fileEnv: Array<[string, string]> = [];
  const cliEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_NAME.test(key)) {
      ctx.log(`note: the env var "${key}" is not passed to the container (not a valid variable name)`);
    } else if (!/[\r\n]/.test(value)) {
      fileEnv.push([key, value]);
    } else if (!CLI_RESERVED.test(key)) {
      cliEnv[key] = value;
    } else {
      ctx.log(
        `note: the env var ${key} has a multi-line value and a reserved name, so it is not passed to the container`,
      );
    }
  }
  return { fileEnv, cliEnv };
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  kB: 1e3,
  MB: 1e6,
  GB: 1e9,
};

/** "12.5MiB" (the first half of docker stats' MemUsage) in bytes. */
function parseSize(text: string): number | undefined {
  const match = /^([\d.]+)([A-Za-z]+)$/.exec(text.trim());
  const unit = match ? SIZE_UNITS[match[2]] : undefined;
  return match && unit ? Math.round(Number(match[1]) * unit) : undefined;
}
