import type { DeploymentView } from '@cloudsmith/client';
import { inProgress } from '../model/status';
import type { TreeNode } from '../model/tree';
import type { Services } from '../services';
import type { PickItem } from '../userInput';

/** Commands take a tree node, a deployment id (status bar, webview) or nothing (palette). */
export type CommandArg = TreeNode | string | undefined;

export function deploymentFromArg(arg: unknown): DeploymentView | string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && (arg as TreeNode).kind === 'deployment')
    return (arg as Extract<TreeNode, { kind: 'deployment' }>).deployment;
  return undefined;
}

export function repoFromArg(arg: unknown): string | undefined {
  if (arg && typeof arg === 'object') {
    const node = arg as TreeNode;
    if ('repo' in node && typeof node.repo === 'object') return node.repo.fullName;
  }
  return undefined;
}

/** Resolves a deployment: the argument, else the last one touched, else a QuickPick of recent ones. */
export async function pickDeployment(
  s: Services,
  arg: unknown,
  title: string,
  filter: (d: DeploymentView) => boolean = () => true,
): Promise<DeploymentView | undefined> {
  const given = deploymentFromArg(arg);
  if (typeof given === 'string') return s.client.getDeployment(given);
  if (given) return given;
  if (s.deployments.last && filter(s.deployments.last)) return s.deployments.last;
  const items = s.client.listDeployments(repoFromArg(arg), 30).then((list) =>
    list.filter(filter).map((d): PickItem<DeploymentView> => ({
      label: `${d.repo}@${d.ref}`,
      description: `${d.status} · ${d.commitSha?.slice(0, 7) ?? ''} · ${new Date(d.createdAt).toLocaleString()}`,
      detail: d.url ?? d.error ?? undefined,
      value: d,
    })),
  );
  return (await s.ui.pick(items, { title, placeHolder: 'Choose a deployment' }))?.value;
}

export const running = (d: DeploymentView) => inProgress(d.status);
