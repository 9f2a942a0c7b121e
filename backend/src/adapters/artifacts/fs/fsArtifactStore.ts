import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256File } from '../../../archive/checksum';
import { NotFoundError, UserFacingError } from '../../../domain/errors';
import type { ArtifactStore, StoredArtifact } from '../../../ports/artifacts';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Keys are slash-separated names (the ones ports/artifacts.ts builds); nothing that could leave the store's directory. */
export function assertArtifactKey(key: string): void {
  const segments = key.split('/');
  if (key.length === 0 || key.length > 512 || !segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) {
    throw new UserFacingError(`invalid artifact key "${key}"`);
  }
}

function corrupt(key: string, expected: string, actual: string): Error {
  return new Error(`artifact ${key} is corrupt: its sha256 is ${actual}, expected ${expected}`);
}

function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
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

  async putFile(key: string, path: string): Promise<StoredArtifact> {
    const target = this.blob(key);
    const sumFile = this.checksumFile(key);
    await mkdir(dirname(target), { recursive: true });
    await mkdir(dirname(sumFile), { recursive: true });
    const tmp = tempName(target);
    const sumTmp = tempName(sumFile);
    try {
      await copyFile(path, tmp);
      // Hash the copy, not the source: what is recorded is what was stored, even if the source changes meanwhile.
      const sha256 = await sha256File(tmp);
      const { size } = await stat(tmp);
      await writeFile(sumTmp, `${sha256}\n`);
      await rename(sumTmp, sumFile);
      await rename(tmp, target);
      return { key, size, sha256 };
    } catch (err) {
      await Promise.all([rm(tmp, { force: true }), rm(sumTmp, { force: true })]);
      throw err;
    }
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
      stream.once('open', () => resolve());
      stream.once('error', (err) => reject(isMissing(err) ? new NotFoundError(`artifact ${key}`) : err));
    });
    return stream;
  }

  async getFile(key: string, path: string, sha256?: string): Promise<void> {
    const body = await this.openBlob(key);
    const expected = sha256 ?? (await this.recorded(key));
    const hash = createHash('sha256');
    await mkdir(dirname(path), { recursive: true });
    const partial = tempName(path);
    try {
      await pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            done(null, chunk);
          },
        }),
        createWriteStream(partial),
      );
      const actual = hash.digest('hex');
      if (expected && actual !== expected) throw corrupt(key, expected, actual);
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  /** Streams the artifact; the stream errors at its end, instead of ending, when the content does not match its recorded sha256. */
  async open(key: string): Promise<Readable> {
    const body = await this.openBlob(key);
    const expected = await this.recorded(key);
    if (!expected) return body;
    const hash = createHash('sha256');
    const out = new PassThrough();
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    body.on('error', (err) => out.destroy(err));
    body.on('end', () => {
      const actual = hash.digest('hex');
      if (actual !== expected) out.destroy(corrupt(key, expected, actual));
      else out.end();
    });
    body.pipe(out, { end: false });
    return out;
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
