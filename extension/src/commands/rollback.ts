import type { DeploymentView } from '@cloudsmith/client';
import { age, shortSha } from '../model/status';
import type { Services } from '../services';
import { deploymentFromArg, repoFromArg } from './args';

/** Switches an app back to an earlier deployment's artifact, without rebuilding, once the user confirmed. */
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
          description: `${shortSha(d.commitSha)} · ${new Date(d.createdAt).toLocaleString()}`,
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
  const version = shortSha(target.commitSha) || target.id.slice(0, 8);
  const confirmed = await s.ui.confirm(
    `Roll ${target.app} back to ${target.ref} at ${version} (deployed ${age(target.createdAt)})?`,
    'Roll Back',
    'The app serves that deployment’s build again; nothing is rebuilt. Redeploy the newer commit to undo.',
  );
  if (!confirmed) return;
  const deployment = await s.client.rollback(target.app, target.id);
  s.logs.info(`Rolling ${target.app} back to ${version} (deployment ${deployment.id})`);
  void s.deployments.follow(deployment, { progress: true });
  s.tree.refresh(true);
}
