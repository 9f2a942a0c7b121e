import type { HookSettingsView } from '@cloudsmith/client';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { NotFoundError, UnauthorizedError, UserFacingError } from '../../domain/errors';
import type { Logger } from '../../lib/logger';
import type { PreviewDeploys } from '../../previews/previewDeploys';
import type { RepoWrites } from '../../ports/repoWrites';
import type { Store } from '../../ports/store';
import type { Authspire } from '../../services/authspire/authspire';
import { callerOf, type TokenGate } from '../auth';
import type { Operations } from '../operations';
import { errorHandler } from '../routes';
import { appName, gitRef } from '../schemas';
import { appView } from '../views';
import type { HookSettings, HookSettingsRepo } from './hookSettings';
import { previewDelete, previewPullRequest, previewPush } from './previewEvents';
import {
  branchOf,
  deletePayload,
  deployPush,
  ignored,
  pullRequestPayload,
  pushPayload,
  type DeliveryOutcome,
} from './pushDeploy';
import { signatureMatches } from './signature';

export interface WebhookDeps {
  store: Store;
  operations: Operations;
  authspire: Authspire;
  gate: TokenGate;
  hooks: HookSettingsRepo;
  previews: PreviewDeploys;
  writes: RepoWrites;
  /** Previews kept per app (config), shown with the settings. */
  maxPreviews: number;
  logger: Logger;
}

/** GitHub's push payloads for big pushes reach a few hundred KiB; GitHub itself caps deliveries at 25 MB. */
const MAX_BODY = '1mb';
const PROCESSED_BY = 'webhooks.github';

const hookQuery = z.object({ app: appName });
const deliveryId = z.string().min(1).max(100);
const settingsBody = z.object({ deployOnPush: z.boolean().optional(), previews: z.boolean().optional() });
const enableBody = settingsBody.extend({ branch: gitRef.optional() }).strict();
const updateBody = settingsBody.extend({ productionBranch: gitRef.optional() }).strict();
const EVENTS = ['push', 'pull_request', 'delete'];

type Handler = (req: Request, res: Response) => Promise<void>;
const handle = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

/**
 * Mounted under /api before the API's token gate: GitHub calls `/webhooks/github` with no token, only a signature
 * made with the app's hook secret. `/apps/:app/hooks` is the owner's (token-gated) way to enable push-to-deploy.
 */
export function webhookRouter(deps: WebhookDeps): Router {
  const router = express.Router();

  router.post(
    '/webhooks/github',
    express.raw({ type: () => true, limit: MAX_BODY }),
    handle(async (req, res) => {
      const { app } = hookQuery.parse(req.query);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const hook = await deps.hooks.get(app);
      // An app without a hook and a wrong signature look the same: nothing about the app is revealed.
      if (!hook || !signatureMatches(hook.secret, raw, req.header('x-hub-signature-256')))
        throw new UnauthorizedError('the X-Hub-Signature-256 signature does not match');
      const event = req.header('x-github-event');
      if (event === 'ping') {
        res.json({ ok: true });
        return;
      }
      if (event === undefined || !EVENTS.includes(event)) {
        res.status(202).json({ deployed: false, reason: `event ${event ?? '(none)'} is not handled` });
        return;
      }
      const delivery = deliveryId.parse(req.header('x-github-delivery'));
      if (!(await deps.store.markProcessed(PROCESSED_BY, delivery))) {
        res.status(200).json({ deployed: false, reason: `delivery ${delivery} was already handled` });
        return;
      }
      const outcome = await dispatch(deps, event, app, hook, JSON.parse(payloadText(req, raw)) as unknown);
      res.status(outcome.status).json(outcome.body);
    }),
  );

  const hooksOf = express.Router({ mergeParams: true });
  hooksOf.use(deps.gate.middleware());
  hooksOf.use(express.json({ limit: '16kb' }));
  hooksOf.post(
    '/',
    handle(async (req, res) => {
      const caller = callerOf(res);
      const app = await deps.operations.app(caller, appName.parse(req.params.app));
      if (app.preview) throw new UserFacingError(`${app.name} is a preview; enable the hook of ${app.preview.of}`);
      const { branch: given, ...settings } = enableBody.parse(req.body ?? {});
      const branch =
        given ?? (await deps.hooks.get(app.name))?.branch ?? (await firstBranch(deps.store, caller.user.id, app.name));
      const hook = await deps.hooks.enable(app.name, {
        ...settings,
        branch,
        ownerId: caller.user.id,
        token: caller.token,
        payloadUrl: payloadUrl(req, app.name),
      });
      res.status(201).json({ ...hookView(deps, req, app.name, hook), secret: hook.secret });
    }),
  );
  hooksOf.get(
    '/',
    handle(async (req, res) => {
      const app = await deps.operations.app(callerOf(res), appName.parse(req.params.app));
      res.json(hookView(deps, req, app.name, await hookOf(deps, app.name)));
    }),
  );
  hooksOf.put(
    '/',
    handle(async (req, res) => {
      const app = await deps.operations.app(callerOf(res), appName.parse(req.params.app));
      const { productionBranch, ...settings } = updateBody.parse(req.body ?? {});
      const hook = await deps.hooks.update(app.name, {
        ...settings,
        ...(productionBranch ? { branch: productionBranch } : {}),
      });
      if (!hook) throw new NotFoundError(`push hook of ${app.name}`);
      res.json(hookView(deps, req, app.name, hook));
    }),
  );
  hooksOf.post(
    '/register',
    handle(async (req, res) => {
      const caller = callerOf(res);
      const app = await deps.operations.app(caller, appName.parse(req.params.app));
      const hook = await hookOf(deps, app.name);
      const url = payloadUrl(req, app.name);
      // The owner's token of this request, which may carry more scopes than the one sealed with the hook.
      const created = await deps.writes.createHook(caller.token, app.repo, {
        url,
        secret: hook.secret,
        events: EVENTS,
      });
      if (created.ok) {
        await deps.hooks.update(app.name, { hookId: created.id });
        res.status(201).json({ registered: true, hookId: created.id });
        return;
      }
      res.json({
        registered: false,
        reason: created.reason,
        manual: { payloadUrl: url, contentType: 'application/json', secret: hook.secret, events: EVENTS },
      });
    }),
  );
  hooksOf.delete(
    '/',
    handle(async (req, res) => {
      const app = await deps.operations.app(callerOf(res), appName.parse(req.params.app));
      await deps.hooks.disable(app.name);
      res.status(204).end();
    }),
  );
  router.use('/apps/:app/hooks', hooksOf);

  const previewsOf = express.Router({ mergeParams: true });
  previewsOf.use(deps.gate.middleware());
  previewsOf.get(
    '/',
    handle(async (req, res) => {
      res.json((await deps.operations.listPreviews(callerOf(res), appName.parse(req.params.app))).map(appView));
    }),
  );
  router.use('/apps/:app/previews', previewsOf);
  router.use('/apps/:app/previews', errorHandler(deps.logger));
  router.use('/webhooks', webhookErrors);
  router.use('/apps/:app/hooks', errorHandler(deps.logger));
  router.use('/webhooks', errorHandler(deps.logger));
  return router;
}

