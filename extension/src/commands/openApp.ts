import * as vscode from 'vscode';
import type { Services } from '../services';
import { deploymentFromArg } from './args';
import type { TreeNode } from '../model/tree';

/** Opens an app's live URL: from the status bar (a URL), a tree node, or a QuickPick of the user's apps. */
export async function openApp(s: Services, arg?: unknown): Promise<void> {
  let url: string | undefined;
  if (typeof arg === 'string' && /^https?:\/\//.test(arg)) url = arg;
  else if (arg && typeof arg === 'object' && (arg as TreeNode).kind === 'repo')
    url = (arg as Extract<TreeNode, { kind: 'repo' }>).app?.url ?? undefined;
  else if (arg && typeof arg === 'object' && (arg as TreeNode).kind === 'preview')
    url = (arg as Extract<TreeNode, { kind: 'preview' }>).preview.url ?? undefined;
  else {
    const d = deploymentFromArg(arg);
    if (d && typeof d === 'object') url = d.url ?? undefined;
  }
  if (!url) {
    const apps = s.client
      .listApps()
      .then((list) =>
        list.flatMap((a) =>
          a.url && a.liveDeploymentId ? [{ label: a.name, description: a.repo, detail: a.url, value: a.url }] : [],
        ),
      );
    url = (await s.ui.pick(apps, { title: 'CloudSmith: Open App', placeHolder: 'Choose an app to open' }))?.value;
  }
  if (url) await vscode.env.openExternal(vscode.Uri.parse(url));
}
