import { DockerError, type DockerCli } from './cli';
import { APP_LABEL, appFilter, appRepository, registryPrefix } from './names';

/** What the dependency layer of an image was built from (see builder/docker/dependencyStep.ts). */
export const DEPS_LABEL = 'cloudsmith.deps';
/** The app's cache generation: in every build's cache keys, new once the app has no image left on the engine. */
export const GENERATION_LABEL = 'cloudsmith.cache-generation';

/** Where BuildKit cache mounts of apps live in their build stages; the engine's record names the target. */
const MOUNT_PREFIX = 'cached mount /cloudsmith-cache/';

interface ImageInfo {
  id: string;
  created: number;
  tags: string[];
  app: string;
  deps?: string;
  generation?: string;
}

interface CacheRecord {
  ID: string;
  CacheType: string;
  Description: string;
  Size: string;
  InUse: string;
}

/**
 * Caps on what builds leave on a Docker engine. Per app: images beyond its newest `keep` releases (rollback
 * targets; one used by a container is never removed), older build-stage images, and (BuildKit) a cache mount past
 * its byte cap. In total: past `maxTotalBytes` the engine's own LRU prunes BuildKit's cache, and the least recently
 * built apps lose their cached layers and all but their newest release image. Every name comes from a checked app
 * name or from the engine itself, and every call is an argv: nothing reaches a shell.
 */
export class EngineCache {
  /** `<registry>/`: images under it are this builder's. */
  private readonly ours: string;

  constructor(
    private readonly docker: DockerCli,
    registry: string,
  ) {
    this.ours = registryPrefix(registry);
  }

  /** The dependency fingerprint and cache generation of the app's newest image that has them. */
  async lastBuild(app: string): Promise<{ deps?: string; generation?: string }> {
    const images = (await this.images(appFilter(app))).filter((i) => i.deps !== undefined || i.generation);
    const newest = images.sort((a, b) => b.created - a.created).at(0);
    return {
      ...(newest?.deps ? { deps: newest.deps } : {}),
      ...(newest?.generation ? { generation: newest.generation } : {}),
    };
  }

  /** Removes the app's images beyond its newest `keep` releases and cached stages; says what it removed. */
  async trimApp(app: string, keep: number): Promise<{ removed: number; kept: string[] }> {
    const repo = `${this.ours}${appRepository(app)}:`;
    const images = (await this.images(appFilter(app))).sort((a, b) => b.created - a.created);
    const releaseTags = (i: ImageInfo) => i.tags.filter((t) => t.startsWith(repo) && !t.endsWith('-build'));
    const stageTags = (i: ImageInfo) => i.tags.filter((t) => t.startsWith(repo) && t.endsWith('-build'));
    const releases = images.filter((i) => releaseTags(i).length > 0);
    const stages = images.filter((i) => stageTags(i).length > 0);
    // The classic builder leaves each build's last build-stage layer untagged: the newest are the next build's cache.
    const dangling = images.filter((i) => i.tags.length === 0);
    const drop = [
      ...releases.slice(Math.max(keep, 1)).flatMap(releaseTags),
      ...stages.slice(1).flatMap(stageTags),
      ...dangling.slice(Math.max(keep, 1)).map((i) => i.id),
    ];
    let removed = 0;
    for (const ref of drop) if (await this.removeImage(ref)) removed++;
    return { removed, kept: releases.slice(0, Math.max(keep, 1)).flatMap(releaseTags) };
  }

  /**
   * The app was deleted: its cache mounts and images go, so a later app of the same name (another owner's) builds
   * with none of what this one's build steps wrote. An image a container still uses stays.
   */
  async forget(app: string): Promise<void> {
    await this.trimMounts(app, -1);
    for (const image of await this.images(appFilter(app)))
      for (const ref of image.tags.length ? image.tags : [image.id]) await this.removeImage(ref);
  }

  /** BuildKit: the app's cache mounts, dropped whole when together they pass `maxBytes` (the tools refill them). */
  async trimMounts(app: string, maxBytes: number): Promise<number> {
    const prefix = `${MOUNT_PREFIX}${appRepository(app)} `;
    const mounts = (await this.records()).filter(
      (r) => r.CacheType === 'exec.cachemount' && r.Description.startsWith(prefix) && r.InUse !== 'true',
    );
    const bytes = mounts.reduce((sum, r) => sum + parseDiskSize(r.Size), 0);
    if (bytes <= maxBytes) return 0;
    for (const r of mounts) await this.pruneRecord(r.ID);
    return bytes;
  }