/** GitHub sends either `application/json` or a form with the JSON in `payload`; the signature covers the raw bytes. */
function payloadText(req: Request, raw: Buffer): string {
  const text = raw.toString('utf8');
  if (req.is('application/x-www-form-urlencoded')) return new URLSearchParams(text).get('payload') ?? '';
  return text;
}

/** The production branch is the one the app was first deployed from (its oldest deployment's ref). */
async function firstBranch(store: Store, ownerId: string, app: string): Promise<string> {
  const deployments = await store.listDeployments({ ownerId, app, limit: 200 });
  const first = deployments.at(-1);
  if (!first || /^[0-9a-f]{40}$/.test(first.ref))
    throw new UserFacingError(
      'no branch to watch (the app was first deployed from a commit): pass {"branch": "<name>"}',
    );
  return first.ref;
}

/** Push, pull request and branch deletion: the production deploy or a preview; the payload is validated here. */
function dispatch(
  deps: WebhookDeps,
  event: string,
  app: string,
  hook: HookSettings,
  payload: unknown,
): Promise<DeliveryOutcome> {
  switch (event) {
    case 'push': {
      const push = pushPayload.parse(payload);
      return branchOf(push.ref) === hook.branch
        ? deployPush(deps, app, hook, push)
        : previewPush(deps, app, hook, push);
    }
    case 'pull_request':
      return previewPullRequest(deps, app, hook, pullRequestPayload.parse(payload));
    case 'delete':
      return previewDelete(deps, app, hook, deletePayload.parse(payload));
    default:
      return Promise.resolve(ignored(`event ${event} is not handled`));
  }
}

async function hookOf(deps: WebhookDeps, app: string): Promise<HookSettings> {
  const hook = await deps.hooks.get(app);
  if (!hook) throw new NotFoundError(`push hook of ${app}`);
  return hook;
}

/** The platform's address as GitHub must reach it (behind a loopback proxy, its forwarded host). */
function payloadUrl(req: Request, app: string): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}/api/webhooks/github?app=${app}`;
}

function hookView(deps: WebhookDeps, req: Request, app: string, hook: HookSettings): HookSettingsView {
  return {
    url: payloadUrl(req, app),
    contentType: 'application/json',
    events: EVENTS,
    branch: hook.branch,
    productionBranch: hook.branch,
    deployOnPush: hook.deployOnPush,
    previews: hook.previews,
    maxPreviews: deps.maxPreviews,
    hookId: hook.hookId ?? null,
  };
}

/** Oversized and unparsable deliveries get their own words; the rest is the API's usual error shape. */
function webhookErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const status = (err as { status?: number }).status;
  if (status === 413) {
    res.status(413).json({ error: { code: 'payload_too_large', message: 'webhook deliveries are limited to 1 MiB' } });
    return;
  }
  if (err instanceof SyntaxError) {
    res.status(400).json({ error: { code: 'invalid_json', message: 'the payload is not valid JSON' } });
    return;
  }
  next(err);
}
