import * as vscode from 'vscode';
import { ApiError, type HookSettingsView } from '@cloudsmith/client';
import { productionBranch, type PushSetting } from '../model/repoExtras';
import type { Services } from '../services';
import { workspaceRepo } from '../workspace';
import { requireBackend } from './backend';

export const TOGGLE_TITLE = 'CloudSmith: Deploy on Push';

/**
 * Turns Deploy on Push on or off for the workspace's repository. Turning it on reads the app's hook settings
 * first: when the platform's GitHub webhook already deploys pushes, the user chooses to rely on it (VS Code then
 * streams the webhook's deployment) rather than deploying the same commit twice.
 */
export async function toggleDeployOnPush(s: Services): Promise<void> {
  const local = await workspaceRepo(s.githubApiUrl());
  if (!local) {
    void vscode.window.showInformationMessage(
      'CloudSmith: Deploy on push works in a workspace that is a clone of a GitHub repository.',
    );
    return;
  }
  if (s.push.setting(local.repo)) {
    await s.push.set(local.repo, undefined);
    s.logs.info(`Deploy on push is off for ${local.repo}`);
    void vscode.window.showInformationMessage(`CloudSmith: Deploy on push is off for ${local.repo}.`);
    return;
  }
  if (!s.auth.signedIn) await s.auth.signIn();
  await requireBackend(s);
  const app = (await s.client.listApps()).find((a) => !a.preview && a.repo.toLowerCase() === local.repo.toLowerCase());
  const hook = app ? await hookOf(s, app.name) : undefined;
  const branch = productionBranch({
    hookBranch: hook?.productionBranch,
    lastRef: app ? (await s.client.listDeployments(local.repo, 1)).at(0)?.ref : undefined,
    checkedOut: local.branch,
  });
  const mode = await chooseMode(s, local.repo, branch, hook);
  if (!mode) return;
  const setting: PushSetting = { branch, mode };
  await s.push.set(local.repo, setting);
  void vscode.window.showInformationMessage(
    mode === 'follow'
      ? `CloudSmith: Deploy on push is on for ${local.repo}: the platform's webhook deploys pushes of ${branch}, and their logs stream into the CloudSmith output.`
      : `CloudSmith: Deploy on push is on for ${local.repo}: a successful git push of ${branch} deploys that commit.`,
  );
}

async function hookOf(s: Services, app: string): Promise<HookSettingsView | undefined> {
  try {
    return await s.client.hookSettings(app);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Where GitHub already delivers pushes to the platform, VS Code offers to rely on that instead. */
async function chooseMode(
  s: Services,
  repo: string,
  branch: string,
  hook: HookSettingsView | undefined,
): Promise<PushSetting['mode'] | undefined> {
  if (!hook?.deployOnPush || hook.hookId === null) {
    if (hook)
      s.logs.info(
        `${repo}: the platform's webhook ${hook.hookId === null ? 'is not registered on GitHub' : 'has push deploys off'}, so VS Code deploys after each push.`,
      );
    return 'deploy';
  }
  const chosen = await s.ui.pick(
    [
      {
        label: 'Rely on the webhook',
        description: 'recommended',
        detail: `GitHub already delivers pushes of ${branch} to CloudSmith (hook ${hook.hookId}); VS Code streams the deployment's log.`,
        value: 'follow' as const,
      },
      {
        label: 'Deploy from VS Code',
        detail:
          'For when GitHub cannot reach the platform; a deployment the webhook already started is followed, not repeated.',
        value: 'deploy' as const,
      },
    ],
    { title: `${TOGGLE_TITLE}: ${repo}`, placeHolder: `${repo} already deploys on push through its GitHub webhook` },
  );
  return chosen?.value;
}
