import * as vscode from 'vscode';
import type { Services } from '../services';
import { pickDeployment, running } from './args';

export async function cancel(s: Services, arg?: unknown): Promise<void> {
  const deployment = await pickDeployment(s, arg, 'CloudSmith: Cancel Deployment', running);
  if (!deployment) return;
  if (!running(deployment)) {
    void vscode.window.showInformationMessage(
      `CloudSmith: deployment of ${deployment.repo} is already ${deployment.status}.`,
    );
    return;
  }
  await s.deployments.cancel(deployment.id);
  s.tree.refresh(true);
}
