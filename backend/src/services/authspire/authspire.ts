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
}
