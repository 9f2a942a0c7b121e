import type { Services } from '../services';
import { pickDeployment } from './args';

/** Reveals a deployment's log in the output channel: printed once, followed live while it runs. */
export async function showLogs(s: Services, arg?: unknown): Promise<void> {
  const deployment = await pickDeployment(s, arg, 'CloudSmith: Show Logs');
  if (!deployment) return;
  await s.deployments.showLogs(deployment);
}
