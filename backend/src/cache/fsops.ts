import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Bytes under `dir` (GNU du, hard links counted once), 0 when it does not exist. */
export function dirBytes(dir: string): Promise<number> {
  return new Promise((resolvePromise) => {
    execFile('du', ['-sb', '--', dir], { timeout: 60_000 }, (err, stdout) => {
      resolvePromise(err ? 0 : Number(/^(\d+)/.exec(stdout)?.[1] ?? 0));
    });
  });
}

/** Moves a tree within one filesystem (O(1), nothing copied), making the target's parent; false when `from` is missing. */
export async function moveDir(from: string, to: string): Promise<boolean> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Removes a tree so that no reader sees it half-deleted: it leaves its name at once, then is deleted. */
export async function discard(dir: string, trash: string): Promise<void> {
  const doomed = join(trash, `${Date.now()}-${randomBytes(4).toString('hex')}`);
  if (await moveDir(dir, doomed)) await rm(doomed, { recursive: true, force: true });
}

export function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}
