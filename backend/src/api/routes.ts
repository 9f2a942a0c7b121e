import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z, ZodError } from 'zod';
import { errorMessage, UserFacingError } from '../domain/errors';
import type { Store } from '../ports/store';
import type { Logger } from '../lib/logger';
import { callerOf, type TokenGate } from './auth';
import type { Operations } from './operations';
import { appName, deployBody, deploymentId, envBody, listQuery, rollbackBody, sinceQuery } from './schemas';
import { appView, deploymentView, logView } from './views';
import { sendNdjsonPages } from './ndjson';
import type { App } from '../domain/deployment';
import { appHealth } from '../metrics/appHealth';
import { telemetryRouter, type TelemetryDeps } from '../runtimeLogs/routes';

export interface RouteDeps {
  operations: Operations;
  gate: TokenGate;
  store: Store;
  logger: Logger;
  /** The metrics view the composition root chose for this mode, for app health and GET /apps/:app/metrics. */
  telemetry?: Pick<TelemetryDeps, 'metrics' | 'sample'>;
}

type Handler = (req: Request, res: Response) => Promise<void>;
const handle = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);
const param = (req: Request, name: string, schema: z.ZodType<string>) => schema.parse(req.params[name]);

export function apiRouter(deps: RouteDeps): Router {
  const { operations: ops } = deps;
  const router = express.Router();
  const withHealth = async (app: App) => ({
    ...appView(app),
    health: await appHealth(deps.store, deps.telemetry?.metrics, app),
  });
  // Who is calling is settled before a byte of the body is read: an anonymous client cannot hold the parser.
  router.use(deps.gate.middleware());
  router.use(express.json({ limit: '256kb' }));

  router.post(
    '/deployments',
    handle(async (req, res) => {
      const deployment = await ops.deploy(callerOf(res), deployBody.parse(req.body));
      res.status(202).location(`/api/deployments/${deployment.id}`).json(deploymentView(deployment));
    }),
  );

  router.get(
    '/deployments',
    handle(async (req, res) => {
      const deployments = await ops.listDeployments(callerOf(res), listQuery.parse(req.query));
      res.json(deployments.map(deploymentView));
    }),
  );

  router.get(
    '/deployments/:id',
    handle(async (req, res) => {
      res.json(deploymentView(await ops.deployment(callerOf(res), param(req, 'id', deploymentId))));
    }),
  );

  router.get(
    '/deployments/:id/logs',
    handle(async (req, res) => {
      const deployment = await ops.deployment(callerOf(res), param(req, 'id', deploymentId));
      const since = sinceQuery.parse(req.query).since ?? 0;
      await sendNdjsonPages(res, since, (after, limit) => deps.store.readLogs(deployment.id, after, limit), logView);
    }),
  );

  router.post(
    '/deployments/:id/cancel',
    handle(async (req, res) => {
      res.json(deploymentView(await ops.cancel(callerOf(res), param(req, 'id', deploymentId))));
    }),
  );

  router.post(
    '/deployments/:id/redeploy',
    handle(async (req, res) => {
      const deployment = await ops.redeploy(callerOf(res), param(req, 'id', deploymentId));
      res.status(202).location(`/api/deployments/${deployment.id}`).json(deploymentView(deployment));
    }),
  );

  router.get(
    '/apps',
    handle(async (_req, res) => {
      const apps = await ops.listApps(callerOf(res));
      res.json(await Promise.all(apps.map((app) => withHealth(app))));
    }),
  );

  router.get(
    '/apps/:app',
    handle(async (req, res) => {
      res.json(await withHealth(await ops.app(callerOf(res), param(req, 'app', appName))));
    }),
  );

  router.delete(
    '/apps/:app',
    handle(async (req, res) => {
      await ops.removeApp(callerOf(res), param(req, 'app', appName));
      res.status(204).end();
    }),
  );

  router.post(
    '/apps/:app/rollback',
    handle(async (req, res) => {
      const body = rollbackBody.parse(req.body);
      const deployment = await ops.rollback(callerOf(res), param(req, 'app', appName), body.deploymentId);
      res.status(202).location(`/api/deployments/${deployment.id}`).json(deploymentView(deployment));
    }),
  );

  router.get(
    '/apps/:app/env',
    handle(async (req, res) => {
      res.json({ env: await ops.env(callerOf(res), param(req, 'app', appName)) });
    }),
  );

  router.put(
    '/apps/:app/env',
    handle(async (req, res) => {
      const body = envBody.parse(req.body);
      res.json({ env: await ops.putEnv(callerOf(res), param(req, 'app', appName), body.env) });
    }),
  );

  router.use(telemetryRouter({ operations: ops, store: deps.store, ...deps.telemetry }));

  router.use((_req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such API route' } });
  });
  router.use(errorHandler(deps.logger));
  return router;
}

/** Every error becomes `{error: {code, message}}`; only unexpected ones are logged, and never with request bodies. */
export function errorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ZodError) {
      const message = err.issues
        .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
        .join('; ');
      res.status(400).json({ error: { code: 'invalid_request', message } });
      return;
    }
    if (err instanceof UserFacingError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message } });
      return;
    }
    const status = (err as { status?: number; type?: string }).status;
    if (status === 413) {
      res.status(413).json({ error: { code: 'payload_too_large', message: 'request body is larger than 256 KiB' } });
      return;
    }
    if (status === 400) {
      res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
      return;
    }
    logger.error('request failed', { error: errorMessage(err) });
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