  /**
   * Keeps the engine under `maxTotalBytes`: BuildKit's cache by its own LRU (`builder prune --keep-storage`), then
   * images: this registry's apps from the least recently built, each losing its cached layers and all but its
   * newest release, until the engine's images fit. Returns the apps trimmed.
   */
  async trimTotal(maxTotalBytes: number, buildKit: boolean, except: string): Promise<string[]> {
    if (buildKit)
      await this.docker.run(['builder', 'prune', '--force', '--keep-storage', String(Math.max(0, maxTotalBytes))]);
    const trimmed: string[] = [];
    if ((await this.imageBytes()) <= maxTotalBytes) return trimmed;
    // Apps with a release under this builder's registry only: other tools' (and other platforms') images stay.
    const lastBuilt = new Map<string, number>();
    for (const image of await this.images(['--filter', `label=${APP_LABEL}`]))
      if (image.tags.some((t) => t.startsWith(`${this.ours}${image.app}:`)))
        lastBuilt.set(image.app, Math.max(lastBuilt.get(image.app) ?? 0, image.created));
    const byAge = [...lastBuilt].filter(([app]) => app !== except).sort((a, b) => a[1] - b[1]);
    for (const [app] of byAge) {
      await this.trimApp(app, 1);
      trimmed.push(app);
      if ((await this.imageBytes()) <= maxTotalBytes) break;
    }
    return trimmed;
  }

  /** What the engine's images take on disk, layers shared between images counted once (`docker system df`). */
  private async imageBytes(): Promise<number> {
    const out = await this.docker.output(['system', 'df', '--format', '{{.Type}}\t{{.Size}}']);
    const line = out.split('\n').find((l) => l.startsWith('Images\t'));
    return parseDiskSize(line?.split('\t')[1] ?? '0B');
  }

  private async images(filter: string[]): Promise<ImageInfo[]> {
    const ids = [
      ...new Set(
        (await this.docker.output(['image', 'ls', '--quiet', '--no-trunc', ...filter])).split('\n').filter(Boolean),
      ),
    ];
    if (ids.length === 0) return [];
    const format = `{{json .Id}}\t{{json .Created}}\t{{json .RepoTags}}\t{{json .Config.Labels}}`;
    const out = await this.docker.output(['image', 'inspect', '--format', format, ...ids]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id, created, tags, labels] = line.split('\t').map((f) => JSON.parse(f) as unknown) as [
          string,
          string,
          string[] | null,
          Record<string, string> | null,
        ];
        const deps = labels?.[DEPS_LABEL];
        const generation = labels?.[GENERATION_LABEL];
        return {
          ...(generation ? { generation } : {}),
          id,
          created: Date.parse(created),
          tags: tags ?? [],
          app: labels?.[APP_LABEL] ?? '',
          ...(deps ? { deps } : {}),
        };
      });
  }

  private async records(): Promise<CacheRecord[]> {
    const out = await this.docker.output(['system', 'df', '--verbose', '--format', '{{json .BuildCache}}']);
    return (JSON.parse(out || '[]') as CacheRecord[] | null) ?? [];
  }

  private async pruneRecord(id: string): Promise<void> {
    // The engine reads an id filter as a pattern: record ids are its own (letters and digits), anchored here.
    if (!/^[a-z0-9]+$/.test(id)) return;
    await this.docker.run(['builder', 'prune', '--force', '--filter', `id=^${id}$`]);
  }

  /** Without --force: an image a container uses, or one that is another's parent, stays (the engine refuses). */
  private async removeImage(ref: string): Promise<boolean> {
    try {
      await this.docker.run(['image', 'rm', ref]);
      return true;
    } catch (err) {
      if (err instanceof DockerError && err.reason === 'exit') return false;
      throw err;
    }
  }
}

const UNITS: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** Docker's human sizes ("124.8MB", "26.49kB", "0B": decimal units) in bytes; 0 when unreadable. */
export function parseDiskSize(text: string): number {
  const m = /^([\d.]+)\s*([kKMGT]?B)$/.exec(text.trim());
  if (!m?.[1] || !m[2]) return 0;
  return Math.round(Number(m[1]) * (UNITS[m[2]] ?? 0));
}
