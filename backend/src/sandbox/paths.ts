import { realpath } from 'node:fs/promises';
import { relative, isAbsolute, sep } from 'node:path';
import { UserFacingError } from '../domain/errors';

/**
 * Throws unless `path`, with every symlink resolved, is `base` or inside it. The platform reads and packs a
 * tenant's tree with its own rights, outside the sandbox: a symlink in the repo (`web -> /`) must not turn a
 * rootDir or outputDir into a way to copy the data dir or another app's files into an artifact.
 */
export async function assertWithin(base: string, path: string, what: string): Promise<void> {
  const [realBase, realPath] = await Promise.all([realpath(base), realpath(path).catch(() => undefined)]);
  if (realPath === undefined) return; // Missing: the step that needs it reports that in its own words.
  const rel = relative(realBase, realPath);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new UserFacingError(`${what} leads outside the repository (through a symlink); refused`);
  }
}
