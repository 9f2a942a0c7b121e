import type { ArtifactRef } from '../../../domain/deployment';
import type { Release, ReleaseContext, Runtime } from '../../../ports/runtime';
import { KeyedQueue } from '../../../lib/keyedQueue';

export interface ByArtifactRuntimeOptions {
  /** Runs tarball artifacts (the process runtime); its name is this runtime's. */
  tarballs: Runtime;
  /** Runs image artifacts (the Docker runtime), made on the first image release; both share one route table. */
  images: () => Runtime;
}

/**
 * The embedded platform's runtime: tarballs run as local processes, the images of Dockerfile-only repos as
 * containers, both behind the same reverse proxy. An app whose new release runs on the other runtime
 * (a repo that gained or lost its Dockerfile-only shape) has its previous release retired there once the
 * new one serves.
 */
export class ByArtifactRuntime implements Runtime {
  readonly name: string;
  private imageRuntime?: Runtime;
  /** Which runtime serves each app's live release. */
  private readonly holder = new Map<string, Runtime>();
  /** Apps that ever had an image release here: only these have anything on the Docker engine to remove. */
  private readonly imageApps = new Set<string>();
  private readonly queue = new KeyedQueue();

  constructor(private readonly opts: ByArtifactRuntimeOptions) {
    this.name = opts.tarballs.name;
  }

  urlFor(app: string): string {
    return this.opts.tarballs.urlFor(app);
  }

  release(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    return this.queue.run(release.app, () => this.swap(release, ctx, (r) => r.release(release, ctx)));
  }

  restore(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    return this.queue.run(release.app, () => this.swap(release, ctx, (r) => r.restore(release, ctx)));
  }

  logs(app: string): Promise<string[]> {
    return (this.holder.get(app) ?? this.opts.tarballs).logs(app);
  }

  async usage(): Promise<Array<{ app: string; memoryBytes: number }>> {
    const both = await Promise.all([this.opts.tarballs.usage?.(), this.imageRuntime?.usage?.()]);
    return both.flatMap((list) => list ?? []);
  }

  remove(app: string): Promise<void> {
    return this.queue.run(app, async () => {
      this.holder.delete(app);
      await this.opts.tarballs.remove(app);
      if (this.imageApps.delete(app)) await this.images().remove(app);
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.opts.tarballs.close(), this.imageRuntime?.close()]);
  }

  private async swap(
    release: Release,
    ctx: ReleaseContext,
    run: (runtime: Runtime) => Promise<{ url: string }>,
  ): Promise<{ url: string }> {
    const runtime = this.runtimeFor(release.app, release.artifact);
    if (runtime !== this.opts.tarballs) ctx.log('The image runs as a container on the Docker engine', 'deploy');
    const result = await run(runtime);
    const previous = this.holder.get(release.app);
    this.holder.set(release.app, runtime);
    if (previous && previous !== runtime) {
      // The new release holds the route now; the other runtime stops its own release and leaves the route alone.
      await previous.remove(release.app);
      ctx.log(
        `Stopped the previous release on the ${previous === this.opts.tarballs ? 'process' : 'Docker'} runtime`,
        'deploy',
      );
    }
    return result;
  }

  private runtimeFor(app: string, artifact: ArtifactRef): Runtime {
    if (artifact.kind === 'tarball') return this.opts.tarballs;
    this.imageApps.add(app);
    return this.images();
  }

  private images(): Runtime {
    this.imageRuntime ??= this.opts.images();
    return this.imageRuntime;
  }
}
