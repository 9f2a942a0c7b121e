import * as vscode from 'vscode';
import type { DeploymentView } from '@cloudsmith/client';
import { age } from '../model/status';
import type { Services } from '../services';
import { deploymentFromArg, repoFromArg, running } from './args';

/**
 * Stops a running deployment after saying which one: the argument (tree, webview), else the one deploying now,
 * else a pick among the running ones; with none running it says so instead of showing an empty list.
 */
export async function cancel(s: Services, arg?: unknown): Promise<void> {
  const deployment = await runningDeployment(s, arg);
  if (!deployment) {
    void vscode.window.showInformationMessage('CloudSmith: No deployment is running.');
    return;
  }
  if (!running(deployment)) {
    void vscode.window.showInformationMessage(
      `CloudSmith: the deployment of ${deployment.repo}@${deployment.ref} is already ${deployment.status}.`,
    );
    return;
  }
  const confirmed = await s.ui.confirm(
    `Stop the deployment of ${deployment.repo}@${deployment.ref} (${deployment.status}, started ${age(deployment.createdAt)})?`,
    'Stop Deployment',
    `The app keeps serving its current deployment. Deployment ${deployment.id}.`,
  );
  if (!confirmed) return;
  await s.deployments.cancel(deployment.id);
  s.tree.refresh(true);
}

async function runningDeployment(s: Services, arg: unknown): Promise<DeploymentView | undefined> {
  const given = deploymentFromArg(arg);
  if (typeof given === 'string') return s.client.getDeployment(given);
  if (given) return given;
  const last = s.deployments.last;
  if (last && running(last) && s.deployments.isRunning(last.id)) return last;
  const list = (await s.client.listDeployments(repoFromArg(arg), 30)).filter(running);
  if (list.length <= 1) return list[0];
  const chosen = await s.ui.pick(
    list.map((d) => ({
      label: `${d.repo}@${d.ref}`,
      description: `${d.status} · started ${age(d.createdAt)}`,
      value: d,
    })),
    { title: 'CloudSmith: Cancel Deployment', placeHolder: 'Choose the deployment to stop' },
  );
  return chosen?.value;
}
