/** What the platform writes back to the repository host, always with the app owner's own token. */
export interface RepoWrites {
  /**
   * Adds a webhook to the repo. Resolves `{ok: false, reason}` when the token may not (GitHub answers 404 to
   * a caller who is not an admin of the repo, 403 to a token without the webhook scope, 422 to a duplicate).
   */
  createHook(
    token: string,
    repo: string,
    hook: NewRepoHook,
  ): Promise<{ ok: true; id: number } | { ok: false; reason: string }>;
  setCommitStatus(token: string, repo: string, sha: string, status: CommitStatus): Promise<void>;
  /** Comments on an issue or pull request; returns the comment's id for later edits. */
  createComment(token: string, repo: string, issue: number, body: string): Promise<number>;
  updateComment(token: string, repo: string, commentId: number, body: string): Promise<void>;
}

export interface NewRepoHook {
  url: string;
  secret: string;
  events: string[];
}

export interface CommitStatus {
  state: 'pending' | 'success' | 'failure' | 'error';
  description: string;
  targetUrl?: string;
  /** Statuses with the same context replace each other on the commit. */
  context: string;
}
