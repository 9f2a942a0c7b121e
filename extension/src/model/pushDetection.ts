/**
 * Whether a change of the Git extension's repository state was a successful `git push` of the tracked branch.
 * The Git API has no push event that covers a push from the terminal, so the evidence is what every push leaves:
 * the remote-tracking ref of HEAD's upstream moves to HEAD's commit. The upstream ref's reflog (written by git
 * for refs/remotes/*) says who moved it, which tells a push from a fetch or pull that lands on the same commit.
 */

/** What the detector keeps of `repository.state.HEAD` between two state changes. */
export interface GitSnapshot {
  /** The checked-out branch; undefined on a detached HEAD. */
  branch?: string;
  head?: string;
  upstream?: { remote: string; name: string; commit?: string };
  ahead?: number;
  behind?: number;
}

/** Who last moved the upstream ref, from its reflog's last entry; 'unknown' when it cannot be read. */
export type UpstreamUpdate = { by: 'push' | 'fetch' | 'other'; commit: string } | { by: 'unknown' };

export type PushVerdict =
  { pushed: true; branch: string; commit: string; forced: boolean } | { pushed: false; reason: string };

const no = (reason: string): PushVerdict => ({ pushed: false, reason });

/**
 * `prev` → `next` is one state change; `tracked` is the branch whose pushes deploy. A force push (the upstream
 * had commits HEAD did not: behind > 0 before) is still a push of the branch, and is reported as forced.
 */
export function detectPush(
  prev: GitSnapshot | undefined,
  next: GitSnapshot,
  tracked: string,
  update: UpstreamUpdate = { by: 'unknown' },
): PushVerdict {
  if (!prev) return no('first state seen');
  if (next.branch !== tracked) return no(`on ${next.branch ?? 'a detached HEAD'}, not ${tracked}`);
  if (prev.branch !== next.branch) return no(`checked out ${tracked}`);
  const upstream = next.upstream?.commit;
  if (!upstream || !next.head) return no(`${tracked} has no upstream`);
  if (upstream === prev.upstream?.commit) return no('the upstream did not move');
  if (upstream !== next.head) return no('the upstream moved, but not to HEAD (a fetch)');
  if (update.by !== 'unknown' && update.commit === upstream) {
    if (update.by !== 'push') return no(`the upstream was moved by a ${update.by}`);
  } else if (next.head !== prev.head) {
    // HEAD and upstream moved together and no reflog says why: a pull looks exactly like commit + push.
    return no('HEAD and the upstream moved together (a pull?)');
  }
  return { pushed: true, branch: tracked, commit: next.head, forced: (prev.behind ?? 0) > 0 };
}

/**
 * The last entry of a ref's reflog (`<old> <new> <who> <when> <tz>\t<message>` per line): git writes
 * "update by push" for the remote-tracking ref a push updated, "fetch…"/"pull…" for the others.
 */
export function lastUpdate(reflog: string): UpstreamUpdate {
  const line = reflog.trimEnd().split('\n').at(-1) ?? '';
  const match = /^[0-9a-f]{40,64} ([0-9a-f]{40,64}) [^\t]*\t(.*)$/.exec(line);
  if (!match) return { by: 'unknown' };
  const [, commit, message] = match;
  const by = /^update by push\b/.test(message) ? 'push' : /^(fetch|pull)\b/.test(message) ? 'fetch' : 'other';
  return { by, commit };
}

/** The reflog path of a remote-tracking ref under the .git directory. */
export function upstreamReflogPath(upstream: { remote: string; name: string }): string | undefined {
  // A remote named "." is the local repository: the upstream is a local branch, never a push.
  if (upstream.remote === '.' || /(^|\/)\.\.(\/|$)/.test(`${upstream.remote}/${upstream.name}`)) return undefined;
  return `logs/refs/remotes/${upstream.remote}/${upstream.name}`;
}
