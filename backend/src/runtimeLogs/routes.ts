import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { callerOf } from '../api/auth';
import { sendNdjsonPages } from '../api/ndjson';
import type { Operations } from '../api/operations';
import { appName, sinceQuery } from '../api/schemas';
import type { Store } from '../ports/store';
import { appHealth } from '../metrics/appHealth';
import type { AppMetricsView } from '../ports/metrics';
import { runtimeLineView } from './runtimeLogHub';

export interface TelemetryDeps {
  operations: Operations;
  store: Store;
  /** The apps' metrics: this process's own registry (embedded), or the reports of other processes (distributed). */
  metrics?: AppMetricsView;
  /** Takes a fresh memory reading of the live apps before metrics are answered (when the runtime runs here). */
  sample?: () => Promise<void>;
}

type Handler = (req: Request, res: Response) => Promise<void>;
const handle = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch(next);
};

/** Runtime logs and metrics of one app, owner-only (mounted behind the API's token gate). */
export function telemetryRouter(deps: TelemetryDeps): Router {
  const router = express.Router();

  router.get(
    '/apps/:app/runtime-logs',
    handle(async (req, res) => {
      const app = await deps.operations.app(callerOf(res), appName.parse(req.params.app));
      const since = sinceQuery.parse(req.query).since ?? 0;
      await sendNdjsonPages(
        res,
        since,
        (after, limit) => deps.store.readRuntimeLogs(app.name, after, limit),
        runtimeLineView,
      );
    }),
  );

  router.get(
    '/apps/:app/metrics',
    handle(async (req, res) => {
      const app = await deps.operations.app(callerOf(res), appName.parse(req.params.app));
      await deps.sample?.().catch(() => undefined);
      const snapshot = deps.metrics?.snapshot(app.name);
      res.json({
        app: app.name,
        windowSeconds: snapshot?.windowSeconds ?? 3600,
        bucketSeconds: snapshot?.bucketSeconds ?? 60,
        buckets: snapshot?.buckets ?? [],
        health: await appHealth(deps.store, deps.metrics, app),
      });
    }),
  );

  return router;
}
