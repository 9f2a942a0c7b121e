import type { Services } from '../services';
import { pickDeployment } from './args';

/** Replays a deployment's log into the output channel, then follows it live if it is still running. */
export async function showLogs(s: Services, arg?: unknown): Promise<void> {
  const deployment = await pickDeployment(s, arg, 'CloudSmith: Show Logs');
  if (!deployment) return;
  s.logs.show();
  await s.deployments.follow(deployment, { progress: false });
}
