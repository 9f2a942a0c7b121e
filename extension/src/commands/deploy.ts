import type { DeployRequest } from '@cloudsmith/client';
import { BACK, runSteps, type Step } from '../model/wizard';
import type { RepoInfo, TreeNode } from '../model/tree';
import type { Services } from '../services';
import { workspaceRepo } from '../workspace';
import { requireBackend } from './backend';

/**
 * CloudSmith: Deploy. From the tree: the chosen repo (or branch). From the palette: the workspace's GitHub repo
 * if it has one, else two steps, repository then branch, with Back between them.
 */
export async function deploy(s: Services, arg?: TreeNode | DeployRequest): Promise<void> {
  if (!s.auth.signedIn) await s.auth.signIn();
  await requireBackend(s);
  const request = await resolveRequest(s, arg);
  if (!request) return;
  await s.deployments.deploy(request);
  s.tree.refresh(true);
}

async function resolveRequest(s: Services, arg?: TreeNode | DeployRequest): Promise<DeployRequest | undefined> {
  if (arg && 'kind' in arg) {
    if (arg.kind === 'branch') return { repo: arg.repo.fullName, ref: arg.name };
    if ('repo' in arg) return { repo: arg.repo.fullName, ref: arg.repo.defaultBranch };
  }
  if (arg && 'repo' in arg && typeof arg.repo === 'string') return arg;
  const local = await workspaceRepo(s.githubApiUrl());
  if (local) return { repo: local.repo, ref: local.branch };
  const answers = await runSteps(pickSteps(s), {});
  return answers?.repo && answers.ref ? { repo: answers.repo.fullName, ref: answers.ref } : undefined;
}

interface Answers {
  repo?: RepoInfo;
  ref?: string;
}

export const DEPLOY_TITLE = 'CloudSmith: Deploy';

/** Repository, then branch: the steps of the palette's Deploy, each one pick. */
export function pickSteps(s: Services): Step<Answers>[] {
  return [
    async (state, position) => {
      const chosen = await s.ui.pickStep(
        s.tree.listRepos().then((repos) =>
          repos.map((r) => ({
            label: r.fullName,
            description: r.private ? 'private' : undefined,
            detail: r.description ?? undefined,
            picked: r.fullName === state.repo?.fullName,
            value: r,
          })),
        ),
        { title: `${DEPLOY_TITLE}: repository`, placeHolder: 'Choose the repository to deploy', ...position },
      );
      return chosen === undefined || chosen === BACK ? chosen : { repo: chosen.value };
    },
    async (state, position) => {
      const repo = state.repo;
      if (!repo) return BACK;
      const chosen = await s.ui.pickStep(
        s.github.branches(repo.fullName).then((names) =>
          [...names]
            .sort((a, b) => (a === repo.defaultBranch ? -1 : b === repo.defaultBranch ? 1 : a.localeCompare(b)))
            .map((name) => ({
              label: name,
              description: name === repo.defaultBranch ? 'default branch' : undefined,
              value: name,
            })),
        ),
        { title: `${DEPLOY_TITLE} ${repo.fullName}: branch`, placeHolder: 'Choose the branch to deploy', ...position },
      );
      return chosen === undefined || chosen === BACK ? chosen : { ...state, ref: chosen.value };
    },
  ];
}
