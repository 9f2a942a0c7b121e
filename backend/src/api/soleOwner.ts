import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UserFacingError } from '../domain/errors';
import type { GitHubUser } from '../ports/source';

/**
 * Where builds and apps cannot be sandboxed, one person's code can read everything the platform holds, so only
 * one person may use it: the first GitHub user to sign in owns it (kept in a file of the data dir, so a restart
 * keeps the owner) and every other user is refused until the machine can sandbox or an operator allows it.
 */
export class SoleOwner {
  private owner: string | undefined;

  constructor(private readonly file: string) {
    this.owner = existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
  }

  admit(user: GitHubUser): void {
    if (this.owner === undefined) {
      this.owner = user.id;
      writeFileSync(this.file, `${user.id}\n`, { mode: 0o600 });
      return;
    }
    if (this.owner !== user.id) {
      throw new UserFacingError(
        'this CloudSmith runs builds unsandboxed (bubblewrap is missing), so only its first user may use it; ' +
          'install bubblewrap (`bash scripts/sandbox.sh up`) or start it with CLOUDSMITH_ALLOW_UNSANDBOXED=1',
        403,
        'single_user',
      );
    }
  }
}
