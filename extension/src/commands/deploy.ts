import type { DeployRequest } from '@cloudsmith/client';
import type { RepoInfo, TreeNode } from '../model/tree';
import type { Services } from '../services';
import { workspaceRepo } from '../workspace';

/**
 * CloudSmith: Deploy. From the tree: the chosen repo (or branch). From the palette: the workspace's GitHub repo
 * if it has one, else a QuickPick of repositories and then of branches.
 */
export async function deploy(s: Services, arg?: TreeNode | DeployRequest): Promise<void> {
  const request = await resolveRequest(s, arg);
  if (!request) return;
  await s.auth.token();
  await s.deployments.deploy(request);
  s.tree.refresh(true);
}

async function resolveRequest(s: Services, arg?: TreeNode | DeployRequest): Promise<DeployRequest | undefined> {
  if (arg && 'kind' in arg) {
    if (arg.kind === 'branch') return { repo: arg.repo.fullName, ref: arg.name };
    if ('repo' in arg) return { repo: arg.repo.fullName, ref: arg.repo.defaultBranch };
  }
  if (arg && 'repo' in arg && typeof arg.repo === 'string') return arg;
  if (!s.auth.signedIn) await s.auth.signIn();

  const local = await workspaceRepo(s.githubApiUrl());
  if (local) return { repo: local.repo, ref: local.branch };

  const repo = await s.ui.pick(
    s.tree.listRepos().then((repos) =>
      repos.map((r: RepoInfo) => ({
        label: r.fullName,
        description: r.private ? 'private' : undefined,
        detail: r.description ?? undefined,
        value: r,
      })),
    ),
    { title: 'CloudSmith: Deploy — repository', placeHolder: 'Choose the repository to deploy' },
  );
  if (!repo) return undefined;
  const branch = await s.ui.pick(
    s.github.branches(repo.value.fullName).then((names) =>
      [...names]
        .sort((a, b) => (a === repo.value.defaultBranch ? -1 : b === repo.value.defaultBranch ? 1 : a.localeCompare(b)))
        .map((name) => ({
          label: name,
          description: name === repo.value.defaultBranch ? 'default branch' : undefined,
          value: name,
        })),
    ),
    { title: `CloudSmith: Deploy ${repo.value.fullName} — branch`, placeHolder: 'Choose the branch to deploy' },
  );
  if (!branch) return undefined;
  return { repo: repo.value.fullName, ref: branch.value };
}
