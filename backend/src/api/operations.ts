import { randomUUID } from 'node:crypto';
import type { App, Deployment, Overrides } from '../domain/deployment';
import { NotFoundError, UserFacingError } from '../domain/errors';
import { now, stageEventId } from '../domain/events';
import type { EventBus } from '../ports/bus';
import type { Store } from '../ports/store';
import type { GitHubUser } from '../ports/source';
import { previewSecret } from '../security/masker';
import type { Sealer } from '../security/sealer';
import type { Authspire } from '../services/authspire/authspire';
import type { DeploymentLog } from '../services/shared/deploymentLog';
import { baseAppName, disambiguatedAppName } from './appNames';
import type { PreviewRegistry } from '../previews/previewRegistry';
import type { HookSettingsRepo } from './webhooks/hookSettings';
import type { DeployBody } from './schemas';

export interface OperationDeps {
  store: Store;
  bus: EventBus;
  log: DeploymentLog;
  sealer: Sealer;
  authspire: Authspire;
  /** Push hooks, removed with their app so a deleted app keeps no sealed token. */
  hooks?: HookSettingsRepo;
  /** Which apps are previews of which: a preview says so in its view, and goes with its production app. */
  previews?: PreviewRegistry;
}

export interface Caller {
  user: GitHubUser;
  token: string;
}

/** What the API does for each request, once the request is authenticated and its body validated. */
export class Operations {
  constructor(private readonly deps: OperationDeps) {}

  async deploy(caller: Caller, body: DeployBody): Promise<Deployment> {
    const repo = await this.deps.authspire.authorizeRepo(caller.token, body.repo);
    const { repo: _repo, ref = repo.defaultBranch, env: _env, commitSha: pinned, ...overrides } = body;
    // A pinned commit (the editor's Deploy on Push: exactly the pushed one) must exist in the repo; `ref` names its branch.
    const commitSha = await this.deps.authspire.resolveRef(caller.token, repo.fullName, pinned ?? ref);
    const app = await this.appFor(caller.user, repo.fullName);
    if (body.env) await this.mergeEnv(app.name, body.env);
    return this.start(caller, app, { ref, overrides, commitSha, cloneUrl: repo.cloneUrl });
  }

  async redeploy(caller: Caller, id: string): Promise<Deployment> {
    const previous = await this.deployment(caller, id);
    const repo = await this.deps.authspire.authorizeRepo(caller.token, previous.repo);
    const app = await this.app(caller, previous.app);
    return this.start(caller, app, {
      cloneUrl: repo.cloneUrl,
      ref: previous.ref,
      overrides: previous.overrides,
      commitSha: previous.commitSha,
      from: previous.id,
    });
  }

  /**
   * A verified push (api/webhooks): exactly the pushed commit, with the latest build settings of the app (or, for
   * a preview's first build, of `settingsOf`). Builds of the app still in flight are cancelled: only the newest
   * commit goes live.
   */
  async deployCommit(
    caller: Caller,
    appName: string,
    ref: string,
    commitSha: string,
    settingsOf?: string,
  ): Promise<Deployment> {
    const app = await this.app(caller, appName);
    const repo = await this.deps.authspire.authorizeRepo(caller.token, app.repo);
    const latestOf = async (name: string) =>
      (await this.deps.store.listDeployments({ ownerId: caller.user.id, app: name, limit: 1 })).at(0);
    const latest = (await latestOf(app.name)) ?? (settingsOf ? await latestOf(settingsOf) : undefined);
    await this.cancelInFlight(caller, app.name, `superseded by ${commitSha.slice(0, 7)}, a newer commit`);
    return this.start(caller, app, { ref, overrides: latest?.overrides ?? {}, commitSha, cloneUrl: repo.cloneUrl });
  }

