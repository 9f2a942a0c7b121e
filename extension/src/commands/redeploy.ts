import type { Services } from '../services';
import { pickDeployment } from './args';

/** Builds the same commit again with the same settings. */
export async function redeploy(s: Services, arg?: unknown): Promise<void> {
  const previous = await pickDeployment(s, arg, 'CloudSmith: Redeploy');
  if (!previous) return;
  const deployment = await s.client.redeploy(previous.id);
  s.logs.info(
    `Redeploying ${previous.repo}@${previous.ref} (${previous.commitSha?.slice(0, 7) ?? 'same commit'}) as deployment ${deployment.id}`,
  );
  void s.deployments.follow(deployment, { progress: true });
  s.tree.refresh(true);
}
