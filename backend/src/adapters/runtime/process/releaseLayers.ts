import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readLayerManifest, type LayerHandoff, type LayerRef } from '../../../archive/layers';
import type { ArtifactStore } from '../../../ports/artifacts';
import type { ReleaseContext } from '../../../ports/runtime';
import { downloadAndUnpack } from './download';

/**
 * The dependency layers of releases on this disk (see archive/layers.ts): each layer is downloaded, verified
 * against the sha256 its artifact pins, and unpacked once into `<dataDir>/layers/<app>/<sha256>/<dir>`; every release
 * that references it gets a symlink to it. Layers stay owned by the platform and are mounted read-only into the
 * app's sandbox, so no release can change what another one runs. A layer is kept while a kept release uses it.
 */
export class ReleaseLayers implements LayerHandoff {
  constructor(
    private readonly dataDir: string,
    private readonly artifacts: ArtifactStore,
  ) {}

  /** Links the layers the unpacked release in `dir` references; returns their directories (read-only in the sandbox). */
  async link(app: string, dir: string, ctx: ReleaseContext, signal: AbortSignal): Promise<string[]> {
    const layers = await readLayerManifest(dir, app);
    const linked: string[] = [];
    for (const layer of layers) {
      const path = join(this.appDir(app), layer.sha256);
      const started = Date.now();
      const present = await isDirectory(path);
      if (!present) await this.unpack(layer.key, layer.sha256, path, layer.dir, signal);
      await rm(join(dir, layer.dir), { recursive: true, force: true });
      // The target keeps the directory's name: Node resolves a package's own dependencies from its real path upwards.
      await symlink(join(path, layer.dir), join(dir, layer.dir), 'dir');
      ctx.log(
        present
          ? `Dependency layer ${layer.dir} (sha256 ${layer.sha256.slice(0, 12)}) already on disk: linked`
          : `Dependency layer ${layer.dir} (sha256 ${layer.sha256.slice(0, 12)}) unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        'deploy',
      );
      linked.push(path);
    }
    return linked;
  }

  /**
   * Takes a build's tree as the layer it was packed into, when this disk has no copy yet. Renamed, not copied: the
   * build must be done with it. Its files keep the build's owner (the app's uid); like every layer it is mounted
   * read-only into the app's sandbox.
   */
  async adopt(app: string, layer: Pick<LayerRef, 'dir' | 'sha256'>, tree: string): Promise<string | undefined> {
    const path = join(this.appDir(app), layer.sha256);
    if (await isDirectory(path)) return undefined;
    const partial = `${path}.partial-${randomBytes(4).toString('hex')}`;
    await mkdir(partial, { recursive: true });
    try {
      await rename(tree, join(partial, layer.dir));
    } catch {
      // Another filesystem (EXDEV): the release unpacks it as usual.
      await rm(partial, { recursive: true, force: true });
      return undefined;
    }
    try {
      await rename(partial, path);
      return join(path, layer.dir);
    } catch {
      // A release unpacked the same layer meanwhile: the build gets its tree back.
      await rename(join(partial, layer.dir), tree).catch(() => undefined);
      await rm(partial, { recursive: true, force: true });
      return undefined;
    }
  }

  /** Removes the app's layers that none of `releaseDirs` references. */
  async prune(app: string, releaseDirs: string[]): Promise<void> {
    const used = new Set<string>();
    for (const dir of releaseDirs) {
      const layers = await readLayerManifest(dir, app).catch(() => []);
      for (const layer of layers) used.add(layer.sha256);
    }
    const entries = await readdir(this.appDir(app)).catch(() => []);
    for (const name of entries) {
      if (!used.has(name)) await rm(join(this.appDir(app), name), { recursive: true, force: true });
    }
  }

  async remove(app: string): Promise<void> {
    await rm(this.appDir(app), { recursive: true, force: true });
  }

  private async unpack(key: string, sha256: string, path: string, name: string, signal: AbortSignal): Promise<void> {
    // Unpacked beside and renamed into place: a layer directory that exists is complete.
    const partial = `${path}.partial-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await downloadAndUnpack(this.artifacts, key, sha256, join(partial, name), signal, `the dependency layer ${key}`);
      await rename(partial, path);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }

  private appDir(app: string): string {
    return join(this.dataDir, 'layers', app);
  }
}

function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
