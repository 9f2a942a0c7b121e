/** Reads a file under the workspace's .git directory by path parts; undefined when it is not there. */
export type GitFileReader = (...parts: string[]) => Promise<string | undefined>;

/**
 * The commit HEAD points at, from .git's own files (no git binary, no Git extension): a detached sha, a loose
 * ref, or a line of packed-refs.
 */
export async function headCommit(read: GitFileReader): Promise<string | undefined> {
  const head = (await read('HEAD'))?.trim();
  if (!head?.startsWith('ref: ')) return head || undefined;
  const ref = head.slice('ref: '.length);
  const loose = (await read(...ref.split('/')))?.trim();
  if (loose) return loose;
  const packed = await read('packed-refs');
  return packed
    ?.split('\n')
    .find((l) => l.endsWith(` ${ref}`))
    ?.split(' ')[0];
}

/** Said when the errors shown come from another commit than the workspace's: their lines may have moved. */
export function staleErrorsNotice(
  deployedSha: string | null | undefined,
  head: string | undefined,
): string | undefined {
  if (!deployedSha || !head || head === deployedSha) return undefined;
  return `CloudSmith: the build errors are from commit ${deployedSha.slice(0, 7)}; your workspace is at ${head.slice(0, 7)}, so lines may have moved.`;
}
