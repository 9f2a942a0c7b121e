import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../../../domain/errors';
import type { ArtifactStore, StoredArtifact } from '../../../ports/artifacts';
import { assertArtifactKey, measuring, verifyingStream, writeVerified } from '../verified';

function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Artifacts as files under `rootDir/blobs/<key>`, each with its sha256 under `rootDir/sha256/<key>`. Writes go
 * to a temporary file renamed into place, so a reader never sees a partial artifact; reads are verified.
 */
export class FsArtifactStore implements ArtifactStore {
  constructor(private readonly rootDir: string) {}

  private blob(key: string): string {
    assertArtifactKey(key);
    return join(this.rootDir, 'blobs', ...key.split('/'));
  }

  private checksumFile(key: string): string {
    return join(this.rootDir, 'sha256', ...key.split('/'));
  }

  /** Writes `body` straight to a temporary file beside the blob (a build's pack lands there) and renames it into place. */
  async put(key: string, body: Readable): Promise<StoredArtifact> {
    const target = this.blob(key);
    const sumFile = this.checksumFile(key);
    await mkdir(dirname(target), { recursive: true });
    await mkdir(dirname(sumFile), { recursive: true });
    const tmp = tempName(target);
    const sumTmp = tempName(sumFile);
    const measure = measuring();
    try {
      await pipeline(body, measure, createWriteStream(tmp));
      const { size, sha256 } = measure.result();
      await writeFile(sumTmp, `${sha256}\n`);
      await rename(sumTmp, sumFile);
      await rename(tmp, target);
      return { key, size, sha256 };
    } catch (err) {
      await Promise.all([rm(tmp, { force: true }), rm(sumTmp, { force: true })]);
      throw err;
    }
  }

  putFile(key: string, path: string): Promise<StoredArtifact> {
    return this.put(key, createReadStream(path));
  }

  private async recorded(key: string): Promise<string | undefined> {
    try {
      return (await readFile(this.checksumFile(key), 'utf8')).trim() || undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  private async openBlob(key: string): Promise<Readable> {
    const file = this.blob(key);
    const stream = createReadStream(file);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => {
        resolve();
      });
      stream.once('error', (err) => {
        reject(isMissing(err) ? new NotFoundError(`artifact ${key}`) : err);
      });
    });
    return stream;
  }

  async getFile(key: string, path: string, sha256?: string): Promise<void> {
    const body = await this.openBlob(key);
    await writeVerified(body, path, key, sha256 ?? (await this.recorded(key)));
  }

  async open(key: string, sha256?: string): Promise<Readable> {
    const body = await this.openBlob(key);
    const expected = sha256 ?? (await this.recorded(key));
    return expected ? verifyingStream(body, key, expected) : body;
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.blob(key))).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.blob(key), { force: true });
    await rm(this.checksumFile(key), { force: true });
  }
}
