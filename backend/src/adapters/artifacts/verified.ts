import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserFacingError } from '../../domain/errors';

/**
 * Checksum checks every artifact store shares: what is downloaded or streamed must hash to what was
 * recorded when it was stored, or the caller gets an error instead of a corrupt artifact.
 */

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Keys are slash-separated names (the ones ports/artifacts.ts builds); nothing that could leave a directory or bucket prefix. */
export function assertArtifactKey(key: string): void {
  const segments = key.split('/');
  if (key.length === 0 || key.length > 512 || !segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) {
    throw new UserFacingError(`invalid artifact key "${key}"`);
  }
}

export function checksumMismatch(key: string, expected: string, actual: string): Error {
  return new Error(`artifact ${key} is corrupt: its sha256 is ${actual}, expected ${expected}`);
}

/** A pass-through that hashes and counts what goes through it: a store records what it stored, not what it was given. */
export function measuring(): Transform & { result(): { size: number; sha256: string } } {
  const hash = createHash('sha256');
  let size = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  let sha256: string | undefined;
  return Object.assign(transform, { result: () => ({ size, sha256: (sha256 ??= hash.digest('hex')) }) });
}

/** Writes `body` to `path` (atomically, through a temp file) and fails, leaving nothing behind, when its sha256 differs from `expected`. */
export async function writeVerified(
  body: Readable,
  path: string,
  key: string,
  expected: string | undefined,
): Promise<void> {
  const measure = measuring();
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.part-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await pipeline(body, measure, createWriteStream(partial));
    const actual = measure.result().sha256;
    if (expected && actual !== expected) throw checksumMismatch(key, expected, actual);
    await rename(partial, path);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/**
 * `body`, except that it errors at its end instead of ending when the content does not hash to `expected`. Nothing
 * is read before the caller reads, so the error reaches the reader, however long it takes to start.
 */
export function verifyingStream(body: Readable, key: string, expected: string): Readable {
  return Readable.from(
    (async function* () {
      const hash = createHash('sha256');
      for await (const chunk of body) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
      const actual = hash.digest('hex');
      if (actual !== expected) throw checksumMismatch(key, expected, actual);
    })(),
    { objectMode: false },
  );
}
