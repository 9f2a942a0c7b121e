import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Bytes under `dir` (GNU du, hard links counted once), 0 when it does not exist. */
export function dirBytes(dir: string): Promise<number> {
  return new Promise((resolvePromise) => {
    execFile('du', ['-sb', '--', dir], { timeout: 60_000 }, (err, stdout) => {
      resolvePromise(err ? 0 : Number(/^(\d+)/.exec(stdout)?.[1] ?? 0));
    });
  });
}

/**
 * Whether `rel` inside `root` is free of symlinks and non-directories on its way (missing parts are fine). The
 * platform renames cache dirs in and out of a tree the app's code wrote, with its own rights: a `.next` symlinked
 * to the data dir must not make it move the platform's files.
 */
export async function plainPath(root: string, rel: string): Promise<boolean> {
  let dir = root;
  for (const part of rel.split('/')) {
    dir = join(dir, part);
    const info = await lstat(dir).catch(() => undefined);
    if (!info) return true;
    if (info.isSymbolicLink() || !info.isDirectory()) return false;
  }
  return true;
}

/**
 * Makes the missing parents of `rel` inside `root` with the owner of `root` (the app's uid, in a tree handed over
 * to it): a `.next` made by the platform for `.next/cache` would otherwise be root's, and the build could not write it.
 */
export async function makeParents(root: string, rel: string): Promise<void> {
  const { uid, gid } = await stat(root);
  let dir = root;
  for (const part of dirname(rel).split('/')) {
    if (part === '.') continue;
    dir = join(dir, part);
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    await chown(dir, uid, gid);
  }
}

/** Copies a tree (cp -a: links, modes and times kept; shares no inode with the source, so the copy cannot write it). */
export async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await promisify(execFile)('cp', ['-a', '--reflink=auto', '--', from, to], { timeout: 300_000 });
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
