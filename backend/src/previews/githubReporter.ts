import { IN_FLIGHT_STATUSES, type Deployment, type DeploymentStatus } from '../domain/deployment';
import type { LogEvent } from '../domain/events';
import { errorMessage } from '../domain/errors';
import type { Logger } from '../lib/logger';
import type { RepoWrites, CommitStatus } from '../ports/repoWrites';
import type { Store } from '../ports/store';
import type { HookSettings, HookSettingsRepo } from '../api/webhooks/hookSettings';
import { previewComment, type CommentState } from './prComment';
import type { PreviewRecord, PreviewRegistry } from './previewRegistry';

export interface ReporterDeps {
  store: Store;
  hooks: HookSettingsRepo;
  registry: PreviewRegistry;
  writes: RepoWrites;
  logger: Logger;
}

/**
 * A new consumer group reads the topic from its start: statuses older than this are history, not news, and
 * GitHub is not told about them again.
 */
const STALE_MS = 15 * 60_000;

/**
 * Tells GitHub how a deployment of a hooked app (or of one of its previews) is going, from the deployment's status
 * changes on the bus: a commit status on the deployed commit (pending → success with the app's URL, failure
 * with a link to the logs, or error when it was cancelled or superseded before going live), and for a pull
 * request's preview its one comment, edited. It runs with the owner's token sealed in the hook; a failure is
 * logged and never fails the deployment (the bus would retry it, then mark the deployment failed).
 */
export function githubReporter(deps: ReporterDeps) {
  return async (event: LogEvent): Promise<void> => {
    if (event.kind !== 'status' || Date.now() - Date.parse(event.at) > STALE_MS) return;
    try {
      await report(deps, event.deploymentId, event.status);
    } catch (err) {
      deps.logger.warn('reporting to GitHub failed', { deploymentId: event.deploymentId, error: errorMessage(err) });
    }
  };
}

async function report(deps: ReporterDeps, deploymentId: string, status: DeploymentStatus): Promise<void> {
  const d = await deps.store.getDeployment(deploymentId);
  if (!d?.commitSha) return;
  // The API announces a cancel while Buildrelay may still announce the stage it had started: those two producers'
  // events can arrive in either order, and GitHub shows a context's newest status, so a late "pending" must not
  // overwrite the final one.
  if (IN_FLIGHT_STATUSES.includes(status) && !IN_FLIGHT_STATUSES.includes(d.status)) return;
  const preview = await deps.registry.get(d.app);
  const hook = await deps.hooks.get(preview?.of ?? d.app);
  if (!hook || hook.ownerId !== d.ownerId) return;
  const state = await commitStatus(deps.store, d, status, logsUrl(hook, d));
  if (!state) return;
  await deps.writes.setCommitStatus(hook.token, d.repo, d.commitSha, state);
  if (preview?.kind === 'pr' && preview.commentId !== undefined) await editComment(deps, hook, preview, d, status);
}

async function commitStatus(
  store: Store,
  d: Deployment,
  status: DeploymentStatus,
  logs: string | undefined,
): Promise<CommitStatus | undefined> {
  const context = `cloudsmith/${d.app}`;
  switch (status) {
    case 'queued':
    case 'fetching':
    case 'building':
    case 'deploying':
      return { state: 'pending', description: `CloudSmith: ${status}`, targetUrl: logs, context };
    case 'live':
      return { state: 'success', description: 'CloudSmith: live', targetUrl: d.url, context };
    case 'failed':
    case 'crashed':
      return { state: 'failure', description: `CloudSmith: ${status}: ${d.error ?? ''}`, targetUrl: logs, context };
    // A newer commit's deployment cancels it with "superseded by <sha>, a newer commit" (api/operations.ts).
    case 'cancelled':
      return { state: 'error', description: `CloudSmith: cancelled: ${d.error ?? ''}`, targetUrl: logs, context };
    case 'superseded': {
      // A release that was live keeps its success; one that lost to a newer release before going live ends here.
      if (d.url) return undefined;
      const newer = await liveCommit(store, d.app);
      // The same commit deployed again went live: its success is this commit's status.
      if (newer === d.commitSha) return undefined;
      const by = newer ? newer.slice(0, 7) : 'a newer deployment';
      return { state: 'error', description: `CloudSmith: superseded by ${by}`, targetUrl: logs, context };
    }
  }
}

/** The commit the app serves now: what superseded a deployment that never went live. */
async function liveCommit(store: Store, app: string): Promise<string | undefined> {
  const live = (await store.getApp(app))?.liveDeploymentId;
  return live ? (await store.getDeployment(live))?.commitSha : undefined;
}

/** Only the preview's newest deployment speaks in the comment: a cancelled older build does not overwrite it. */
async function editComment(
  deps: ReporterDeps,
  hook: HookSettings,
  preview: PreviewRecord,
  d: Deployment,
  status: DeploymentStatus,
): Promise<void> {
  if (preview.commentId === undefined || !d.commitSha) return;
  const newest = (await deps.store.listDeployments({ ownerId: d.ownerId, app: d.app, limit: 1 })).at(0);
  if (newest?.id !== d.id) return;
  let state: CommentState;
  if (status === 'live' && d.url) state = { state: 'live', sha: d.commitSha, url: d.url };
  else if (status === 'failed' || status === 'crashed')
    state = { state: 'failed', sha: d.commitSha, error: d.error ?? status, logsUrl: logsUrl(hook, d) };
  else return;
  await deps.writes.updateComment(hook.token, d.repo, preview.commentId, previewComment(d.app, state));
}

/** The deployment's log on the API the hook was enabled through (it asks for the owner's token, as every route). */
function logsUrl(hook: HookSettings, d: Deployment): string | undefined {
  if (!hook.payloadUrl) return undefined;
  return new URL(`/api/deployments/${d.id}/logs`, hook.payloadUrl).toString();
}
