import * as vscode from 'vscode';
import type { DeploymentView } from '@cloudsmith/client';
import type { Services } from '../services';
import { deploymentFromArg, repoFromArg } from './args';

/** Switches an app back to an earlier deployment's artifact, without rebuilding. */
export async function rollback(s: Services, arg?: unknown): Promise<void> {
  let target: DeploymentView | undefined;
  const given = deploymentFromArg(arg);
  if (typeof given === 'string') target = await s.client.getDeployment(given);
  else if (given) target = given;
  else {
    const repo = repoFromArg(arg) ?? s.deployments.last?.repo;
    const past = s.client.listDeployments(repo, 30).then((list) => {
      const live = new Set(list.filter((d) => d.status === 'live').map((d) => d.id));
      return list
        .filter((d) => (d.status === 'superseded' || d.status === 'live') && !live.has(d.id))
        .map((d) => ({
          label: `${d.repo}@${d.ref}`,
          description: `${d.commitSha?.slice(0, 7) ?? ''} · ${new Date(d.createdAt).toLocaleString()}`,
          value: d,
        }));
    });
    target = (
      await s.ui.pick(past, {
        title: 'CloudSmith: Roll Back',
        placeHolder: 'Choose the earlier deployment to serve again',
      })
    )?.value;
  }
  if (!target) return;
  const deployment = await s.client.rollback(target.app, target.id);
  void vscode.window.showInformationMessage(
    `CloudSmith: rolling ${target.app} back to ${target.commitSha?.slice(0, 7) ?? target.id.slice(0, 8)}`,
  );
  void s.deployments.follow(deployment, { progress: true });
  s.tree.refresh(true);
}
