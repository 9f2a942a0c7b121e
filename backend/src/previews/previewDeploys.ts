import { UserFacingError, errorMessage, NotFoundError } from '../domain/errors';
import type { App, Deployment } from '../domain/deployment';
import { now } from '../domain/events';
import { KeyedQueue } from '../lib/keyedQueue';
import type { Logger } from '../lib/logger';
import type { RepoWrites } from '../ports/repoWrites';
import type { Store } from '../ports/store';
import type { Caller, Operations } from '../api/operations';
import { previewComment, type CommentState } from './prComment';
import { previewNameCandidates, type PreviewTarget } from './previewNames';
import type { PreviewRecord, PreviewRegistry } from './previewRegistry';

const COMMENT_CLAIMS = 'previews.pr-comment';

export interface PreviewDeps {
  store: Store;
  operations: Operations;
  registry: PreviewRegistry;
  writes: RepoWrites;
  logger: Logger;
  /** Previews kept per production app; deploying one more removes the oldest. */
  maxPerApp: number;
}

/**
 * Preview apps: one per pull request or branch, owned by the production app's owner, deployed and removed as
 * GitHub says the pull request or branch moved. Work for one production app runs one piece at a time (in this
 * process), so two deliveries never both create the same preview or its pull request comment.
 */
export class PreviewDeploys {
  private readonly queue = new KeyedQueue();

  constructor(private readonly deps: PreviewDeps) {}

  /** Deploys `sha` as the target's preview (created on first use); an older build of it still in flight is cancelled. */
  deploy(
    caller: Caller,
    prod: App,
    target: PreviewTarget,
    sha: string,
  ): Promise<{ app: string; deployment: Deployment }> {
    return this.queue.run(prod.name, async () => {
      const record = await this.previewApp(caller, prod, target);
      if (record.kind === 'pr') await this.comment(caller.token, prod.repo, record, { state: 'building', sha });
      const deployment = await this.deps.operations.deployCommit(caller, record.name, target.ref, sha, prod.name);
      await this.evictBeyondCap(caller, prod, record.name);
      return { app: record.name, deployment };
    });
  }

  /** Removes the target's preview, if there is one; says which app went. */
  remove(caller: Caller, prod: App, target: PreviewTarget, reason: string): Promise<string | undefined> {
    return this.queue.run(prod.name, async () => {
      const record = await this.find(prod.name, target);
      if (!record) return undefined;
      await this.removePreview(caller, prod, record, reason);
      return record.name;
    });
  }

  /** The pull request previewing `branch`, if one does (a push to it is then the pull request's to deploy). */
  async pullRequestOf(prod: string, branch: string): Promise<PreviewRecord | undefined> {
    return (await this.deps.registry.list(prod)).find((r) => r.kind === 'pr' && r.ref === branch);
  }

  private async find(prod: string, target: PreviewTarget): Promise<PreviewRecord | undefined> {
    return (await this.deps.registry.list(prod)).find((r) =>
      target.kind === 'pr' ? r.kind === 'pr' && r.pr === target.pr : r.kind === 'branch' && r.ref === target.ref,
    );
  }

  private async previewApp(caller: Caller, prod: App, target: PreviewTarget): Promise<PreviewRecord> {
    const existing = await this.find(prod.name, target);
    if (existing && (await this.deps.store.getApp(existing.name))) {
      if (existing.ref === target.ref) return existing;
      // A pull request whose head branch was renamed: same preview, new branch.
      const moved = { ...existing, ref: target.ref };
      await this.deps.registry.put(moved);
      return moved;
    }
    if (existing) await this.deps.registry.forget(existing.name);
    for (const name of previewNameCandidates(prod.name, target)) {
      if (!(await this.deps.store.claimAppName(name, caller.user.id, prod.repo))) continue;
      if (await this.deps.store.getApp(name)) continue;
      await this.deps.store.putApp({
        name,
        ownerId: caller.user.id,
        ownerLogin: caller.user.login,
        repo: prod.repo,
        createdAt: now(),
      });
      const record: PreviewRecord = {
        name,
        of: prod.name,
        kind: target.kind,
        ref: target.ref,
        pr: target.kind === 'pr' ? target.pr : undefined,
        createdAt: now(),
      };
      await this.deps.registry.put(record);
      return record;
    }
    throw new UserFacingError(`no free app name for the preview of ${target.ref}`, 409, 'conflict');
  }

  private async evictBeyondCap(caller: Caller, prod: App, keep: string): Promise<void> {
    const previews = await this.deps.registry.list(prod.name);
    const excess = previews.length - this.deps.maxPerApp;
    if (excess <= 0) return;
    const oldestFirst = previews.filter((r) => r.name !== keep).reverse();
    for (const record of oldestFirst.slice(0, excess)) {
      await this.removePreview(
        caller,
        prod,
        record,
        `more than ${this.deps.maxPerApp} previews of ${prod.name}; the oldest goes`,
      );
    }
  }

  private async removePreview(caller: Caller, prod: App, record: PreviewRecord, reason: string): Promise<void> {
    if (record.kind === 'pr') await this.comment(caller.token, prod.repo, record, { state: 'removed', reason });
    try {
      await this.deps.operations.removeApp(caller, record.name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      await this.deps.registry.forget(record.name);
    }
    this.deps.logger.info('preview removed', { app: record.name, reason });
  }

  /** Creates the pull request's comment once, then edits it. GitHub refusing is logged: the preview still deploys. */
  private async comment(token: string, repo: string, record: PreviewRecord, state: CommentState): Promise<void> {
    if (record.pr === undefined) return;
    const body = previewComment(record.name, state);
    try {
      const earlier = record.commentId ?? (await this.deps.registry.commentOf(record.of, record.pr));
      if (earlier !== undefined) {
        if (record.commentId === undefined) await this.deps.registry.put({ ...record, commentId: earlier });
        record.commentId = earlier;
        await this.deps.writes.updateComment(token, repo, earlier, body);
        return;
      }
      // Across API replicas too, one of them creates the comment; the others leave it to the status reporter.
      if (!(await this.deps.store.markProcessed(COMMENT_CLAIMS, `${record.name}@${record.createdAt}`))) return;
      const commentId = await this.deps.writes.createComment(token, repo, record.pr, body);
      record.commentId = commentId;
      await this.deps.registry.put(record);
      await this.deps.registry.rememberComment(record.of, record.pr, commentId);
    } catch (err) {
      this.deps.logger.warn('pull request comment failed', { app: record.name, error: errorMessage(err) });
    }
  }
}
