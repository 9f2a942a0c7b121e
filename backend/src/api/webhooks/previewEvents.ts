import type { PreviewDeploys } from '../../previews/previewDeploys';
import type { HookSettings } from './hookSettings';
import {
  asOutcome,
  branchOf,
  hookCaller,
  ignored,
  isDeletion,
  type DeletePayload,
  type DeliveryOutcome,
  type PullRequestPayload,
  type PushDeployDeps,
  type PushPayload,
} from './pushDeploy';

export interface PreviewEventDeps extends PushDeployDeps {
  previews: PreviewDeploys;
}

const OPEN_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

/**
 * A push to any branch but the production one: that branch's preview, unless a pull request already previews the
 * branch (its `synchronize` deploys the same commit). A deleted branch takes its preview with it.
 */
export async function previewPush(
  deps: PreviewEventDeps,
  appName: string,
  hook: HookSettings,
  push: PushPayload,
): Promise<DeliveryOutcome> {
  const branch = branchOf(push.ref);
  if (branch === undefined) return ignored(`${push.ref} is not a branch`);
  if (isDeletion(push)) return removeBranch(deps, appName, hook, branch, push.repository.full_name);
  if (!hook.previews) return ignored(`${push.ref} is not the production branch ${hook.branch} (previews are off)`);
  const found = await hookCaller(deps, appName, hook, push.repository.full_name);
  if ('outcome' in found) return found.outcome;
  const pr = await deps.previews.pullRequestOf(found.app.name, branch);
  if (pr) return ignored(`branch ${branch} is previewed as pull request #${pr.pr ?? '?'}`);
  return asOutcome(async () => {
    const { app, deployment } = await deps.previews.deploy(
      found.caller,
      found.app,
      { kind: 'branch', ref: branch },
      push.after,
    );
    return { app, deploymentId: deployment.id, commitSha: push.after };
  });
}

export async function previewPullRequest(
  deps: PreviewEventDeps,
  appName: string,
  hook: HookSettings,
  event: PullRequestPayload,
): Promise<DeliveryOutcome> {
  const head = event.pull_request.head;
  const target = { kind: 'pr' as const, pr: event.number, ref: head.ref };
  if (event.action !== 'closed' && !OPEN_ACTIONS.has(event.action))
    return ignored(`pull_request ${event.action} is not handled`);
  if (event.action !== 'closed' && !hook.previews) return ignored(`previews are off for ${appName}`);
  // A fork's code would build with the owner's token at hand and run with the app's env vars: never automatically.
  if (head.repo?.full_name.toLowerCase() !== event.repository.full_name.toLowerCase())
    return ignored(`pull request #${event.number} comes from a fork; forks are not previewed`);
  const found = await hookCaller(deps, appName, hook, event.repository.full_name);
  if ('outcome' in found) return found.outcome;
  if (event.action === 'closed') {
    const removed = await deps.previews.remove(
      found.caller,
      found.app,
      target,
      `pull request #${event.number} was closed`,
    );
    return removed ? { status: 202, body: { removed } } : ignored(`pull request #${event.number} has no preview`);
  }
  return asOutcome(async () => {
    // The branch's own preview, if it had one, gives way to the pull request's.
    await deps.previews.remove(
      found.caller,
      found.app,
      { kind: 'branch', ref: head.ref },
      `pull request #${event.number} previews it`,
    );
    const { app, deployment } = await deps.previews.deploy(found.caller, found.app, target, head.sha);
    return { app, deploymentId: deployment.id, commitSha: head.sha };
  });
}

export async function previewDelete(
  deps: PreviewEventDeps,
  appName: string,
  hook: HookSettings,
  event: DeletePayload,
): Promise<DeliveryOutcome> {
  if (event.ref_type !== 'branch') return ignored(`a deleted ${event.ref_type} has no preview`);
  return removeBranch(deps, appName, hook, event.ref, event.repository.full_name);
}

async function removeBranch(
  deps: PreviewEventDeps,
  appName: string,
  hook: HookSettings,
  branch: string,
  repo: string,
): Promise<DeliveryOutcome> {
  const found = await hookCaller(deps, appName, hook, repo);
  if ('outcome' in found) return found.outcome;
  const removed = await deps.previews.remove(
    found.caller,
    found.app,
    { kind: 'branch', ref: branch },
    `branch ${branch} was deleted`,
  );
  return removed ? { status: 202, body: { removed } } : ignored(`branch ${branch} has no preview`);
}