  /** Re-releases an earlier deployment's artifact: no fetch, no build. */
  async rollback(caller: Caller, appName: string, deploymentId: string): Promise<Deployment> {
    const app = await this.app(caller, appName);
    const target = await this.deployment(caller, deploymentId);
    if (target.app !== app.name)
      throw new UserFacingError(`deployment ${deploymentId} is not a release of ${app.name}`);
    if (!target.artifact || !target.plan)
      throw new UserFacingError(`deployment ${deploymentId} has no build to roll back to`, 409, 'conflict');
    const deployment = this.newDeployment(caller, app, {
      ref: target.ref,
      overrides: target.overrides,
      commitSha: target.commitSha,
      from: target.id,
    });
    deployment.artifact = target.artifact;
    deployment.plan = target.plan;
    await this.deps.store.createDeployment(deployment);
    this.deps.log.write(
      deployment.id,
      'system',
      `Rolling back ${app.name} to deployment ${target.id} (${target.commitSha?.slice(0, 7) ?? 'unknown commit'})`,
    );
    await this.deps.log.flush(deployment.id);
    await this.deps.bus.publish('build.completed', {
      eventId: stageEventId('build.completed', deployment.id),
      deploymentId: deployment.id,
      at: now(),
      artifact: target.artifact,
      plan: target.plan,
    });
    return deployment;
  }

  async cancel(caller: Caller, id: string): Promise<Deployment> {
    const deployment = await this.deployment(caller, id);
    const cancelled = await this.deps.log.moveTo(id, 'cancelled', { error: 'cancelled by the user' });
    if (!cancelled) throw new UserFacingError(`deployment ${id} is already ${deployment.status}`, 409, 'conflict');
    await this.deps.bus.publish('deployment.cancel', {
      eventId: stageEventId('deployment.cancel', id),
      deploymentId: id,
      at: now(),
    });
    return cancelled;
  }

  /**
   * Stops the app everywhere it runs, cancels what is in flight and forgets its env; its history stays readable.
   * A production app's previews go with it.
   */
  async removeApp(caller: Caller, appName: string): Promise<void> {
    const app = await this.app(caller, appName);
    for (const preview of (await this.deps.previews?.list(app.name)) ?? []) {
      if (await this.deps.store.getApp(preview.name)) await this.removeApp(caller, preview.name);
    }
    const deployments = await this.cancelInFlight(caller, app.name, 'the app was deleted');
    if (app.liveDeploymentId) await this.deps.log.moveTo(app.liveDeploymentId, 'superseded');
    await this.deps.store.putEnv(app.name, {});
    await this.deps.hooks?.disable(app.name);
    await this.deps.previews?.forget(app.name);
    await this.deps.store.deleteApp(app.name);
    const key = app.liveDeploymentId ?? deployments.at(0)?.id ?? app.name;
    await this.deps.bus.publish('app.removed', {
      eventId: stageEventId('app.removed', key, `${app.name}:${now()}`),
      deploymentId: key,
      at: now(),
      app: app.name,
    });
  }

  async deployment(caller: Caller, id: string): Promise<Deployment> {
    const deployment = await this.deps.store.getDeployment(id);
    // Another user's deployment is indistinguishable from a missing one.
    if (!deployment || deployment.ownerId !== caller.user.id) throw new NotFoundError(`deployment ${id}`);
    return deployment;
  }

  async app(caller: Caller, name: string): Promise<App> {
    const app = await this.deps.store.getApp(name);
    if (!app || app.ownerId !== caller.user.id) throw new NotFoundError(`app ${name}`);
    return this.withPreview(app);
  }

  listDeployments(caller: Caller, filter: { repo?: string; app?: string; limit?: number }): Promise<Deployment[]> {
    return this.deps.store.listDeployments({ ownerId: caller.user.id, ...filter });
  }

  async listApps(caller: Caller): Promise<App[]> {
    return Promise.all((await this.deps.store.listApps(caller.user.id)).map((app) => this.withPreview(app)));
  }

  /** The previews of one of the caller's apps, newest first. */
  async listPreviews(caller: Caller, appName: string): Promise<App[]> {
    const app = await this.app(caller, appName);
    const apps = await Promise.all(
      ((await this.deps.previews?.list(app.name)) ?? []).map((p) => this.deps.store.getApp(p.name)),
    );
    return Promise.all(apps.filter((a): a is App => a?.ownerId === caller.user.id).map((a) => this.withPreview(a)));
  }

  private async withPreview(app: App): Promise<App> {
    const record = await this.deps.previews?.get(app.name);
    if (!record) return app;
    return { ...app, preview: { of: record.of, kind: record.kind, ref: record.ref, pr: record.pr } };
  }

