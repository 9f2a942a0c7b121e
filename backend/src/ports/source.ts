export interface GitHubUser {
  id: string;
  login: string;
}

export interface RepoInfo {
  fullName: string;
  private: boolean;
  defaultBranch: string;
  cloneUrl: string;
}

/** GitHub (or GitHub Enterprise) as seen by the platform. */
export interface SourceHost {
  /** The token's user; throws UnauthorizedError when GitHub refuses it. */
  verifyToken(token: string): Promise<GitHubUser>;
  /** The repo as the token sees it; throws NotFoundError when it cannot read it. */
  getRepo(token: string, repo: string): Promise<RepoInfo>;
  /** Resolves a branch, tag or sha to a commit sha; throws a UserFacingError for an unknown ref. */
  resolveRef(token: string, repo: string, ref: string): Promise<string>;
  /** Fetches exactly one commit into destDir; the token never reaches an environment, argv, URL or file. */
  fetchCommit(token: string, opts: FetchCommitOptions): Promise<void>;
}

export interface FetchCommitOptions {
  cloneUrl: string;
  commitSha: string;
  destDir: string;
  signal: AbortSignal;
  timeoutMs: number;
}
