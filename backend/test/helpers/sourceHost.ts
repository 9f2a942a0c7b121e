import { TERMINAL_STATUSES } from '../../src/domain/deployment';
import { startGitServer } from './gitServer';
import { startGitHubStandin } from './githubStandin';

export interface TestUser {
  login: string;
  token: string;
}

export const ALICE: TestUser = { login: 'alice', token: 'ghp_alice_0123456789abcdefghijklmnopqrstuv' };
export const BOB: TestUser = { login: 'bob', token: 'ghp_bob_0123456789abcdefghijklmnopqrstuvwx' };

/** The key every test platform seals secrets with (a test that reads sealed values back uses it too). */
export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdefghijklmnop';

export type GitServer = Awaited<ReturnType<typeof startGitServer>>;
export type GitHub = Awaited<ReturnType<typeof startGitHubStandin>>;

/**
 * GitHub as a test platform meets it: a real git server (smart HTTP, token auth) behind the GitHub REST
 * stand-in, with the test users signed up. The in-process World and the multi-process Kafka Cluster both
 * start one, so users, repos and the platform's GitHub settings are written here once.
 */
export class SourceHost {
  private constructor(
    readonly git: GitServer,
    readonly github: GitHub,
  ) {}

  static async start(users: TestUser[] = [ALICE, BOB]): Promise<SourceHost> {
    const git = await startGitServer({ tokens: {} });
    const github = await startGitHubStandin({ git });
    for (const user of users) github.addUser(user.login, user.token);
    return new SourceHost(git, github);
  }

  /** Commits `dir` as the repo `fullName`, granted to its owner (private repos are invisible to others). */
  async addRepo(fullName: string, dir: string, opts: { private?: boolean; owner?: TestUser } = {}): Promise<string> {
    const sha = await this.git.addRepo(fullName, dir, { private: opts.private });
    this.github.grant((opts.owner ?? ALICE).login, fullName, { private: opts.private, admin: true });
    return sha;
  }

  /** The settings every test platform starts with: where GitHub is, where its data goes, its sealing key. */
  platformEnv(dataDir: string): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      CLOUDSMITH_DATA_DIR: dataDir,
      GITHUB_API_URL: this.github.url,
      CLOUDSMITH_SECRET_KEY: TEST_SECRET_KEY,
      // Tests that need isolation check it themselves (test/hostile); the rest also run where bubblewrap cannot.
      CLOUDSMITH_ALLOW_UNSANDBOXED: '1',
    };
  }

  async close(): Promise<void> {
    await this.github.close();
    await this.git.close();
  }
}

/**
 * Polls `read` until the deployment it returns is in one of `statuses` (by default any terminal one);
 * `describe` words the timeout's error from the last answer seen.
 */
export async function waitForStatus<T extends { status: string }>(
  read: () => Promise<T | undefined>,
  opts: { statuses?: readonly string[]; timeoutMs: number; pollMs: number; describe: (last: T | undefined) => string },
): Promise<T> {
  const statuses = opts.statuses ?? TERMINAL_STATUSES;
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const last = await read();
    if (last && statuses.includes(last.status)) return last;
    if (Date.now() > deadline) throw new Error(opts.describe(last));
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}