  /** Cancels the app's deployments still in flight (each stage hears it on the bus); returns its recent deployments. */
  private async cancelInFlight(caller: Caller, appName: string, reason: string): Promise<Deployment[]> {
    const deployments = await this.deps.store.listDeployments({ ownerId: caller.user.id, app: appName, limit: 200 });
    for (const d of deployments) {
      if (await this.deps.log.moveTo(d.id, 'cancelled', { error: reason })) {
        await this.deps.bus.publish('deployment.cancel', {
          eventId: stageEventId('deployment.cancel', d.id),
          deploymentId: d.id,
          at: now(),
        });
      }
    }
    return deployments;
  }

  async env(caller: Caller, appName: string): Promise<Record<string, string>> {
    const app = await this.app(caller, appName);
    const sealed = await this.deps.store.getEnv(app.name);
    return Object.fromEntries(
      Object.entries(sealed).map(([key, value]) => [key, previewSecret(this.deps.sealer.open(value))]),
    );
  }

  /** Replaces the app's env; a null value deletes a key, an omitted key is removed too. */
  async putEnv(caller: Caller, appName: string, env: Record<string, string>): Promise<Record<string, string>> {
    const app = await this.app(caller, appName);
    await this.deps.store.putEnv(app.name, this.sealAll(env));
    return this.env(caller, app.name);
  }

  private async mergeEnv(app: string, env: Record<string, string>): Promise<void> {
    const current = await this.deps.store.getEnv(app);
    await this.deps.store.putEnv(app, { ...current, ...this.sealAll(env) });
  }

  private sealAll(env: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, this.deps.sealer.seal(value)]));
  }

  private async start(
    caller: Caller,
    app: App,
    spec: { ref: string; overrides: Overrides; commitSha?: string; from?: string; cloneUrl: string },
  ): Promise<Deployment> {
    const deployment = this.newDeployment(caller, app, spec);
    await this.deps.store.createDeployment(deployment);
    this.deps.log.write(deployment.id, 'system', `Queued ${deployment.repo}@${deployment.ref} for ${app.name}`);
    await this.deps.log.flush(deployment.id);
    await this.deps.bus.publish('deployment.requested', {
      eventId: stageEventId('deployment.requested', deployment.id),
      deploymentId: deployment.id,
      at: now(),
      sealedToken: this.deps.sealer.seal(caller.token),
      commitSha: spec.commitSha,
      cloneUrl: spec.cloneUrl,
    });
    return deployment;
  }

  private newDeployment(
    caller: Caller,
    app: App,
    spec: { ref: string; overrides: Overrides; commitSha?: string; from?: string },
  ): Deployment {
    const at = now();
    return {
      id: randomUUID(),
      app: app.name,
      ownerId: caller.user.id,
      repo: app.repo,
      ref: spec.ref,
      commitSha: spec.commitSha,
      status: 'queued',
      overrides: spec.overrides,
      sourceDeploymentId: spec.from,
      timings: {},
      createdAt: at,
      updatedAt: at,
    };
  }

  /** The caller's app for this repo, created on first deploy under a name claimed atomically in the store. */
  private async appFor(user: GitHubUser, repo: string): Promise<App> {
    for (const app of await this.deps.store.listApps(user.id)) {
      // A preview deploys from the same repo but is not the app a manual deploy goes to.
      if (app.repo.toLowerCase() === repo.toLowerCase() && !(await this.deps.previews?.get(app.name))) return app;
    }
    for (const name of [baseAppName(repo), disambiguatedAppName(repo, user.id)]) {
      if (!(await this.deps.store.claimAppName(name, user.id, repo))) continue;
      // An app stored before names were claimed may still hold it.
      const existing = await this.deps.store.getApp(name);
      if (existing && (existing.ownerId !== user.id || existing.repo.toLowerCase() !== repo.toLowerCase())) continue;
      if (existing) return existing;
      const app: App = { name, ownerId: user.id, ownerLogin: user.login, repo, createdAt: now() };
      await this.deps.store.putApp(app);
      return app;
    }
    throw new UserFacingError(`no free app name for ${repo}; every candidate is held by another app`, 409, 'conflict');
  }
}
