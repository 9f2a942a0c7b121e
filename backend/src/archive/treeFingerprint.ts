import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TreeJudge } from './tarball';

export interface TreeScan {
  /**
   * A sha256 over every entry (path, type, size, mode, mtime, and a symlink's target), without reading any file: a
   * tree restored untouched (renamed back from a build cache, or copied with cp -a) fingerprints the same, and any
   * install or build step that writes a file changes its mtime or size. Cheap next to packing and hashing its bytes.
   */
  fingerprint: string;
  /** Why an archive of the tree would not unpack to the tree itself (see TreeJudge); undefined when it would. */
  unlikeArchive?: string;
  /** Its files' bytes, a file with several links in the tree counted once (as `du -sb` counts). */
  bytes: number;
}

/** One walk of `dir` for both: directories are read in parallel, the fingerprint is taken in sorted path order. */
export async function scanTree(dir: string): Promise<TreeScan> {
  const judge = new TreeJudge();
  const linked = new Set<number>();
  let bytes = 0;
  const walk = async (rel: string): Promise<string> => {
    const names = (await readdir(join(dir, rel))).sort();
    const lines = await Promise.all(
      names.map(async (name) => {
        const path = rel ? `${rel}/${name}` : name;
        const info = await lstat(join(dir, path));
        const type = info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : 'f';
        const target = type === 'l' ? await readlink(join(dir, path)) : '';
        const kind = type === 'd' ? 'dir' : type === 'l' ? 'symlink' : info.isFile() ? 'file' : 'other';
        judge.entry(path, kind, info.size, target);
        if (kind === 'file' && !linked.has(info.ino)) {
          if (info.nlink > 1) linked.add(info.ino);
          bytes += info.size;
        }
        const line = `${path}\0${type}\0${info.size}\0${info.mode}\0${info.mtimeMs}\0${target}\n`;
        return type === 'd' ? line + (await walk(path)) : line;
      }),
    );
    return lines.join('');
  };
  const fingerprint = createHash('sha256')
    .update(await walk(''))
    .digest('hex');
  return { fingerprint, unlikeArchive: judge.why(), bytes };
}
