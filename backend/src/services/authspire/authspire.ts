import { UserFacingError } from '../../domain/errors';
import type { GitHubUser, RepoInfo, SourceHost } from '../../ports/source';

/**
 * Authspire: who the caller is (their GitHub token, verified by GitHub and cached by hash in the source
 * host) and whether they may deploy a repo (GitHub says they can read it).
 */
export class Authspire {
  constructor(private readonly source: SourceHost) {}

  authenticate(token: string): Promise<GitHubUser> {
    return this.source.verifyToken(token);
  }

  async authorizeRepo(token: string, repo: string): Promise<RepoInfo> {
    const info = await this.source.getRepo(token, repo);
    if (info.fullName.toLowerCase() !== repo.toLowerCase()) {
      throw new UserFacingError(`repository ${repo} has moved to ${info.fullName}; deploy it under its new name`);
    }
    return info;
  }

  /** Checked when the request arrives, so an unknown branch is a 400 rather than a deployment that fails later. */
  resolveRef(token: string, repo: string, ref: string): Promise<string> {
    return this.source.resolveRef(token, repo, ref);
  }
}
