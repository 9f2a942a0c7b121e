import { unpackStream } from '../../../archive/tarball';
import { errorMessage, UserFacingError } from '../../../domain/errors';
import type { ArtifactStore } from '../../../ports/artifacts';

/**
 * Downloads `key`, checks it against `sha256` and unpacks it into `dest` in one pass (a mismatch at the end refuses
 * it and empties `dest`). Fails with what a user can act on: cancelled, the archive refused, or why `what` could
 * not be downloaded.
 */
export async function downloadAndUnpack(
  artifacts: ArtifactStore,
  key: string,
  sha256: string,
  dest: string,
  signal: AbortSignal,
  what: string,
): Promise<void> {
  try {
    await unpackStream(await artifacts.open(key, sha256), dest, { signal });
  } catch (err) {
    if (signal.aborted) throw new UserFacingError('the release was cancelled');
    throw err instanceof UserFacingError
      ? err
      : new UserFacingError(`could not download ${what}: ${errorMessage(err)}`);
  }
}
