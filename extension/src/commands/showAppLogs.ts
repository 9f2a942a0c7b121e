import type { TreeNode } from '../model/tree';
import type { Services } from '../services';
import { workspaceRepo } from '../workspace';
import { requireBackend } from './backend';

/**
 * CloudSmith: Show App Logs. The app of the tree row (a repository with an app, or a deployment), an app name
 * (status bar, webview), else the workspace repository's app, else a pick of the user's apps.
 */
export async function showAppLogs(s: Services, arg?: TreeNode | string): Promise<void> {
  const app = appFromArg(arg) ?? (await workspaceApp(s)) ?? (await pickApp(s));
  if (app) s.appLogs.show(app);
}

function appFromArg(arg: TreeNode | string | undefined): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg?.kind === 'deployment') return arg.deployment.app;
  if (arg?.kind === 'repo') return arg.app?.name;
  return undefined;
}

async function workspaceApp(s: Services): Promise<string | undefined> {
  const local = await workspaceRepo(s.githubApiUrl());
  if (!local) return undefined;
  await requireBackend(s);
  const apps = await s.client.listApps();
  return apps.find((a) => a.repo.toLowerCase() === local.repo.toLowerCase())?.name;
}

async function pickApp(s: Services): Promise<string | undefined> {
  await requireBackend(s);
  const items = s.client
    .listApps()
    .then((apps) =>
      apps.map((a) => ({ label: a.name, description: a.repo, detail: a.url ?? undefined, value: a.name })),
    );
  return (await s.ui.pick(items, { title: 'CloudSmith: Show App Logs', placeHolder: 'Choose an app' }))?.value;
}
