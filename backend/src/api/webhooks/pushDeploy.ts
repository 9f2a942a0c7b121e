import { z } from 'zod';
import { UnauthorizedError, UserFacingError } from '../../domain/errors';
import type { Store } from '../../ports/store';
import type { Authspire } from '../../services/authspire/authspire';
import type { Operations } from '../operations';
import type { HookSettings } from './hookSettings';

/** The fields of GitHub's `push` payload the platform acts on; the rest is ignored. */
export const pushPayload = z.object({
  ref: z.string().max(300),
  after: z.string().regex(/^[0-9a-f]{40}$/, 'after must be a commit sha'),
  deleted: z.boolean().optional(),
  repository: z.object({ full_name: z.string().max(140) }),
});
export type PushPayload = z.infer<typeof pushPayload>;

export type PushOutcome =
  | { status: 202; body: { deployed: true; deploymentId: string; commitSha: string } }
  | { status: 202 | 403; body: { deployed: false; reason: string } };

const ignored = (reason: string, status: 202 | 403 = 202): PushOutcome => ({
  status,
  body: { deployed: false, reason },
});

export interface PushDeployDeps {
  store: Store;
  operations: Operations;
  authspire: Authspire;
}

/**
 * A push to the app's production branch deploys exactly the pushed commit, as the app's owner. No user is on the
 * request, so the owner's token sealed when they enabled the hook stands in for them, and GitHub is asked again
 * who it belongs to: a revoked token, or one that now belongs to someone else, deploys nothing.
 */
export async function deployPush(
  deps: PushDeployDeps,
  appName: string,
  hook: HookSettings,
  push: PushPayload,
): Promise<PushOutcome> {
  const app = await deps.store.getApp(appName);
  if (!app || app.ownerId !== hook.ownerId) return ignored(`app ${appName} no longer exists`);
  if (push.repository.full_name.toLowerCase() !== app.repo.toLowerCase())
    return ignored(`the push is for ${push.repository.full_name}, not ${app.repo}`);
  const branch = push.ref.startsWith('refs/heads/') ? push.ref.slice('refs/heads/'.length) : undefined;
  if (branch !== hook.branch) return ignored(`${push.ref} is not the production branch ${hook.branch}`);
  if (push.deleted === true || /^0+$/.test(push.after)) return ignored(`branch ${branch} was deleted`);

  let caller;
  try {
    caller = { user: await deps.authspire.authenticate(hook.token), token: hook.token };
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
    return ignored("the owner's token was refused by GitHub; enable the hook again", 403);
  }
  if (caller.user.id !== app.ownerId) return ignored('the token no longer belongs to the owner of the app', 403);
  try {
    const deployment = await deps.operations.deployCommit(caller, app.name, branch, push.after);
    return { status: 202, body: { deployed: true, deploymentId: deployment.id, commitSha: push.after } };
  } catch (err) {
    // The owner lost access to the repo, say: GitHub shows the reason on the delivery.
    if (!(err instanceof UserFacingError)) throw err;
    return ignored(`could not deploy: ${err.message}`, 403);
  }
}
