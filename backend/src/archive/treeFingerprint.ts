import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A sha256 over every entry of `dir` (path, type, size, mode, mtime, and a symlink's target), without reading any
 * file: a tree restored untouched (renamed back from a build cache) fingerprints the same, and any install or build
 * step that writes a file changes its mtime or size. Cheap next to packing and hashing the tree's bytes.
 */
export async function fingerprintTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    const infos = await Promise.all(names.map((name) => lstat(join(dir, rel, name))));
    for (let i = 0; i < names.length; i++) {
      const path = rel ? `${rel}/${names[i]}` : names[i];
      const info = infos[i];
      const type = info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : 'f';
      const target = type === 'l' ? await readlink(join(dir, path)) : '';
      hash.update(`${path}\0${type}\0${info.size}\0${info.mode}\0${info.mtimeMs}\0${target}\n`);
      if (type === 'd') await walk(path);
    }
  };
  await walk('');
  return hash.digest('hex');
}
