import type { RepoInfo } from './model/tree';

/** The few GitHub REST calls the extension makes, against github.com or an Enterprise API URL. */
export interface GitHub {
  repos(): Promise<RepoInfo[]>;
  branches(fullName: string): Promise<string[]>;
}

type OctokitModule = typeof import('@octokit/rest');
let octokitModule: Promise<OctokitModule> | undefined;

/**
 * Octokit is loaded on first use, not at activation: the bundle keeps it behind a lazy initializer, so a
 * window that never lists repositories never evaluates it.
 */
function loadOctokit(): Promise<OctokitModule> {
  octokitModule ??= import('@octokit/rest');
  return octokitModule;
}

export function createGitHub(baseUrl: () => string, token: () => Promise<string>): GitHub {
  const client = async () => {
    const { Octokit } = await loadOctokit();
    return new Octokit({
      auth: await token(),
      baseUrl: baseUrl(),
      userAgent: 'cloudsmith-vscode',
      request: { timeout: 30_000 },
    });
  };
  return {
    async repos() {
      const octokit = await client();
      const repos = await octokit.paginate(octokit.rest.repos.listForAuthenticatedUser, {
        per_page: 100,
        sort: 'pushed',
      });
      return repos.map((r) => ({
        fullName: r.full_name,
        defaultBranch: r.default_branch,
        private: r.private,
        description: r.description,
      }));
    },
    async branches(fullName) {
      const [owner, repo] = fullName.split('/') as [string, string];
      const octokit = await client();
      const branches = await octokit.paginate(octokit.rest.repos.listBranches, { owner, repo, per_page: 100 });
      return branches.map((b) => b.name);
    },
  };
}
