import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { packStream, unpackStream } from '../archive/tarball';
import { errorMessage, NotFoundError } from '../domain/errors';
import type { ArtifactStore } from '../ports/artifacts';
import { dirBytes, moveDir } from './fsops';
import { remoteCachePrefix } from './remote';
import { USAGE_FILE } from './usage';

const recordSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  savedAt: z.string(),
});

/** What a pull did: the bytes it brought back, or why it brought none. */
export type Pulled = { ok: true; bytes: number } | { ok: false; why: string };

/**
 * An app's build cache kept beside its artifacts (the S3 bucket in distributed mode), for builders whose disk
 * does not outlive them or is one of several: Buildrelay replicas on ECS tasks build any app, and a task's disk
 * goes with it. One object per app holds its cache dir as saved (the entry with its manifest, and the package
 * store); the newest save wins, as on disk. A record written after the object pins its sha256, so a download is
 * verified and an object without its record (a push cut short) is never used. The unpacked entry still passes
 * the manifest's checks on restore, like a local one.
 */
export class SharedCacheTier {
  constructor(
    private readonly artifacts: ArtifactStore,
    /** On the cache's filesystem: what is pulled is unpacked there, then renamed into place. */
    private readonly scratch: string,
  ) {}

  private keys(app: string): { blob: string; record: string } {
    const prefix = remoteCachePrefix(app);
    return { blob: `${prefix}buildrelay.tar.gz`, record: `${prefix}buildrelay.json` };
  }

  /** Streams the app's saved cache (`appDir/entry` and `appDir/store`, packed as it is read) to the store, then its record. */
  async push(app: string, appDir: string): Promise<void> {
    const { blob, record } = this.keys(app);
    const stored = await this.artifacts.put(blob, packStream(appDir));
    const body: z.infer<typeof recordSchema> = {
      sha256: stored.sha256,
      size: stored.size,
      savedAt: new Date().toISOString(),
    };
    await this.artifacts.put(record, Readable.from([JSON.stringify(body)]));
  }

  /** The app was deleted: a later app of that name must not inherit its cache. */
  async remove(app: string): Promise<void> {
    const { blob, record } = this.keys(app);
    await this.artifacts.delete(record);
    await this.artifacts.delete(blob);
  }

  /**
   * Brings the app's shared cache into `appDir` when this disk has none: its entry (if `appDir` has no entry) and
   * its package store (if the local one is empty). Anything missing, unverifiable or corrupt is left behind.
   */
  async pull(app: string, appDir: string): Promise<Pulled> {
    const { blob, record } = this.keys(app);
    let pinned: z.infer<typeof recordSchema>;
    try {
      pinned = recordSchema.parse(JSON.parse(await text(await this.artifacts.open(record))));
    } catch (err) {
      if (err instanceof NotFoundError) return { ok: false, why: 'none in the shared store either' };
      return { ok: false, why: "the shared store's record is unreadable" };
    }
    const work = join(this.scratch, `shared-pull-${randomBytes(6).toString('hex')}`);
    await mkdir(work, { recursive: true, mode: 0o700 });
    try {
      try {
        // Unpacked as it downloads into a scratch dir, which is moved into place only once the whole copy verified.
        await unpackStream(await this.artifacts.open(blob, pinned.sha256), join(work, 'tree'));
      } catch (err) {
        return { ok: false, why: `the shared copy was discarded: ${errorMessage(err)}` };
      }
      // A build of this app here may have saved meanwhile: its entry (and its usage record) is newer and stays.
      if (await moveDir(join(work, 'tree', 'entry'), join(appDir, 'entry')).catch(() => false))
        await rename(join(work, 'tree', USAGE_FILE), join(appDir, USAGE_FILE)).catch(() => undefined);
      const store = join(appDir, 'store');
      if ((await readdir(store).catch(() => [])).length === 0) {
        await rm(store, { recursive: true, force: true });
        await moveDir(join(work, 'tree', 'store'), store).catch(() => false);
      }
      return { ok: true, bytes: await dirBytes(appDir) };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
