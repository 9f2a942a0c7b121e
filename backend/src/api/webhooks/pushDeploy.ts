import { z } from 'zod';
import type { App } from '../../domain/deployment';
import { UnauthorizedError, UserFacingError } from '../../domain/errors';
import type { Store } from '../../ports/store';
import type { Authspire } from '../../services/authspire/authspire';
import type { Caller, Operations } from '../operations';
import type { HookSettings } from './hookSettings';

const sha = z.string().regex(/^[0-9a-f]{40}$/, 'must be a commit sha');
const repository = z.object({ full_name: z.string().max(140) });

/** The fields of GitHub's `push` payload the platform acts on; the rest is ignored. */
export const pushPayload = z.object({
  ref: z.string().max(300),
  after: sha,
  deleted: z.boolean().optional(),
  repository,
});
export type PushPayload = z.infer<typeof pushPayload>;

/** `pull_request`: the action, its number, and its head (a fork's head names another repository). */
export const pullRequestPayload = z.object({
  action: z.string().max(50),
  number: z.number().int().positive(),
  pull_request: z.object({
    head: z.object({ ref: z.string().max(300), sha, repo: repository.nullable() }),
  }),
  repository,
});
export type PullRequestPayload = z.infer<typeof pullRequestPayload>;

/** `delete`: a branch or tag was deleted. */
export const deletePayload = z.object({
  ref: z.string().max(300),
  ref_type: z.string().max(20),
  repository,
});
export type DeletePayload = z.infer<typeof deletePayload>;

export type DeliveryOutcome =
  | { status: 202; body: { deployed: true; app: string; deploymentId: string; commitSha: string } }
  | { status: 202; body: { removed: string } }
  | { status: 202 | 403; body: { deployed: false; reason: string } };

export const ignored = (reason: string, status: 202 | 403 = 202): DeliveryOutcome => ({
  status,
  body: { deployed: false, reason },
});

export interface PushDeployDeps {
  store: Store;
  operations: Operations;
  authspire: Authspire;
}

/**
 * The app and its owner, for a delivery about the app's own repo. No user is on the request, so the owner's token
 * sealed when they enabled the hook stands in for them, and GitHub is asked again who it belongs to: a revoked
 * token, or one that now belongs to someone else, acts on nothing.
 */
export async function hookCaller(
  deps: PushDeployDeps,
  appName: string,
  hook: HookSettings,
  repo: string,
): Promise<{ app: App; caller: Caller } | { outcome: DeliveryOutcome }> {
  const app = await deps.store.getApp(appName);
  if (!app || app.ownerId !== hook.ownerId) return { outcome: ignored(`app ${appName} no longer exists`) };
  if (repo.toLowerCase() !== app.repo.toLowerCase())
    return { outcome: ignored(`the delivery is for ${repo}, not ${app.repo}`) };
  let user;
  try {
    user = await deps.authspire.authenticate(hook.token);
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
    return { outcome: ignored("the owner's token was refused by GitHub; enable the hook again", 403) };
  }
  if (user.id !== app.ownerId) return { outcome: ignored('the token no longer belongs to the owner of the app', 403) };
  return { app, caller: { user, token: hook.token } };
}

/** A push to the app's production branch deploys exactly the pushed commit, as the app's owner. */
export async function deployPush(
  deps: PushDeployDeps,
  appName: string,
  hook: HookSettings,
  push: PushPayload,
): Promise<DeliveryOutcome> {
  const branch = branchOf(push.ref);
  if (branch !== hook.branch) return ignored(`${push.ref} is not the production branch ${hook.branch}`);
  if (isDeletion(push)) return ignored(`branch ${branch} was deleted`);
  if (!hook.deployOnPush) return ignored(`deploy on push is off for ${appName}`);
  const found = await hookCaller(deps, appName, hook, push.repository.full_name);
  if ('outcome' in found) return found.outcome;
  return asOutcome(async () => {
    const deployment = await deps.operations.deployCommit(found.caller, found.app.name, branch, push.after);
    return { app: found.app.name, deploymentId: deployment.id, commitSha: push.after };
  });
}

export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

export function isDeletion(push: PushPayload): boolean {
  return push.deleted === true || /^0+$/.test(push.after);
}

/** A deploy GitHub's delivery asked for; a refusal the user can act on (lost access, say) shows on the delivery. */
export async function asOutcome(
  deploy: () => Promise<{ app: string; deploymentId: string; commitSha: string }>,
): Promise<DeliveryOutcome> {
  try {
    return { status: 202, body: { deployed: true, ...(await deploy()) } };
  } catch (err) {
    if (!(err instanceof UserFacingError)) throw err;
    return ignored(`could not deploy: ${err.message}`, 403);
  }
}
